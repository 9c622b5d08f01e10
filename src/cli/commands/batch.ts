import type { Command } from 'commander';
import { batchProgress, type Batch } from '../../client/index.ts';
import { contextOf, parseIntOption, printJson } from '../context.ts';
import { formatAgo, formatIso, keyValues, table } from '../format.ts';

/**
 * `gaffer batch <id>` (progress), `batch rejected <id>` (the rejected rows as CSV), `batch
 * retry-failed <id>`; `gaffer batches` lists them. A batch is a CSV upload or a JSON batch.
 */
export function registerBatch(program: Command): void {
  const batch = program
    .command('batch')
    .description('a batch (upload): progress, rejected rows, retry of its failed jobs');
  batch
    .command('show', { isDefault: true })
    .description('progress of a batch: accepted, rejected, its jobs by state')
    .argument('<id>', 'batch id')
    .option('--rejected', 'print the rejected rows instead (as `batch rejected`)')
    .action(async (id: string, opts: { rejected?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (opts.rejected) return printRejected(ctx, id);
      const found = await ctx.client.batches.get(id);
      if (ctx.json) return printJson(ctx, { batch: found });
      ctx.out(renderBatch(found));
    });
  batch
    .command('rejected')
    .description('the rejected rows of a batch as CSV (row,code,message,raw)')
    .argument('<id>', 'batch id')
    .action((id: string, _opts: unknown, cmd: Command) => printRejected(contextOf(cmd), id));
  batch
    .command('retry-failed')
    .description("retry a batch's failed and timed-out jobs and replay its dead-lettered ones")
    .argument('<id>', 'batch id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const result = await ctx.client.batches.retryFailed(id);
      if (ctx.json) return printJson(ctx, result);
      ctx.out(`retried ${result.retried}, replayed ${result.replayed}`);
      if (result.forbidden > 0) {
        ctx.err(`${result.forbidden} jobs of types this key may not act on`);
      }
      for (const s of result.skipped) ctx.err(`skipped ${s.id}: ${s.code}: ${s.message}`);
    });
}

async function printRejected(ctx: ReturnType<typeof contextOf>, id: string): Promise<void> {
  const csv = await ctx.client.batches.rejected(id);
  if (ctx.json) return printJson(ctx, { batchId: id, csv });
  process.stdout.write(csv);
}

export function registerBatches(program: Command): void {
  program
    .command('batches')
    .description('list batches (uploads), newest first, with their progress')
    .option('-n, --limit <n>', 'at most this many', parseIntOption(1, 1000), 50)
    .option('--cursor <cursor>', 'continue a previous listing')
    .action(async (opts: { limit: number; cursor?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const page = await ctx.client.batches.list(opts);
      if (ctx.json) return printJson(ctx, page);
      ctx.out(renderBatches(page.batches, Date.now()));
      if (page.nextCursor) ctx.err(`more: gaffer batches --cursor ${page.nextCursor}`);
    });
}

export function renderBatches(batches: Batch[], now: number): string {
  if (batches.length === 0) return '(no batches)';
  const rows = batches.map((b) => {
    const p = batchProgress(b);
    return [
      b.id,
      b.source,
      b.type ?? '-',
      String(b.accepted),
      String(b.rejected),
      `${p.ended}/${p.total}`,
      String(p.unsuccessful),
      formatAgo(b.createdAt, now),
    ];
  });
  const head = ['ID', 'SOURCE', 'TYPE', 'ACCEPTED', 'REJECTED', 'ENDED', 'UNSUCCESSFUL', 'CREATED'];
  return table(head, rows, { align: ['left', 'left', 'left', 'right', 'right', 'right', 'right'] });
}

export function renderBatch(batch: Batch): string {
  const p = batchProgress(batch);
  const pct = p.total > 0 ? Math.floor((p.ended / p.total) * 100) : 100;
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
    ['ended', `${p.ended} of ${p.total} (${pct}%)`],
    ['states', states || '-'],
  ]);
}
