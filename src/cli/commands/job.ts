import type { Command } from 'commander';
import { contextOf, printJson } from '../context.ts';
import { formatDuration, formatIso, indentJson, keyValues } from '../format.ts';
import { isTerminal, type ApiJob } from '../../client/index.ts';

export function registerJob(program: Command): void {
  program
    .command('job')
    .description('show one job: state, timings, payload, result or error')
    .argument('<id>', 'job id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const job = await ctx.jobs.get(id);
      if (ctx.json) return printJson(ctx, { job });
      ctx.out(renderJob(job, Date.now()));
    });
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
      job.state + (job.cancelRequested && !isTerminal(job.state) ? ' (cancel requested)' : ''),
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
  if (job.runAt > job.createdAt && job.state === 'queued') {
    pairs.push(['run at', formatIso(job.runAt)]);
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
