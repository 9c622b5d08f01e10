import type { QueueStatus, ScalingDecision, WorkerInfo } from '../../client/index.ts';
import { formatClock, formatDuration, truncate } from '../format.ts';
import { renderDecisions } from './decisions.ts';
import { renderQueues } from './queues.ts';
import { renderWorkers } from './workers.ts';

/** Per type: jobs ended per minute, from two successive reads of the queues. */
export type Throughput = Record<string, { succeeded: number; unsuccessful: number }>;

/** Everything one frame of `gaffer top` shows. */
export interface TopData {
  url: string;
  now: number;
  intervalMs: number;
  queues: QueueStatus[];
  workers: WorkerInfo[];
  decisions: ScalingDecision[];
  /** Null until two reads exist to compare. */
  throughput?: Throughput | null;
  /** The type `t` selected; absent: every type. */
  filter?: string | null;
  /** Set when the last refresh failed; the rest is the last good data. */
  error?: string;
}

/** @deprecated the view's old name; `TopData`. */
export type WatchData = TopData;

/** Workers listed before "… N more". */
const MAX_WORKER_ROWS = 15;
const MAX_DECISIONS = 5;
const BAR_WIDTH = 20;
/** A scaling decision this recent keeps its type on screen. */
const RECENT_DECISION_MS = 60_000;

/**
 * The types with nothing to show: no job ready, delayed or in flight, no live worker, no job ended
 * since the last read and no scaling decision in the last minute. `gaffer top` folds them into one
 * line, so that on a small terminal the workers and decisions of the busy ones stay in view.
 */
export function idleTypes(data: TopData): Set<string> {
  const working = new Set(data.workers.filter((w) => w.state !== 'stopped').map((w) => w.type));
  const decided = new Set(
    data.decisions.filter((d) => data.now - d.at < RECENT_DECISION_MS).map((d) => d.type),
  );
  const idle = new Set<string>();
  for (const q of data.queues) {
    const w = q.workers;
    const ended = data.throughput?.[q.type];
    if (
      q.ready === 0 &&
      q.inFlight === 0 &&
      (q.delayed ?? 0) === 0 &&
      w.starting + w.idle + w.busy + w.draining === 0 &&
      !working.has(q.type) &&
      !(ended && ended.succeeded + ended.unsuccessful > 0) &&
      !decided.has(q.type)
    ) {
      idle.add(q.type);
    }
  }
  return idle;
}

/**
 * One frame of the dashboard, every line at most `width` characters. Pure. Idle types
 * (idleTypes) fold into one line unless `t` selected one. With a `height` (a terminal's rows) the
 * frame keeps to `height − 1` lines (frameToAnsi's limit), so the workers and the decisions are
 * always on screen: the backlog bars go first, then worker rows (counted in "… N more") and older
 * decisions. Without one (a pipe, `--once`) every section is in full.
 */
export function renderTop(data: TopData, width: number, height?: number): string {
  const w = Math.max(20, width);
  const only = <T extends { type: string }>(xs: T[]) =>
    data.filter ? xs.filter((x) => x.type === data.filter) : xs;
  const queues = only(data.queues);
  const folded = data.filter ? new Set<string>() : idleTypes(data);
  const shown = queues.filter((q) => !folded.has(q.type));
  const live = only(data.workers).filter((x) => x.state !== 'stopped');
  const decisions = decisionBlocks(only(data.decisions).slice(0, MAX_DECISIONS), w);

  const fixed = [
    `gaffer  ${data.url}  ${formatClock(data.now)}  (every ${formatDuration(data.intervalMs)}; q quits, t type: ${data.filter ?? 'all'})`,
    ...(data.error ? [`!! ${data.error} — showing the last data`] : []),
    '',
    section('THROUGHPUT', 'jobs ended per minute; oldest waiting'),
    ...throughputLines(queues, shown, data.throughput ?? null, data.now),
    '',
    section('QUEUES', totalsLine(queues)),
    ...(shown.length > 0 || folded.size === 0 ? renderQueues(shown).split('\n') : []),
    ...(folded.size > 0 ? [idleLine(queues, folded)] : []),
  ];
  const bars = shown.length > 0 ? ['', ...backlogBars(shown)] : [];
  const heads = 4; // a blank line and a title above the workers, and above the decisions
  const fit = fitToHeight(
    height === undefined ? Infinity : height - 1 - fixed.length - heads,
    bars.length,
    live.length,
    decisions.map((d) => d.length),
  );

  const lines = [...fixed, ...(fit.bars ? bars : [])];
  lines.push('', section('WORKERS', workerCounts(live)));
  lines.push(renderWorkers(live.slice(0, fit.workers), data.now));
  if (live.length > fit.workers) lines.push(`… ${live.length - fit.workers} more`);
  lines.push('', section('LAST SCALING DECISIONS', ''));
  if (decisions.length === 0) lines.push('(no scaling decisions yet)');
  for (const block of decisions.slice(0, fit.decisions)) lines.push(...block);
  return lines
    .join('\n')
    .split('\n')
    .map((l) => truncate(l, w))
    .join('\n');
}

