import type pg from 'pg';
import { statesInto, type Job } from '../../domain/job.ts';
import { stateIn } from '../sql-states.ts';
import { rows } from './db.ts';
import { rowToJob, type JobRow } from './rows.ts';

/**
 * Queue-wait expiry: up to `limit` jobs not started by their `expiresAt` (≤ `now`) end as
 * `expired`, in one statement, found by the partial index jobs_expiring (migration 11). Rows a
 * concurrent claim holds are skipped (SKIP LOCKED): that claim either takes the job before its
 * expiry or finds it past it (the claim checks expiry too), and the next sweep sees what is left.
 */
export async function expireDue(pool: pg.Pool, now: number, limit: number): Promise<Job[]> {
  const from = stateIn(statesInto('expired'));
  // MATERIALIZED: the candidates are chosen once (LIMIT and the locks apply exactly once).
  const sql = `WITH due AS MATERIALIZED (SELECT id FROM jobs
      WHERE ${from} AND expires_at IS NOT NULL AND expires_at <= $1
      LIMIT $2 FOR UPDATE SKIP LOCKED)
    UPDATE jobs SET state = 'expired', finished_at = $1 FROM due
    WHERE jobs.id = due.id AND ${stateIn(statesInto('expired'), 'jobs.state')}
    RETURNING jobs.*`;
  return (await rows<JobRow>(pool, sql, [now, Math.max(0, Math.trunc(limit))])).map(rowToJob);
}
