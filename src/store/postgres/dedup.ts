import { decideDedup } from '../../domain/dedup.ts';
import type { Job, NewJob } from '../../domain/job.ts';
import { toJson } from '../codec.ts';
import { first, type Queryable } from './db.ts';
import { rowToJob, type JobRow } from './rows.ts';

/** The row holding a scoped key, locked until the transaction ends. */
const HOLDER_SQL = `SELECT * FROM jobs WHERE idempotency_key = $1 AND type = $2 AND submitted_by = $3
  FOR UPDATE`;

/**
 * How many times a submission re-reads a key another transaction changed under it before it gives
 * up. Each retry follows a commit that settled the key (a new holder, or a released one), so two
 * suffice; the rest is margin.
 */
const ROUNDS = 5;

/**
 * Applies `job`'s dedup mode (src/domain/dedup.ts) to the job holding its key, inside the insert's
 * transaction. Returns the job the submission yields (the holder, or the holder debounced), or null
 * once `job` itself was inserted under the key the holder gave up.
 *
 * Concurrent submissions under one key yield one job: the holder is read FOR UPDATE, so a second
 * transaction waits for the first to commit; its release (`idempotency_key = NULL` where the key
 * is still the holder's) then changes nothing, and its insert meets the first's new job under the
 * unique index (ON CONFLICT waits for that transaction), after which it reads the new holder again.
 */
export async function applyDedup(
  client: Queryable,
  job: NewJob,
  insertOne: (job: NewJob) => Promise<boolean>,
  submitter: string,
): Promise<Job | null> {
  const key = [job.idempotencyKey, job.type, submitter];
  for (let round = 0; round < ROUNDS; round++) {
    const held = await first<JobRow>(client, HOLDER_SQL, key);
    if (!held) {
      if (await insertOne(job)) return null;
      continue;
    }
    const decision = decideDedup({
      existing: { state: held.state, createdAt: Number(held.created_at), attempt: held.attempt },
      dedup: job.dedup ?? null,
      equal: true,
      now: job.createdAt,
    });
    if (decision.action === 'existing' || decision.action === 'conflict') return rowToJob(held);
    if (decision.action === 'replace') {
      const row = await first<JobRow>(
        client,
        `UPDATE jobs SET payload = $2::jsonb, run_at = $3, flow_key = $4 WHERE id = $1
          RETURNING *`,
        [held.id, toJson(job.payload), decision.runAt, job.flowKey ?? null],
      );
      if (row) return rowToJob(row);
      continue;
    }
    await client.query('UPDATE jobs SET idempotency_key = NULL WHERE id = $1', [held.id]);
    if (await insertOne(job)) return null;
  }
  throw new Error(`idempotency key ${job.idempotencyKey ?? ''} kept changing under a submission`);
}
