import type { Command } from 'commander';
import { contextOf, parseIntOption, printJson, sleep } from '../context.ts';
import type { CliContext } from '../context.ts';
import { formatClock, formatDuration, truncate } from '../format.ts';
import { ConnectionError } from '../http-client.ts';
import type { QueueStatus, ScalingDecision, WorkerInfo } from '../http-client.ts';
import { renderDecisions } from './decisions.ts';
import { renderQueues } from './queues.ts';
import { renderWorkers } from './workers.ts';

/** Everything one frame of `gaffer watch` shows. */
export interface WatchData {
  url: string;
  now: number;
  intervalMs: number;
  queues: QueueStatus[];
  workers: WorkerInfo[];
  decisions: ScalingDecision[];
  /** Set when the last refresh failed; the rest is the last good data. */
  error?: string;
}

/** Workers listed before "… N more". */
const MAX_WORKER_ROWS = 15;
const BAR_WIDTH = 20;

export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description('live terminal view: queues, workers, scaling decisions (Ctrl-C to quit)')
    .option('-i, --interval <ms>', 'refresh interval', parseIntOption(100, 3_600_000), 1000)
    .option('--once', 'print one frame and exit (no screen clearing)')
    .action(async (opts: { interval: number; once?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (opts.once) {
        const data = await fetchWatch(ctx, opts.interval);
        if (ctx.json) return printJson(ctx, data);
        return ctx.out(renderWatch(data, process.stdout.columns || 120));
      }
      await loop(ctx, opts.interval);
    });
}

async function fetchWatch(ctx: CliContext, intervalMs: number): Promise<WatchData> {
  const [queues, workers, decisions] = await Promise.all([
    ctx.client.queues(),
    ctx.client.workers(),
    ctx.client.decisions({ limit: 5 }),
  ]);
  return { url: ctx.client.baseUrl, now: Date.now(), intervalMs, queues, workers, decisions };
}

/** Redraws until Ctrl-C; keeps going (showing the error) while the server is unreachable. */
async function loop(ctx: CliContext, intervalMs: number): Promise<void> {
  const stop = new AbortController();
  const tty = process.stdout.isTTY;
  const quit = () => stop.abort();
  process.once('SIGINT', quit);
  process.once('SIGTERM', quit);
  if (tty) process.stdout.write('\x1b[?25l'); // hide the cursor
  let last: WatchData = {
    url: ctx.client.baseUrl,
    now: Date.now(),
    intervalMs,
    queues: [],
    workers: [],
    decisions: [],
  };
  try {
    while (!stop.signal.aborted) {
      try {
        last = await fetchWatch(ctx, intervalMs);
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        const message = err instanceof ConnectionError ? err.message : `error: ${err.message}`;
        last = { ...last, now: Date.now(), error: message };
      }
      const frame = ctx.json
        ? JSON.stringify(last)
        : renderWatch(last, process.stdout.columns || 120);
      process.stdout.write(tty && !ctx.json ? `\x1b[H\x1b[2J${frame}\n` : `${frame}\n`);
      await sleep(intervalMs, stop.signal);
    }
  } finally {
    if (tty) process.stdout.write('\x1b[?25h\n');
    process.off('SIGINT', quit);
    process.off('SIGTERM', quit);
  }
}

/** One frame of the watch view, every line at most `width` characters. Pure. */
export function renderWatch(data: WatchData, width: number): string {
  const w = Math.max(20, width);
  const lines: string[] = [];
  lines.push(
    `gaffer  ${data.url}  ${formatClock(data.now)}  (every ${formatDuration(data.intervalMs)}, Ctrl-C quits)`,
  );
  if (data.error) lines.push(`!! ${data.error} — showing the last data`);
  lines.push('', section('QUEUES', totalsLine(data.queues)));
  lines.push(renderQueues(data.queues));
  if (data.queues.length > 0) lines.push('', ...backlogBars(data.queues));
  const live = data.workers.filter((x) => x.state !== 'stopped');
  lines.push('', section('WORKERS', workerCounts(live)));
  lines.push(renderWorkers(live.slice(0, MAX_WORKER_ROWS), data.now));
  if (live.length > MAX_WORKER_ROWS) lines.push(`… ${live.length - MAX_WORKER_ROWS} more`);
  lines.push('', section('LAST SCALING DECISIONS', ''));
  lines.push(renderDecisions(data.decisions.slice(0, 5), w));
  return lines
    .join('\n')
    .split('\n')
    .map((l) => truncate(l, w))
    .join('\n');
}

function section(title: string, detail: string): string {
  return detail ? `${title}  (${detail})` : title;
}

function totalsLine(queues: QueueStatus[]): string {
  const ready = queues.reduce((n, q) => n + q.ready, 0);
  const inFlight = queues.reduce((n, q) => n + q.inFlight, 0);
  return `${ready} ready, ${inFlight} in flight`;
}

function workerCounts(workers: WorkerInfo[]): string {
  const by = { starting: 0, idle: 0, busy: 0, draining: 0 };
  for (const x of workers) if (x.state !== 'stopped') by[x.state]++;
  return `${workers.length} live: ${by.starting} starting, ${by.idle} idle, ${by.busy} busy, ${by.draining} draining`;
}

/** A bar per type: ready (#) and in flight (=), scaled to the largest backlog. */
function backlogBars(queues: QueueStatus[]): string[] {
  const max = Math.max(1, ...queues.map((q) => q.ready + q.inFlight));
  const name = Math.max(...queues.map((q) => q.type.length));
  return queues.map((q) => {
    const ready = Math.round((q.ready / max) * BAR_WIDTH);
    const flight = Math.min(BAR_WIDTH - ready, Math.round((q.inFlight / max) * BAR_WIDTH));
    const bar = '#'.repeat(ready) + '='.repeat(flight);
    return `${q.type.padEnd(name)}  |${bar.padEnd(BAR_WIDTH)}|  ${q.ready} ready, ${q.inFlight} in flight`;
  });
}
