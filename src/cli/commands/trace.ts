import type { Command } from 'commander';
import type { ScalingConfig } from '../../config/schema.ts';
import type { Trace, TraceJob, TraceType } from '../../simulator/trace.ts';
import { contextOf, InvalidArgument, printJson, UsageError } from '../context.ts';
import type { ApiJob } from '../../client/index.ts';

interface TraceOptions {
  out: string;
  type?: string;
  since?: number;
  name: string;
}

/**
 * `gaffer trace`: records what a running gaffer saw as a simulator trace
 * (docs/simulator/README.md), to replay with `npm run simulate -- --trace FILE`. Each job that
 * ran to an end becomes arrival = createdAt, run = finishedAt − startedAt (its last attempt);
 * each type brings its concurrency and scaling settings from GET /v1/config. Jobs still queued or
 * running have no run time yet and are left out (and counted on stderr).
 */
export function registerTrace(program: Command): void {
  program
    .command('trace')
    .description('record finished jobs as a simulator trace (npm run simulate -- --trace FILE)')
    .requiredOption('-o, --out <file>', 'where to write it (.json, or .ndjson for one job a line)')
    .option('-t, --type <type>', 'only this job type')
    .option('--since <iso>', 'only jobs created at or after this instant (ISO 8601)', parseSince)
    .option('--name <name>', 'the trace name', 'recorded')
    .action(async (opts: TraceOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const config = (await ctx.client.config()) as {
        jobTypes?: Record<string, { concurrency?: number; scaling?: ScalingConfig }>;
      };
      const known = config.jobTypes ?? {};
      if (opts.type && !known[opts.type]) throw new UsageError(`no job type "${opts.type}"`);
      const { jobs, skipped } = await collect(ctx.client, opts);
      const trace = toTrace(jobs, known, opts);
      // The simulator's trace module loads a schema validator: only this command pays for it.
      const { writeTrace } = await import('../../simulator/trace.ts');
      await writeTrace(opts.out, trace);
      const summary = {
        out: opts.out,
        jobs: trace.jobs.length,
        skipped,
        types: Object.keys(trace.types),
      };
      if (ctx.json) return printJson(ctx, summary);
      ctx.out(`wrote ${trace.jobs.length} jobs to ${opts.out}`);
      if (skipped > 0) ctx.err(`${skipped} jobs not finished yet were left out`);
    });
}

/** Pages GET /v1/jobs (newest first) down to `since`; keeps the jobs that ran and ended. */
async function collect(
  client: ReturnType<typeof contextOf>['client'],
  opts: TraceOptions,
): Promise<{ jobs: ApiJob[]; skipped: number }> {
  const jobs: ApiJob[] = [];
  let skipped = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await client.jobs.list({ type: opts.type, limit: 1000, cursor });
    for (const job of page.jobs) {
      if (opts.since !== undefined && job.createdAt < opts.since) return { jobs, skipped };
      if (job.startedAt != null && job.finishedAt != null) jobs.push(job);
      else if (job.state !== 'cancelled') skipped++;
    }
    if (!page.nextCursor) return { jobs, skipped };
    cursor = page.nextCursor;
  }
}

export function toTrace(
  jobs: ApiJob[],
  known: Record<string, { concurrency?: number; scaling?: ScalingConfig }>,
  opts: { type?: string; name: string },
): Trace {
  const t0 = Math.min(...jobs.map((j) => j.createdAt));
  const traced: TraceJob[] = jobs
    .map((j) => ({ type: j.type, at: j.createdAt - t0, run: j.finishedAt! - j.startedAt! }))
    .sort((a, b) => a.at - b.at || a.type.localeCompare(b.type));
  const names = opts.type ? [opts.type] : Object.keys(known);
  const types: Record<string, TraceType> = {};
  for (const name of names) {
    const t = known[name]!;
    types[name] = { concurrency: t.concurrency ?? 1, scaling: t.scaling! };
  }
  return {
    version: 1,
    name: opts.name,
    description: `recorded by gaffer trace: ${traced.length} jobs`,
    capacity: null,
    types,
    // A job of a type the config no longer has cannot be replayed with its settings: left out.
    jobs: traced.filter((j) => types[j.type]),
  };
}

function parseSince(value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgument('must be an ISO 8601 date/time');
  return ms;
}
