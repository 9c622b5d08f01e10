import type { Command } from 'commander';
import { contextOf, printJson } from '../context.ts';
import { table } from '../format.ts';
import type { QueueStatus } from '../../client/index.ts';

export function registerQueues(program: Command): void {
  program
    .command('queues')
    .description('per job type: backlog, workers by state, desired and min–max workers')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const queues = await ctx.client.queues();
      if (ctx.json) return printJson(ctx, { queues });
      ctx.out(renderQueues(queues));
    });
}

export function renderQueues(queues: QueueStatus[], width?: number): string {
  if (queues.length === 0) return '(no job types configured)';
  const rows = queues.map((q) => [
    q.paused ? `${q.type} (paused)` : q.type,
    q.mode,
    String(q.ready),
    String(q.delayed ?? 0),
    String(q.inFlight),
    String(q.workers.starting),
    String(q.workers.idle),
    String(q.workers.busy),
    String(q.workers.draining),
    String(q.desired),
    `${q.min}–${q.max}`,
  ]);
  const headers = [
    'TYPE',
    'MODE',
    'READY',
    'DELAYED',
    'IN FLIGHT',
    'START',
    'IDLE',
    'BUSY',
    'DRAIN',
    'DESIRED',
    'MIN–MAX',
  ];
  return table(headers, rows, {
    align: ['left', 'left', ...Array<'right'>(9).fill('right')],
    ...(width ? { maxWidth: width } : {}),
  });
}
