/**
 * The public SDK for in-process job handlers. A job type's `handler` names a module exporting a
 * `JobHandler` (default export, or `path#exportName`); the worker loads it once and calls it for
 * every job of that type.
 */

/** What a handler gets for one attempt of one job. */
export interface JobContext<P = unknown> {
  readonly id: string;
  readonly type: string;
  readonly payload: P;
  readonly attributes: Record<string, unknown>;
  /** 1 on the first attempt; higher on retries. */
  readonly attempt: number;
  /**
   * For a job submitted with `data`: the directory holding its downloaded inputs, and the one
   * whose files are uploaded to `data.output` when the handler succeeds. Undefined otherwise.
   */
  readonly inputDir?: string | undefined;
  readonly outputDir?: string | undefined;
  /**
   * Aborted when the job times out, is cancelled, or the worker shuts down. A handler that runs
   * long must honour it: one that has not settled `killGraceMs` after the abort makes the worker
   * exit (the only way to stop code running in this process), failing its other jobs too. (A
   * suspect — a job whose last attempt ended with its process dying — runs in a sandbox process
   * of its own instead, which is killed then, and nothing else.)
   */
  readonly signal: AbortSignal;
  /** Appends a line to the job's log (stdout stream). */
  log(line: string): void;
}

/**
 * The return value (or resolved value) is the job's result and must be JSON-serialisable; a throw
 * (or rejection) fails the attempt as an 'application' failure with the error's message, retried
 * by the type's retry policy — unless the error is a `NonRetryableError` (or any error with
 * `retryable: false`), which ends the job after this attempt.
 */
export type JobHandler<P = unknown, R = unknown> = (ctx: JobContext<P>) => R | Promise<R>;

/**
 * Throw this from a handler when another attempt cannot help (the payload is wrong, say): the job
 * ends at once, in the dead-letter queue when the type keeps one, where it can be fixed and
 * replayed. Recognised by its `retryable` field, so a copy of this class loaded from another path
 * works too.
 */
export class NonRetryableError extends Error {
  readonly retryable = false;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}

/**
 * Throw this from a handler to fail the attempt and have the next one run `delayMs` from now
 * instead of after the type's backoff (a rate-limited API's Retry-After, say). The attempt counts,
 * as any failure's: when none are left the job ends. At most 7 days (src/jobs/delays.ts); a delay
 * out of bounds is refused on the job's record and the type's backoff applies. Recognised by its
 * `retryAfterMs` field, so a copy of this class loaded from another path works too.
 */
export class RetryAfter extends Error {
  readonly retryAfterMs: number;
  constructor(delayMs: number, message = `retry after ${delayMs} ms`, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RetryAfter';
    this.retryAfterMs = delayMs;
  }
}

/**
 * Throw this from a handler (or `throw snooze(ms)`) to put the job back in the queue, due
 * `delayMs` from now, WITHOUT spending an attempt: the resource it waits for is not ready yet, and
 * nothing failed. At most 7 days (src/jobs/delays.ts); a delay out of bounds fails the attempt
 * with the refusal on the job's record. Recognised by its `snoozeMs` field.
 */
export class Snooze extends Error {
  readonly snoozeMs: number;
  constructor(delayMs: number) {
    super(`snooze for ${delayMs} ms`);
    this.name = 'Snooze';
    this.snoozeMs = delayMs;
  }
}

/** `throw snooze(30_000)`: the job runs again in 30 s, its attempt not spent. */
export function snooze(delayMs: number): Snooze {
  return new Snooze(delayMs);
}