/** @deprecated the view's old name; `renderTop`. */
export const renderWatch = renderTop;

/**
 * How much of the flexible sections fits in `room` lines: the bars if everything fits with them;
 * else at least one decision and one worker row, then as many worker rows (up to 15) as leave room for the decisions, then more decisions.
 */
export function fitToHeight(
  room: number,
  barLines: number,
  workers: number,
  decisionLines: number[],
): { bars: boolean; workers: number; decisions: number } {
  const rows = Math.min(MAX_WORKER_ROWS, workers);
  // The table's header and rule, its rows, and "… N more" when some are left out.
  const workerLines = (n: number) =>
    workers === 0 ? 1 : (n > 0 ? 2 + n : 0) + (n < workers ? 1 : 0);
  const decisionsIn = (k: number) =>
    Math.max(
      1,
      decisionLines.slice(0, k).reduce((a, b) => a + b, 0),
    );
  const all = decisionLines.length;
  if (workerLines(rows) + decisionsIn(all) + barLines <= room) {
    return { bars: true, workers: rows, decisions: all };
  }
  let k = Math.min(1, all);
  let n = Math.min(1, rows);
  while (n < rows && workerLines(n + 1) + decisionsIn(k) <= room) n++;
  while (k < all && workerLines(n) + decisionsIn(k + 1) <= room) k++;
  return { bars: false, workers: n, decisions: k };
}

/** The decisions as rendered by `gaffer decisions`, one block of lines per decision. */
function decisionBlocks(decisions: ScalingDecision[], width: number): string[][] {
  if (decisions.length === 0) return [];
  const blocks: string[][] = [];
  for (const line of renderDecisions(decisions, width).split('\n')) {
    if (line.startsWith(' ')) blocks.at(-1)?.push(line);
    else blocks.push([line]);
  }
  return blocks;
}

function idleLine(queues: QueueStatus[], folded: Set<string>): string {
  const names = queues.filter((q) => folded.has(q.type)).map((q) => q.type);
  return `${names.length} idle type${names.length === 1 ? '' : 's'}: ${names.join(', ')}`;
}

function throughputLines(
  all: QueueStatus[],
  queues: QueueStatus[],
  tp: Throughput | null,
  now: number,
): string[] {
  if (all.length === 0) return ['(no job types configured)'];
  if (queues.length === 0) return ['(every type is idle)'];
  const name = Math.max(4, ...queues.map((q) => q.type.length));
  const rate = (n: number | undefined) => (n === undefined ? '…' : n.toFixed(1));
  return queues.map((q) => {
    const t = tp?.[q.type];
    const oldest = q.oldestReadyAt === null ? '-' : formatDuration(now - q.oldestReadyAt);
    return `${q.type.padEnd(name)}  ${rate(t?.succeeded).padStart(7)} ok/min  ${rate(t?.unsuccessful).padStart(7)} failed/min  oldest waiting ${oldest}`;
  });
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
