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
