import type { Command } from 'commander';
import { contextOf, modeOf, printJson, UsageError } from '../context.ts';
import { formatDuration, formatIso, indentJson, keyValues, table } from '../format.ts';
import { isTerminal, type ApiJob, type Attempt } from '../../client/index.ts';
import { isDelayed } from './jobs.ts';

export function registerJob(program: Command): void {
  program
    .command('job')
    .description('show one job: state, timings, payload, result or error')
    .argument('<id>', 'job id')
    .option('--attempts', 'also list every ended attempt: worker, times, outcome, error')
    .action(async (id: string, opts: { attempts?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      // The attempt history is a REST route only (the gRPC service has no such call).
      if (opts.attempts && modeOf(cmd) === 'grpc') {
        throw new UsageError('--attempts needs --mode rest (gRPC has no attempts call)');
      }
      const job = await ctx.jobs.get(id);
      const attempts = opts.attempts ? await ctx.client.jobs.attempts(id) : undefined;
      if (ctx.json) return printJson(ctx, attempts ? { job, attempts } : { job });
      ctx.out(renderJob(job, Date.now()) + (attempts ? '\n' + renderAttempts(attempts) : ''));
    });
}

/** The attempts section: one row per ended attempt, oldest first, and its error's first line. */
export function renderAttempts(attempts: readonly Attempt[]): string {
  if (attempts.length === 0) return 'attempts: none ended yet';
  const rows = attempts.map((a) => [
    a.replay > 0 ? `${a.attempt} (replay ${a.replay})` : String(a.attempt),
    a.worker ?? '-',
    formatIso(a.startedAt),
    a.startedAt === null ? '-' : formatDuration(a.finishedAt - a.startedAt),
    a.outcome + (a.jobState === 'queued' ? ', retried' : ''),
    a.error ? `${a.error.class}: ${a.error.message.split('\n')[0]}` : '',
  ]);
  return (
    'attempts:\n' +
    table(['#', 'worker', 'started', 'took', 'outcome', 'error'], rows, { maxWidth: 160 })
  );
}

function waitingLine(w: NonNullable<ApiJob['waiting']>, now: number): string {
  const eta =
    w.estimatedStartAt === null
      ? ''
      : `, starts in ~${formatDuration(Math.max(0, w.estimatedStartAt - now))}`;
  return `${w.reason}: ${w.message} (position ${w.position}${eta})`;
}

export function renderJob(job: ApiJob, now: number): string {
  const ran = job.startedAt ? formatDuration((job.finishedAt ?? now) - job.startedAt) : '-';
  const pairs: [string, string][] = [
    ['id', job.id],
    ['type', `${job.type} (queue ${job.queue})`],
    [
      'state',
      (isDelayed(job, now) ? `delayed, due in ${formatDuration(job.runAt - now)}` : job.state) +
        (job.cancelRequested && !isTerminal(job.state) ? ' (cancel requested)' : ''),
    ],
    ['attempt', `${job.attempt} of ${job.maxAttempts}`],
    ...(job.replays ? [['replays', String(job.replays)] as [string, string]] : []),
    ['priority', String(job.priority)],
    ['timeout', formatDuration(job.timeoutMs)],
    ['created', formatIso(job.createdAt)],
    ['started', formatIso(job.startedAt)],
    ['finished', formatIso(job.finishedAt)],
    ['ran', ran],
  ];
  if ((job.runAt > job.createdAt || isDelayed(job, now)) && job.state === 'queued') {
    pairs.push(['run at', formatIso(job.runAt)]);
  }
  if (job.expiresAt != null && job.state === 'queued') {
    pairs.push(['expires at', formatIso(job.expiresAt)]);
  }
  if (job.batchId) pairs.push(['batch', job.batchId]);
  if (job.idempotencyKey) pairs.push(['idempotency', job.idempotencyKey]);
  if (job.routeReason) pairs.push(['routed', job.routeReason]);
  if (job.waiting) pairs.push(['waiting', waitingLine(job.waiting, now)]);
  for (const ref of job.data?.inputs ?? []) pairs.push(['input', ref]);
  if (job.data?.output) pairs.push(['output', job.data.output]);
  if (job.leaseOwner) pairs.push(['worker', job.leaseOwner]);
  const parts = [keyValues(pairs)];
  if (Object.keys(job.attributes ?? {}).length > 0) {
    parts.push('attributes:', indentJson(job.attributes));
  }
  parts.push('payload:', indentJson(job.payload));
  if (job.result !== null && job.result !== undefined) {
    parts.push('result:', indentJson(job.result));
  }
  if (job.error) {
    const e = job.error;
    const exit = [
      e.exitCode !== undefined && e.exitCode !== null ? `exit ${e.exitCode}` : '',
      e.signal ? `signal ${e.signal}` : '',
      e.retryable === false ? 'not retryable' : '',
    ]
      .filter(Boolean)
      .join(', ');
    parts.push(`error (${e.class}${exit ? `, ${exit}` : ''}):`, indent(e.message));
  }
  return parts.join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => '  ' + l)
    .join('\n');
}
