import type { GafferEvents } from '../domain/events.ts';
import { isTerminal, type Job } from '../domain/job.ts';
import type { WaitOptions } from './types.ts';

/** A job awaited for its result ended without succeeding; `job` is its record as it ended. */
export class JobFailedError extends Error {
  readonly job: Job;
  constructor(job: Job) {
    const why = job.error ? `: ${job.error.message}` : '';
    super(`job ${job.id} (${job.type}) ended ${job.state}${why}`);
    this.name = 'JobFailedError';
    this.job = job;
  }
}

/**
 * Resolves with the job once it is in a terminal state. Listens before it reads, so an end
 * between the read and the subscription is not missed; the events carry the record, so after the
 * one read nothing is polled.
 */
export function jobEnd(
  events: GafferEvents,
  read: (id: string) => Promise<Job>,
  id: string,
  options: WaitOptions = {},
): Promise<Job> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  const { promise, resolve, reject } = Promise.withResolvers<Job>();
  const ended = (payload: { job: Job }) => {
    if (payload.job.id === id) finish(() => resolve(payload.job));
  };
  const offs = [
    events.on('job:succeeded', ended),
    events.on('job:failed', ended),
    events.on('job:expired', ended),
    events.on('job:cancelled', ({ job }) => {
      // A cancel of a running job is asked first (job:cancelled with it still running); it
      // ends once its worker stopped it.
      if (isTerminal(job.state)) ended({ job });
    }),
  ];
  const onAbort = () => finish(() => reject(signal!.reason as Error));
  signal?.addEventListener('abort', onAbort, { once: true });
  let settled = false;
  function finish(settle: () => void) {
    if (settled) return;
    settled = true;
    for (const off of offs) off();
    signal?.removeEventListener('abort', onAbort);
    settle();
  }
  read(id).then(
    (job) => isTerminal(job.state) && finish(() => resolve(job)),
    (err: unknown) => finish(() => reject(err as Error)),
  );
  return promise;
}

/** The job's result once it succeeded; a `JobFailedError` for any other end. */
export async function jobResult<R>(end: Promise<Job>): Promise<R> {
  const job = await end;
  if (job.state !== 'succeeded') throw new JobFailedError(job);
  return job.result as R;
}
