import type { Command } from 'commander';
import { contextOf, parseIntOption, printJson } from '../context.ts';
import { formatAgo, formatDuration, table } from '../format.ts';
import type { ApiJob, ListJobsQuery } from '../../client/index.ts';

interface JobsOptions {
  type?: string;
  state?: string;
  batch?: string;
  search?: string;
  limit: number;
  cursor?: string;
}

export function registerJobs(program: Command): void {
  program
    .command('jobs')
    .description('list jobs, newest first')
    .option('-t, --type <type>', 'only this job type')
    .option('-s, --state <state>', 'only this state (queued, running, failed, …)')
    .option('-b, --batch <id>', 'only jobs of this batch (upload)')
    .option('--search <text>', 'search ids and payloads')
    .option('-n, --limit <n>', 'at most this many', parseIntOption(1, 1000), 50)
    .option('--cursor <cursor>', 'continue a previous listing')
    .action(async (opts: JobsOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const page = await ctx.jobs.list({
        type: opts.type,
        state: opts.state as ListJobsQuery['state'],
        batch: opts.batch,
        search: opts.search,
        limit: opts.limit,
        cursor: opts.cursor,
      });
      if (ctx.json) return printJson(ctx, page);
      ctx.out(renderJobs(page.jobs, Date.now()));
      if (page.nextCursor) ctx.err(`more: gaffer jobs --cursor ${page.nextCursor}`);
    });
}

/** The jobs table: id, type, state, attempt, priority, age, run time. */
export function renderJobs(jobs: ApiJob[], now: number, width = 200): string {
  if (jobs.length === 0) return '(no jobs)';
  const rows = jobs.map((j) => [
    j.id,
    j.type,
    j.state + (j.cancelRequested && j.state === 'running' ? ' (cancelling)' : ''),
    `${j.attempt}/${j.maxAttempts}`,
    String(j.priority),
    formatAgo(j.createdAt, now),
    j.startedAt ? formatDuration((j.finishedAt ?? now) - j.startedAt) : '-',
  ]);
  return table(['ID', 'TYPE', 'STATE', 'ATTEMPT', 'PRIO', 'CREATED', 'RAN'], rows, {
    align: ['left', 'left', 'left', 'right', 'right', 'right', 'right'],
    maxWidth: width,
  });
}
