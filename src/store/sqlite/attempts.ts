import type { JobError, JobState } from '../../domain/job.ts';
import type { AttemptOutcome, AttemptRecord } from '../attempts.ts';
import { fromJson } from '../codec.ts';
import type { Statements } from './statements.ts';

/** A `job_attempts` row as SQLite returns it (error is JSON text). */
interface AttemptRow {
  job_id: string;
  replay: number;
  attempt: number;
  worker: string | null;
  started_at: number | null;
  finished_at: number;
  outcome: AttemptOutcome;
  job_state: JobState;
  error: string | null;
}

/** The job's ended attempts, oldest first (append order); rows are written by finishJobs. */
export function attempts(s: Statements, jobId: string): AttemptRecord[] {
  return s
    .all<AttemptRow>('SELECT * FROM job_attempts WHERE job_id = ? ORDER BY seq', jobId)
    .map((r) => ({
      jobId: r.job_id,
      replay: r.replay,
      attempt: r.attempt,
      worker: r.worker,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      outcome: r.outcome,
      jobState: r.job_state,
      error: fromJson(r.error) as JobError | null,
    }));
}
