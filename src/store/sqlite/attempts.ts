import type { JobError } from '../../domain/job.ts';
import { attemptOfRow, type AttemptRecord, type AttemptRow } from '../attempts.ts';
import { fromJson } from '../codec.ts';
import type { Statements } from './statements.ts';

/** The job's ended attempts, oldest first (append order); rows are written by finishJobs. */
export function attempts(s: Statements, jobId: string): AttemptRecord[] {
  return s
    .all<AttemptRow<string | null>>(
      'SELECT * FROM job_attempts WHERE job_id = ? ORDER BY seq',
      jobId,
    )
    .map((r) => attemptOfRow(r, fromJson(r.error) as JobError | null));
}
