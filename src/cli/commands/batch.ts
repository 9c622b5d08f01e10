import type { Command } from 'commander';
import { contextOf, printJson } from '../context.ts';
import { formatIso, keyValues } from '../format.ts';
import type { Batch } from '../http-client.ts';

export function registerBatch(program: Command): void {
  program
    .command('batch')
    .description('progress of an upload (batch), or its rejected rows as CSV')
    .argument('<id>', 'batch id')
    .option('--rejected', 'print the rejected rows (CSV: row,code,message,raw)')
    .action(async (id: string, opts: { rejected?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (opts.rejected) return ctx.out(await ctx.client.batchRejected(id));
      const batch = await ctx.client.getBatch(id);
      if (ctx.json) return printJson(ctx, { batch });
      ctx.out(renderBatch(batch));
    });
}

export function renderBatch(batch: Batch): string {
  const ended = ['succeeded', 'failed', 'timed_out', 'cancelled', 'dead_lettered'] as const;
  const done = ended.reduce((n, s) => n + (batch.byState[s] ?? 0), 0);
  const pct = batch.accepted > 0 ? Math.floor((done / batch.accepted) * 100) : 100;
  const states = Object.entries(batch.byState)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
  return keyValues([
    ['batch', batch.id],
    ['source', batch.source],
    ['type', batch.type ?? '(routed per row)'],
    ['created', formatIso(batch.createdAt)],
    ['accepted', String(batch.accepted)],
    ['rejected', String(batch.rejected)],
    ['ingested', batch.done ? 'yes' : 'in progress'],
    ['ended', `${done} of ${batch.accepted} (${pct}%)`],
    ['states', states || '-'],
  ]);
}
