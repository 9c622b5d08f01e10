import type { ApiJob, Batch, JobState } from './types.ts';

/** Where a job ends (domain/job.ts TERMINAL_STATES; repeated, as the client imports types only). */
export const TERMINAL: ReadonlySet<JobState> = new Set<JobState>([
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'dead_lettered',
  'expired',
]);

export function isTerminal(state: string): boolean {
  return TERMINAL.has(state as JobState);
}

/** How far a batch got: its accepted jobs by outcome so far. */
export interface BatchProgress {
  /** Jobs accepted (rows that became jobs). */
  total: number;
  /** Jobs in a terminal state. */
  ended: number;
  succeeded: number;
  /** Ended without succeeding (failed, timed out, cancelled, dead-lettered, expired). */
  unsuccessful: number;
  /** False while the upload is still being ingested (more jobs may come). */
  ingested: boolean;
  /** Ingested and every job ended. */
  complete: boolean;
}

export function batchProgress(batch: Batch): BatchProgress {
  let ended = 0;
  for (const [state, n] of Object.entries(batch.byState)) if (isTerminal(state)) ended += n ?? 0;
  const succeeded = batch.byState.succeeded ?? 0;
  return {
    total: batch.accepted,
    ended,
    succeeded,
    unsuccessful: ended - succeeded,
    ingested: batch.done,
    complete: batch.done && ended >= batch.accepted,
  };
}

export type WaitTarget = { kind: 'job'; job: ApiJob } | { kind: 'batch'; batch: Batch };

/** What `waitFor` settles with: the last state seen, and whether it all succeeded. */
export type WaitOutcome = WaitTarget & { succeeded: boolean };

export interface WaitOptions {
  /** Called with every state read, the last one included. */
  onProgress?: (target: WaitTarget) => void;
  /** Aborting stops the wait: `waitFor` rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Between reads; default 500 ms. */
  intervalMs?: number;
  /** Default: a batch when the id starts with `batch-` (how gaffer names batches), else a job. */
  kind?: 'job' | 'batch';
}

/**
 * Reads the job or batch until it is over: a job in a terminal state, a batch ingested with every
 * job ended. It polls rather than following /v1/events, because the event stream carries only
 * samples of changes (20 per 250 ms), never a guarantee that a given job's end is reported.
 */
export async function waitFor(
  read: { job(id: string): Promise<ApiJob>; batch(id: string): Promise<Batch> },
  id: string,
  options: WaitOptions = {},
): Promise<WaitOutcome> {
  const kind = options.kind ?? (id.startsWith('batch-') ? 'batch' : 'job');
  const signal = options.signal;
  for (;;) {
    signal?.throwIfAborted();
    if (kind === 'job') {
      const job = await read.job(id);
      options.onProgress?.({ kind, job });
      if (isTerminal(job.state)) return { kind, job, succeeded: job.state === 'succeeded' };
    } else {
      const batch = await read.batch(id);
      options.onProgress?.({ kind, batch });
      const p = batchProgress(batch);
      if (p.complete) return { kind, batch, succeeded: p.unsuccessful === 0 };
    }
    await delay(options.intervalMs ?? 500, signal);
  }
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
