import type pg from 'pg';
import { IN_FLIGHT_STATES, JOB_STATES, type JobError } from '../../domain/job.ts';
import {
  attemptError,
  attemptOfRow,
  attemptOutcome,
  type AttemptRecord,
  type AttemptRow,
} from '../attempts.ts';
import type { FinishUpdate } from '../roles/job-records.ts';
import { toJson } from '../codec.ts';
import { transitionIn } from '../sql-states.ts';
import { rows, run, type Queryable } from './db.ts';

/** The fence of the update that ends the attempt: the job's move to `to_state` is allowed. */
const ENDS_FROM = transitionIn(
  JOB_STATES.filter((s) => s !== 'running'),
  IN_FLIGHT_STATES,
  'u.to_state',
  'j.state',
);

/**
 * Records the attempts the updates end (src/store/attempts.ts), one row per update whose fence
 * (token, in-flight state) still holds, read before the update clears the lease owner. The rows
 * are locked here in id order (as the update then takes them), so the update that follows in the
 * same transaction applies to exactly these jobs: a stale completion records nothing.
 */
export async function recordAttempts(
  client: Queryable,
  updates: readonly FinishUpdate[],
): Promise<void> {
  const cols: unknown[][] = [[], [], [], [], [], []];
  for (const u of updates) {
    const values = [u.id, u.token, u.now, attemptOutcome(u), u.to, toJson(attemptError(u))];
    values.forEach((v, c) => cols[c]!.push(v));
  }
  await run(
    client,
    `INSERT INTO job_attempts (job_id, replay, attempt, worker, started_at, finished_at, outcome,
      job_state, error)
    SELECT j.id, j.replays, j.attempt, j.lease_owner, j.started_at, u.now, u.outcome, u.to_state,
      u.error::jsonb
    FROM jobs j JOIN unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
      $6::text[]) AS u(id, token, now, outcome, to_state, error) ON j.id = u.id
    WHERE j.lease_token = u.token AND ${ENDS_FROM}
    ORDER BY j.id FOR UPDATE OF j`,
    cols,
  );
}

/** The job's ended attempts, oldest first (append order). */
export async function attempts(pool: pg.Pool, jobId: string): Promise<AttemptRecord[]> {
  const found = await rows<AttemptRow<JobError | null>>(
    pool,
    'SELECT * FROM job_attempts WHERE job_id = $1 ORDER BY seq',
    [jobId],
  );
  return found.map((r) => attemptOfRow(r, r.error)); // jsonb comes back parsed
}
