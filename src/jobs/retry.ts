import type { JobTypeConfig } from '../config/schema.ts';
import type { Job, JobError } from '../domain/job.ts';

export type AfterFailure =
  { to: 'queued'; runAt: number } | { to: 'failed' | 'timed_out' | 'dead_lettered' };

/**
 * What happens to a job whose attempt failed: another attempt after an exponential backoff with
 * ±20% jitter while attempts remain, else its end. Pure: `random` is injected.
 */
export function afterFailure(
  job: Pick<Job, 'attempt' | 'maxAttempts'>,
  error: JobError,
  type: Pick<JobTypeConfig, 'retry' | 'deadLetter'>,
  now: number,
  random: () => number = Math.random,
): AfterFailure {
  if (job.attempt < job.maxAttempts) {
    return { to: 'queued', runAt: now + backoffMs(job.attempt, type.retry, random) };
  }
  if (type.deadLetter) return { to: 'dead_lettered' };
  return { to: error.class === 'timeout' ? 'timed_out' : 'failed' };
}

export function backoffMs(
  attempt: number,
  retry: Pick<JobTypeConfig['retry'], 'backoffMs' | 'maxBackoffMs'>,
  random: () => number,
): number {
  const base = Math.min(retry.maxBackoffMs, retry.backoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
