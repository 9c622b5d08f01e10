import { type Command, InvalidArgumentError } from 'commander';
import { GafferClient } from './http-client.ts';

/** What every command needs: the client, the output mode and where to write. */
export interface CliContext {
  client: GafferClient;
  /** `--json`: machine output on stdout. */
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

/** Builds the context from the global options of `cmd`'s program. */
export function contextOf(cmd: Command): CliContext {
  const globals = cmd.optsWithGlobals<{ url?: string; json?: boolean }>();
  return {
    client: new GafferClient(globals.url ?? process.env['GAFFER_URL'] ?? DEFAULT_URL),
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

/** A number, or a word like `high` (seed 002's priorities). */
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
