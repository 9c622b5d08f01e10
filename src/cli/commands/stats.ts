import type { Command } from 'commander';
import type { Sample } from '../../client/index.ts';
import { contextOf, parseDuration, printJson } from '../context.ts';
import { formatClock, table } from '../format.ts';

/** `gaffer stats`: the sampled history behind the dashboard's charts (GET /v1/stats/history). */
export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('history of queue depth, throughput and workers per type (the latest sample)')
    .option('--since <duration>', 'samples of the last … (5m, 1h); default all kept', parseDuration)
    .action(async (opts: { since?: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const since = opts.since === undefined ? undefined : Date.now() - opts.since;
      const history = await ctx.client.stats.history(since === undefined ? {} : { since });
      if (ctx.json) return printJson(ctx, history);
      const samples = history.samples ?? [];
      ctx.out(renderLatest(samples.at(-1), samples.length));
    });
}

export function renderLatest(sample: Sample | undefined, count: number): string {
  if (!sample) return '(no samples yet)';
  const rows = Object.entries(sample.types).map(([type, s]) => [
    type,
    String(s.ready),
    String(s.inFlight),
    s.finishedPerMin.toFixed(1),
    s.failedPerMin.toFixed(1),
    `${s.workers.starting}/${s.workers.idle}/${s.workers.busy}/${s.workers.draining}`,
  ]);
  const head = ['TYPE', 'READY', 'IN FLIGHT', 'OK/MIN', 'FAILED/MIN', 'WORKERS S/I/B/D'];
  const t = table(head, rows, { align: ['left', 'right', 'right', 'right', 'right', 'right'] });
  return `${count} samples; the latest at ${formatClock(sample.at)}:\n${t}`;
}
