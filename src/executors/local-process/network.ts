import type { StartRequest } from '../executor.ts';
import { moduleFile } from '../../paths.ts';

/**
 * The network transport of the local-process executor: a worker is started as `gaffer worker`, a
 * process with no IPC channel that connects back to gaffer's API over a WebSocket
 * (`GET /v1/workers/connect`) and names itself with the worker id gaffer gave it. It knows only
 * gaffer's address, the worker token and the broker's address — the shape a Kubernetes pod has.
 */

export interface NetworkTransport {
  /** gaffer's API address as workers reach it; resolves once gaffer listens (or at once). */
  gafferUrl(): Promise<string>;
  /** The worker token; passed in the environment (readable by the owner only), never in argv. */
  token: string;
  /** Values that must never reach a worker (the store's URL, its password): variables holding one are dropped. */
  secrets: readonly string[];
}

const CLI_ENTRY = moduleFile('cli/main');

/** `gaffer --url URL worker --type T --id ID [--concurrency N] [--broker B] [--job J]`. */
export function networkArgs(req: StartRequest, gafferUrl: string): string[] {
  const { spec } = req;
  const args = [CLI_ENTRY, '--url', gafferUrl, 'worker', '--type', spec.type, '--id', req.workerId];
  args.push('--concurrency', String(spec.concurrency));
  if (spec.broker) args.push('--broker', spec.broker.url);
  if (req.jobId) args.push('--job', req.jobId);
  return args;
}

/**
 * The worker's environment: gaffer's own minus everything that could reach the store — every
 * `GAFFER_*` variable (gaffer's settings), libpq's `PG*` variables, `DATABASE_URL`, and any
 * variable whose value contains one of `secrets` — plus `extra` and the worker token.
 */
export function networkEnv(
  base: NodeJS.ProcessEnv,
  transport: NetworkTransport,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries({ ...base, ...extra })) {
    if (value === undefined || storeRelated(name, value, transport.secrets)) continue;
    env[name] = value;
  }
  env['GAFFER_WORKER_TOKEN'] = transport.token;
  return env;
}

function storeRelated(name: string, value: string, secrets: readonly string[]): boolean {
  if (/^(GAFFER_|PG)/.test(name) || name === 'DATABASE_URL') return true;
  return secrets.some((s) => s.length > 0 && value.includes(s));
}

/** The store's URL and, when it has one, its password: what a worker's environment must not hold. */
export function storeSecrets(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? [url, password] : [url];
  } catch {
    return [url];
  }
}
