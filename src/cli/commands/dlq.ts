import type { Command } from 'commander';
import { contextOf, parseIntOption, parsePriority, printJson, UsageError } from '../context.ts';
import { formatAgo, table } from '../format.ts';
import type { ApiJob, DeadLetterEdit } from '../../client/index.ts';
import { renderJob } from './job.ts';
import { readPayload } from './submit.ts';

/**
 * `gaffer dlq list|show|edit|replay`: the dead-letter queue. A replay is a fresh run (attempt 0
 * with all of maxAttempts; the job's `replays` counts it).
 */
export function registerDlq(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('the dead-letter queue: jobs that used up their attempts, to fix and replay');
  registerList(dlq);
  registerShow(dlq);
  registerEdit(dlq);
  registerReplay(dlq);
}

function registerList(dlq: Command): void {
  dlq
    .command('list')
    .description('dead-lettered jobs, newest first, with their last error')
    .option('-t, --type <type>', 'only this job type')
    .option('--search <text>', 'search ids and payloads')
    .option('-n, --limit <n>', 'at most this many', parseIntOption(1, 1000), 50)
    .option('--cursor <cursor>', 'continue a previous listing')
    .action(
      async (opts: { type?: string; search?: string; limit: number; cursor?: string }, cmd) => {
        const ctx = contextOf(cmd as Command);
        const page = await ctx.client.deadLetters.list(opts);
        if (ctx.json) return printJson(ctx, page);
        ctx.out(renderDeadLetters(page.jobs, Date.now()));
        if (page.nextCursor) ctx.err(`more: gaffer dlq list --cursor ${page.nextCursor}`);
      },
    );
}

function registerShow(dlq: Command): void {
  dlq
    .command('show')
    .description('one dead-lettered job: payload, attempts and its last error')
    .argument('<id>', 'job id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const job = await ctx.client.deadLetters.get(id);
      if (ctx.json) return printJson(ctx, { job });
      ctx.out(renderJob(job, Date.now()));
    });
}

interface EditOptions {
  payload?: string;
  payloadFile?: string;
  maxAttempts?: number;
  priority?: number | string;
}

function registerEdit(dlq: Command): void {
  dlq
    .command('edit')
    .description("change a dead-lettered job's payload, max attempts or priority before a replay")
    .argument('<id>', 'job id')
    .option('-p, --payload <json>', "the new payload, as JSON (checked against the type's schema)")
    .option('-f, --payload-file <file>', 'read the new payload JSON from a file (- for stdin)')
    .option('--max-attempts <n>', 'attempts of the next run', parseIntOption(1, 100))
    .option('--priority <n>', 'the new priority (higher first)', parsePriority)
    .action(async (id: string, opts: EditOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const job = await ctx.client.deadLetters.edit(id, await editOf(opts));
      if (ctx.json) return printJson(ctx, { job });
      ctx.out(`${job.id} edited (still dead-lettered: replay it with gaffer dlq replay ${job.id})`);
    });
}

async function editOf(opts: EditOptions): Promise<DeadLetterEdit> {
  const patch: DeadLetterEdit = {};
  if (opts.payload !== undefined || opts.payloadFile !== undefined) {
    patch.payload = await readPayload(opts);
  }
  if (opts.maxAttempts !== undefined) patch.maxAttempts = opts.maxAttempts;
  if (opts.priority !== undefined) {
    if (typeof opts.priority !== 'number' || !Number.isInteger(opts.priority)) {
      throw new UsageError('--priority must be an integer');
    }
    patch.priority = opts.priority;
  }
  if (Object.keys(patch).length === 0) {
    throw new UsageError('give --payload, --payload-file, --max-attempts or --priority');
  }
  return patch;
}

interface ReplayOptions {
  type?: string;
  search?: string;
  all?: boolean;
  limit: number;
}

function registerReplay(dlq: Command): void {
  dlq
    .command('replay')
    .description('send dead-lettered jobs back to the queue: by id, by --type/--search, or --all')
    .argument('[ids...]', 'job ids')
    .option('-t, --type <type>', 'every dead-lettered job of this type')
    .option('--search <text>', 'those whose id or payload matches')
    .option('--all', 'every dead-lettered job')
    .option('-n, --limit <n>', 'at most this many', parseIntOption(1, 10_000), 1000)
    .action(async (ids: string[], opts: ReplayOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (ids.length === 0 && !opts.type && !opts.search && !opts.all) {
        throw new UsageError('name job ids, or give --type, --search or --all');
      }
      if (ids.length === 1 && !opts.type && !opts.search && !opts.all) {
        const job = await ctx.client.deadLetters.replay(ids[0]!);
        if (ctx.json) return printJson(ctx, { job });
        return ctx.out(`${job.id} ${job.state} (replay ${job.replays})`);
      }
      const result = await ctx.client.deadLetters.replayMany({
        ...(ids.length ? { ids } : {}),
        ...(opts.type ? { type: opts.type } : {}),
        ...(opts.search ? { search: opts.search } : {}),
        ...(opts.all ? { all: true } : {}),
        limit: opts.limit,
      });
      if (ctx.json) return printJson(ctx, result);
      ctx.out(`replayed ${result.replayed}`);
      for (const s of result.skipped) ctx.err(`skipped ${s.id}: ${s.code}: ${s.message}`);
    });
}

/** id, type, attempts, replays, when it ended, the last error's class and message. */
export function renderDeadLetters(jobs: ApiJob[], now: number, width = 200): string {
  if (jobs.length === 0) return '(the dead-letter queue is empty)';
  const rows = jobs.map((j) => [
    j.id,
    j.type,
    `${j.attempt}/${j.maxAttempts}`,
    String(j.replays),
    j.finishedAt ? formatAgo(j.finishedAt, now) : '-',
    j.error ? `${j.error.class}: ${j.error.message.split('\n')[0]}` : '-',
  ]);
  return table(['ID', 'TYPE', 'ATTEMPTS', 'REPLAYS', 'ENDED', 'LAST ERROR'], rows, {
    align: ['left', 'left', 'right', 'right', 'right', 'left'],
    maxWidth: width,
  });
}
