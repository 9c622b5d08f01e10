import { statesInto, type Job } from '../../domain/job.ts';
import { stateIn } from '../sql-states.ts';
import { rowToJob, type JobRow } from './rows.ts';
import type { Statements } from './statements.ts';

/**
 * Queue-wait expiry: up to `limit` jobs not started by their `expiresAt` (≤ `now`) end as
 * `expired`, in one statement, found by the partial index jobs_expiring (migration 13). Only the
 * states the table lets move to `expired` (queued) are touched, so a job a claim took first is
 * left alone; the claim in turn never takes a job past its expiry (CLAIMABLE in ./jobs.ts).
 */
export function expireDue(s: Statements, now: number, limit: number): Job[] {
  const from = stateIn(statesInto('expired'));
  return s
    .all<JobRow>(
      `UPDATE jobs SET state = 'expired', finished_at = ? WHERE rowid IN
        (SELECT rowid FROM jobs INDEXED BY jobs_expiring
          WHERE ${from} AND expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)
      RETURNING *`,
      now,
      now,
      Math.max(0, Math.trunc(limit)),
    )
    .map(rowToJob);
}
