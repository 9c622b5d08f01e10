import type { Command } from 'commander';
import { GafferConnectionError, TERMINAL, type QueueStatus } from '../../client/index.ts';
import { contextOf, parseIntOption, printJson, sleep, type CliContext } from '../context.ts';
import { renderTop, type Throughput, type TopData } from './top-frame.ts';

export {
  renderTop,
  renderWatch,
  type TopData,
  type Throughput,
  type WatchData,
} from './top-frame.ts';

export function registerTop(program: Command): void {
  program
    .command('top')
    .alias('watch')
    .description('live dashboard: throughput, queues, workers, scaling decisions (q quits, t type)')
    .option('-i, --interval <ms>', 'refresh interval', parseIntOption(100, 3_600_000), 1000)
    .option('-t, --type <type>', 'start with this type selected')
    .option('--once', 'print one frame and exit (no screen handling)')
    .action(async (opts: { interval: number; once?: boolean; type?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (opts.once) {
        const data = { ...(await fetchTop(ctx, opts.interval)), filter: opts.type ?? null };
        if (ctx.json) return printJson(ctx, data);
        return ctx.out(renderTop(data, process.stdout.columns || 120, terminalRows()));
      }
      await loop(ctx, opts.interval, opts.type ?? null);
    });
}

async function fetchTop(ctx: CliContext, intervalMs: number): Promise<TopData> {
  const [queues, workers, decisions] = await Promise.all([
    ctx.client.queues(),
    ctx.client.workers.list(),
    ctx.client.scaling.decisions({ limit: 20 }),
  ]);
  return { url: ctx.client.url, now: Date.now(), intervalMs, queues, workers, decisions };
}

/**
 * Jobs ended per minute per type between two reads: the growth of the terminal-state counts. A
 * count that shrank (old jobs purged by retention) counts as 0, not as negative throughput.
 */
export function throughputOf(before: TopData, after: TopData): Throughput {
  const minutes = (after.now - before.now) / 60_000;
  const out: Throughput = {};
  if (minutes <= 0) return out;
  const prev = new Map(before.queues.map((q) => [q.type, q]));
  for (const q of after.queues) {
    const p = prev.get(q.type);
    if (!p) continue;
    const ok = Math.max(0, (q.byState.succeeded ?? 0) - (p.byState.succeeded ?? 0));
    const ended = Math.max(0, endedOf(q) - endedOf(p));
    out[q.type] = { succeeded: ok / minutes, unsuccessful: Math.max(0, ended - ok) / minutes };
  }
  return out;
}

function endedOf(q: QueueStatus): number {
  let n = 0;
  for (const s of TERMINAL) n += q.byState[s] ?? 0;
  return n;
}

/** After `current`, the next type `t` selects: every type, then each type in turn. */
export function nextFilter(current: string | null, types: string[]): string | null {
  if (types.length === 0) return null;
  if (current === null) return types[0]!;
  const i = types.indexOf(current);
  return i < 0 || i === types.length - 1 ? null : types[i + 1]!;
}

/**
 * A frame as terminal output that redraws in place without flicker: the cursor goes home and each
 * line overwrites the last frame's, clearing only what is left to its right and below; the screen
 * is never blanked between frames. At most `rows` lines, so the terminal never scrolls.
 */
export function frameToAnsi(frame: string, rows: number): string {
  const lines = frame.split('\n').slice(0, Math.max(1, rows - 1));
  return `\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\x1b[J`;
}

/** Redraws until q, Ctrl-C or SIGTERM; keeps going (showing the error) while gaffer is down. */
async function loop(ctx: CliContext, intervalMs: number, initial: string | null): Promise<void> {
  const tty = Boolean(process.stdout.isTTY) && !ctx.json;
  const stop = new AbortController();
  let filter = initial;
  let last: TopData = {
    url: ctx.client.url,
    now: Date.now(),
    intervalMs,
    queues: [],
    workers: [],
    decisions: [],
  };
  let previous: TopData | null = null;
  const draw = () => {
    const data = { ...last, filter };
    // --json streams one JSON document per frame (NDJSON); a pipe gets plain frames.
    if (ctx.json) return void process.stdout.write(JSON.stringify(data) + '\n');
    const rows = process.stdout.rows || 40;
    const frame = renderTop(data, process.stdout.columns || 120, tty ? rows : undefined);
    process.stdout.write(tty ? frameToAnsi(frame, rows) : `${frame}\n\n`);
  };
  const keys = tty ? listenKeys() : null;
  keys?.on((key) => {
    if (key === 'q' || key === '\x03') stop.abort();
    if (key === 't') {
      filter = nextFilter(
        filter,
        last.queues.map((q) => q.type),
      );
      draw();
    }
  });
  const quit = () => stop.abort();
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
  // The alternate screen keeps the user's scrollback intact; the cursor is hidden while drawing.
  if (tty) process.stdout.write('\x1b[?1049h\x1b[?25l');
  try {
    while (!stop.signal.aborted) {
      try {
        const fresh = await fetchTop(ctx, intervalMs);
        last = { ...fresh, throughput: previous ? throughputOf(previous, fresh) : null };
        previous = fresh;
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        const message =
          err instanceof GafferConnectionError ? err.message : `error: ${err.message}`;
        last = { ...last, now: Date.now(), error: message };
      }
      draw();
      await sleep(intervalMs, stop.signal);
    }
  } finally {
    keys?.close();
    if (tty) process.stdout.write('\x1b[?25h\x1b[?1049l');
    process.off('SIGINT', quit);
    process.off('SIGTERM', quit);
  }
}

/** Single keys from a raw-mode terminal. */
function listenKeys() {
  const stdin = process.stdin;
  if (!stdin.isTTY) return null;
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  let handler: (key: string) => void = () => {};
  const onData = (data: string) => {
    for (const key of data) handler(key);
  };
  stdin.on('data', onData);
  return {
    on(h: (key: string) => void) {
      handler = h;
    },
    close() {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    },
  };
}

/** The terminal's height, when stdout is one; a pipe has none (every section in full). */
function terminalRows(): number | undefined {
  return process.stdout.isTTY ? process.stdout.rows || undefined : undefined;
}
