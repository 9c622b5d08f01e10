import type { JobTypeConfig, RetryConfig } from '../config/schema.ts';
import type { Job, JobError } from '../domain/job.ts';

/** Why a failed job ends rather than running again (kept on the decision for tests and docs). */
export type EndReason = 'attempts_exhausted' | 'class_limit' | 'non_retryable';

export type AfterFailure =
  | { to: 'queued'; runAt: number }
  | { to: 'failed' | 'timed_out' | 'dead_lettered'; reason: EndReason };

/** The retry settings `afterFailure` reads; `classes` and `nonRetryableExitCodes` may be absent. */
export type RetryPolicy = Pick<RetryConfig, 'backoffMs' | 'maxBackoffMs'> &
  Partial<Pick<RetryConfig, 'classes' | 'nonRetryableExitCodes'>>;

/**
 * What happens to a job whose attempt failed. Pure: `random` (the jitter) is injected.
 *
 * The contract, in order:
 * 1. Non-retryable: the error says `retryable: false` (a handler threw a NonRetryableError), or an
 *    `application` failure's exit code is in `retry.nonRetryableExitCodes` → the job ends now.
 * 2. Attempt limit: the job's own `maxAttempts` (stored at submit: the submitter's, else the
 *    type's `retry.maxAttempts`) is the ceiling for every class; the failing class's
 *    `retry.classes[class].maxAttempts`, when set, lowers it. Both compare with the job's attempt
 *    number, which counts attempts of every class: with `application: { maxAttempts: 2 }`, an
 *    application failure on attempt 2 ends the job even if attempt 1 failed for another reason.
 *    While `attempt < limit` the job is queued again after the class's backoff (its `backoffMs`
 *    and `maxBackoffMs` override the type's), doubling per attempt with ±20% jitter — or, when the
 *    handler chose a delay (`error.retryAfterMs`, bounded by src/jobs/delays.ts), after that.
 * 3. The end: `dead_lettered` when the type keeps a dead-letter queue, else `timed_out` for a
 *    timeout and `failed` for the rest.
 */
export function afterFailure(
  job: Pick<Job, 'attempt' | 'maxAttempts'>,
  error: JobError,
  type: { retry: RetryPolicy; deadLetter: boolean },
  now: number,
  random: () => number = Math.random,
): AfterFailure {
  const reason = endReason(job, error, type.retry);
  if (reason === null) {
    const policy = { ...type.retry, ...definedOf(type.retry.classes?.[error.class]) };
    const delay = error.retryAfterMs ?? backoffMs(job.attempt, policy, random);
    return { to: 'queued', runAt: now + delay };
  }
  if (type.deadLetter) return { to: 'dead_lettered', reason };
  return { to: error.class === 'timeout' ? 'timed_out' : 'failed', reason };
}

/** null while the job may run again. */
function endReason(
  job: Pick<Job, 'attempt' | 'maxAttempts'>,
  error: JobError,
  retry: RetryPolicy,
): EndReason | null {
  if (!isRetryable(error, retry)) return 'non_retryable';
  if (job.attempt >= job.maxAttempts) return 'attempts_exhausted';
  const classLimit = retry.classes?.[error.class]?.maxAttempts;
  if (classLimit !== undefined && job.attempt >= classLimit) return 'class_limit';
  return null;
}

/** Whether the failure allows another attempt at all (attempt limits aside). */
export function isRetryable(error: JobError, retry: RetryPolicy): boolean {
  if (error.retryable === false) return false;
  const code = error.exitCode;
  return !(
    error.class === 'application' &&
    typeof code === 'number' &&
    (retry.nonRetryableExitCodes ?? []).includes(code)
  );
}

/** The fields of a class override that are set (an undefined one must not erase the type's). */
function definedOf<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function backoffMs(
  attempt: number,
  retry: Pick<JobTypeConfig['retry'], 'backoffMs' | 'maxBackoffMs'>,
  random: () => number,
): number {
  const base = Math.min(retry.maxBackoffMs, retry.backoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}
