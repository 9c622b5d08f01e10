import type { Command } from 'commander';
import type { WorkerEvent, WorkerInfo } from '../../client/index.ts';
import { contextOf, parseIntOption, printJson } from '../context.ts';
import { formatAgo, formatClock, table } from '../format.ts';

/** `gaffer workers` (the live workers) and `gaffer workers events` (their recorded lifecycle). */
export function registerWorkers(program: Command): void {
  const workers = program
    .command('workers')
    .description('the workers: state, jobs held, age; and their lifecycle events');
  workers
    .command('list', { isDefault: true })
    .description('the live workers: state, jobs held, age')
    .option('-t, --type <type>', 'only this job type')
    .action(async (opts: { type?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const list = (await ctx.client.workers.list()).filter(
        (w) => !opts.type || w.type === opts.type,
      );
      if (ctx.json) return printJson(ctx, { workers: list });
      ctx.out(renderWorkers(list, Date.now()));
    });
  workers
    .command('events')
    .description('recent worker lifecycle events: started, ready, draining, stopped, crashed')
    .option('-t, --type <type>', 'only this job type')
    .option('-n, --limit <n>', 'at most this many', parseIntOption(1, 1000), 50)
    .action(async (opts: { type?: string; limit: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const events = await ctx.client.workers.events(opts);
      if (ctx.json) return printJson(ctx, { events });
      ctx.out(renderWorkerEvents(events));
    });
}

export function renderWorkerEvents(events: WorkerEvent[]): string {
  if (events.length === 0) return '(no worker events)';
  const rows = events.map((e) => [
    formatClock(e.at),
    e.workerId,
    e.type,
    e.event,
    String(e.active),
    e.detail ?? '',
  ]);
  return table(['TIME', 'WORKER', 'TYPE', 'EVENT', 'JOBS', 'DETAIL'], rows, {
    align: ['left', 'left', 'left', 'left', 'right', 'left'],
  });
}

export function renderWorkers(workers: WorkerInfo[], now: number, width?: number): string {
  if (workers.length === 0) return '(no workers)';
  const rows = workers.map((w) => [
    w.id,
    w.type,
    w.mode,
    w.state,
    `${w.active}/${w.concurrency}`,
    w.pid === null ? '-' : String(w.pid),
    formatAgo(w.startedAt, now),
    w.state === 'idle' ? formatAgo(w.idleSince, now) : '-',
  ]);
  return table(['ID', 'TYPE', 'MODE', 'STATE', 'JOBS', 'PID', 'STARTED', 'IDLE SINCE'], rows, {
    align: ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right'],
    ...(width ? { maxWidth: width } : {}),
  });
}
