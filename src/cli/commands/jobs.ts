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
    .option(
      '-s, --state <state>',
      'only this state (queued, running, failed, …; delayed: queued, not due yet)',
    )
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

/**
 * The jobs table: id, type, state, attempt, priority, age, run time. A queued job not yet due on
 * `now` shows as `delayed` (as `--state delayed` lists them), and the table then has a DUE column:
 * how long until each such job is due.
 */
export function renderJobs(jobs: ApiJob[], now: number, width = 200): string {
  if (jobs.length === 0) return '(no jobs)';
  const anyDelayed = jobs.some((j) => isDelayed(j, now));
  const rows = jobs.map((j) => [
    j.id,
    j.type,
    isDelayed(j, now)
      ? 'delayed'
      : j.state + (j.cancelRequested && j.state === 'running' ? ' (cancelling)' : ''),
    ...(anyDelayed ? [isDelayed(j, now) ? `in ${formatDuration(j.runAt - now)}` : '-'] : []),
    `${j.attempt}/${j.maxAttempts}`,
    String(j.priority),
    formatAgo(j.createdAt, now),
    j.startedAt ? formatDuration((j.finishedAt ?? now) - j.startedAt) : '-',
  ]);
  const due = anyDelayed ? ['DUE'] : [];
  return table(['ID', 'TYPE', 'STATE', ...due, 'ATTEMPT', 'PRIO', 'CREATED', 'RAN'], rows, {
    align: [
      'left',
      'left',
      'left',
      ...due.map(() => 'right' as const),
      'right',
      'right',
      'right',
      'right',
    ],
    maxWidth: width,
  });
}

/** Queued but not due yet on `now`: a delayed submission or a retry's backoff. */
export function isDelayed(job: Pick<ApiJob, 'state' | 'runAt'>, now: number): boolean {
  return job.state === 'queued' && job.runAt > now;
}
