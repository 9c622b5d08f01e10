import { type Command, InvalidArgumentError } from 'commander';
import { createClient, type GafferClient } from '../client/index.ts';
import {
  DEFAULT_GRPC,
  lazyGrpcJobsApi,
  MODES,
  restJobsApi,
  type JobsApi,
  type Mode,
} from './jobs-api.ts';

/** What every command needs: the client, the output mode and where to write. */
export interface CliContext {
  client: GafferClient;
  /** The job commands' API: REST over `client`, or gRPC with `--mode grpc` (jobs-api.ts). */
  jobs: JobsApi;
  /** `--json`: one JSON document on stdout (NDJSON for the commands that stream). */
  json: boolean;
  out(text: string): void;
  err(text: string): void;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

interface Globals {
  url?: string;
  json?: boolean;
  apiKey?: string;
  mode?: string;
  grpc?: string;
}

/** The base URL from --url, else $GAFFER_URL, else the local default. */
export function urlOf(cmd: Command): string {
  return cmd.optsWithGlobals<Globals>().url || process.env['GAFFER_URL'] || DEFAULT_URL;
}

/** `--mode`, else $GAFFER_MODE, else rest; a usage error for anything but rest and grpc. */
export function modeOf(cmd: Command): Mode {
  const mode = cmd.optsWithGlobals<Globals>().mode || process.env['GAFFER_MODE'] || 'rest';
  if (!(MODES as readonly string[]).includes(mode)) {
    throw new UsageError(
      `mode must be ${MODES.join(' or ')}, not "${mode}" (--mode / GAFFER_MODE)`,
    );
  }
  return mode as Mode;
}

/** The gRPC address from --grpc, else $GAFFER_GRPC, else the local default. */
export function grpcAddressOf(cmd: Command): string {
  return cmd.optsWithGlobals<Globals>().grpc || process.env['GAFFER_GRPC'] || DEFAULT_GRPC;
}

/** Builds the context from the global options of `cmd`'s program. */
export function contextOf(cmd: Command): CliContext {
  const globals = cmd.optsWithGlobals<Globals>();
  // The key is read from the environment here, not as the option's default, so help never shows it.
  const apiKey = globals.apiKey || process.env['GAFFER_API_KEY'] || undefined;
  const client = createClient({ url: urlOf(cmd), ...(apiKey ? { apiKey } : {}) });
  return {
    client,
    jobs:
      modeOf(cmd) === 'grpc'
        ? lazyGrpcJobsApi({ address: grpcAddressOf(cmd), ...(apiKey ? { apiKey } : {}) })
        : restJobsApi(client),
    json: Boolean(globals.json),
    out: (text) => void process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
    err: (text) => void process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
  };
}

/** Prints `value` as JSON (pretty on a terminal, one line in a pipe). */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.out(JSON.stringify(value, null, process.stdout.isTTY ? 2 : undefined));
}

// ---- option parsers (throwing commander's InvalidArgumentError means exit 2)

export function parseIntOption(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgument(`must be an integer from ${min} to ${max}`);
    }
    return n;
  };
}

/** `90`, `90s`, `5m`, `1h`, `500ms` → milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const ms = m ? Number(m[1]) * unit[m[2] ?? 's']! : NaN;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new InvalidArgument('must be a duration like 90, 90s, 5m, 1h or 500ms');
  }
  return ms;
}

/** A number, or a priority name: `low`, `normal`, `high`. */
export function parsePriority(value: string): number | string {
  const n = Number(value);
  if (value.trim() !== '' && Number.isFinite(n)) return n;
  if (!/^[a-z]{1,20}$/i.test(value)) throw new InvalidArgument('must be a number or a word');
  return value;
}

/** `k=v`, repeatable; the value is JSON when it parses (`rows=100`, `latency_sensitive=true`). */
export function collectAttr(
  value: string,
  previous: Record<string, unknown> = {},
): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgument(`expected key=value, got "${value}"`);
  return { ...previous, [value.slice(0, eq)]: parseLoose(value.slice(eq + 1)) };
}

export function parseLoose(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** Thrown by option parsers; commander turns it into a usage error. */
export const InvalidArgument = InvalidArgumentError;

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
