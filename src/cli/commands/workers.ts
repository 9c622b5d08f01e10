import type { Command } from 'commander';
import { contextOf, printJson } from '../context.ts';
import { formatAgo, table } from '../format.ts';
import type { WorkerInfo } from '../http-client.ts';

export function registerWorkers(program: Command): void {
  program
    .command('workers')
    .description('the workers: state, jobs held, age')
    .option('-t, --type <type>', 'only this job type')
    .action(async (opts: { type?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const workers = (await ctx.client.workers()).filter(
        (w) => !opts.type || w.type === opts.type,
      );
      if (ctx.json) return printJson(ctx, { workers });
      ctx.out(renderWorkers(workers, Date.now()));
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
