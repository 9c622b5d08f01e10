import type { JobError, JobState } from '../domain/job.ts';
import type { FinishUpdate } from './roles/job-records.ts';

/**
 * A job's attempt history: one row per attempt that ended, written by `finish` in the
 * same transaction as the state change that ended it, so the history never disagrees with the
 * record. Pure: the row's derived fields, shared by both stores.
 */

/**
 * How an attempt ended — the attempt, not the job (`jobState` says what became of the job):
 * - `succeeded`: the worker reported a result;
 * - `failed`: the worker reported a failure, or gaffer gave the attempt up (lease expired,
 *   claim never delivered) — `error.class` says which;
 * - `timed_out`: the attempt ran past its timeout (`error.class` is `timeout`);
 * - `lost`: the process running it died while holding it (`error.workerLost`);
 * - `cancelled`: it ended on a cancel request;
 * - `interrupted`: gaffer's stop cut it short (`error.interrupted`); the job went back to the
 *   queue and the attempt did not count (the next one has the same number);
 * - `snoozed`: its handler snoozed the job (`error.snoozedMs`): back to the queue, due later, the
 *   attempt not counted.
 */
export const ATTEMPT_OUTCOMES = [
  'succeeded',
  'failed',
  'timed_out',
  'lost',
  'cancelled',
  'interrupted',
  'snoozed',
] as const;
export type AttemptOutcome = (typeof ATTEMPT_OUTCOMES)[number];

export interface AttemptRecord {
  jobId: string;
  /** The job's `replays` when the attempt ran: attempt numbers restart after a retry or replay. */
  replay: number;
  /** The job's `attempt` (1-based) when it ended. */
  attempt: number;
  /** The lease owner: the worker that held the attempt (null if unknown). */
  worker: string | null;
  /** Store-clock ms: the claim, and the state change that ended the attempt. */
  startedAt: number | null;
  finishedAt: number;
  outcome: AttemptOutcome;
  /** The state the job moved to: `queued` means the job was retried after this attempt. */
  jobState: JobState;
  /** The failure (class, message, exitCode, signal, …); null on success. */
  error: JobError | null;
}

/**
 * A `job_attempts` row as a store's driver returns it; `E` is how its error column comes back
 * (SQLite: JSON text; PostgreSQL: parsed jsonb).
 */
export interface AttemptRow<E> {
  job_id: string;
  replay: number;
  attempt: number;
  worker: string | null;
  started_at: number | null;
  finished_at: number;
  outcome: AttemptOutcome;
  job_state: JobState;
  error: E;
}

/** The record of a row, its error already decoded. */
export function attemptOfRow(r: AttemptRow<unknown>, error: JobError | null): AttemptRecord {
  return {
    jobId: r.job_id,
    replay: r.replay,
    attempt: r.attempt,
    worker: r.worker,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    outcome: r.outcome,
    jobState: r.job_state,
    error,
  };
}

/** The update ends an attempt (every transition out of an in-flight state but starting → running). */
export function endsAttempt(u: FinishUpdate): boolean {
  return u.to !== 'running';
}

export function attemptOutcome(u: FinishUpdate): AttemptOutcome {
  if (u.to === 'succeeded') return 'succeeded';
  if (u.to === 'cancelled') return 'cancelled';
  if (u.to === 'running') throw new Error('starting → running does not end an attempt');
  if (u.error.interrupted === true) return 'interrupted';
  if (u.error.snoozedMs !== undefined) return 'snoozed';
  if (u.error.workerLost === true) return 'lost';
  return u.error.class === 'timeout' ? 'timed_out' : 'failed';
}

/** The error the attempt row keeps (a success has none). */
export function attemptError(u: FinishUpdate): JobError | null {
  return u.to === 'succeeded' || u.to === 'running' ? null : (u.error ?? null);
}
