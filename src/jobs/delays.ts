import type { JobError } from '../domain/job.ts';

/**
 * Delays a handler chooses for its job: "retry after N ms" (the attempt counts, like a failure
 * with a backoff of the handler's choosing) and "snooze for N ms" (the job goes back to the queue,
 * due then, without spending an attempt). Pure: the bounds and the records they make.
 */

/**
 * Longest delay a handler may ask for: 7 days. Within what a timer can wait (2^31 − 1 ms, about
 * 24.8 days: the broker bridge republishes a retried job on a timer), and long enough for any
 * "come back later"; a longer wait is a schedule's or a delayed submission's job.
 */
export const MAX_HANDLER_DELAY_MS = 7 * 24 * 60 * 60 * 1000;

/** Why `ms` cannot be a handler's delay (`what`: "snooze", "retry after"), or null when it can. */
export function delayProblem(ms: unknown, what: string): string | null {
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0) {
    return `${what} of ${JSON.stringify(ms) ?? String(ms)} ms refused: the delay must be a whole number of ms, at least 0`;
  }
  if (ms > MAX_HANDLER_DELAY_MS) {
    return `${what} of ${ms} ms refused: at most ${MAX_HANDLER_DELAY_MS} ms (7 days)`;
  }
  return null;
}

/** The error a snoozed job is queued with: its attempt history shows the snooze. */
export function snoozeError(delayMs: number): JobError {
  return {
    class: 'application',
    message: `snoozed by its handler for ${delayMs} ms; the attempt did not count`,
    snoozedMs: delayMs,
  };
}

/**
 * A failure as the retry policy should see it: a `retryAfterMs` out of bounds is dropped and the
 * refusal put in the message (the attempt then fails as any other, retried after the type's
 * backoff), so the job's record says why the handler's delay was not used.
 */
export function boundedFailure(error: JobError): JobError {
  if (error.retryAfterMs === undefined) return error;
  const problem = delayProblem(error.retryAfterMs, 'retry after');
  if (problem === null) return error;
  const { retryAfterMs: _refused, ...rest } = error;
  return { ...rest, message: `${error.message} (${problem})` };
}
