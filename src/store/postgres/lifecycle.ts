import type pg from 'pg';
import type { Job } from '../../domain/job.ts';
import { toJson } from '../codec.ts';
import type { DeadLetterEdit } from '../roles/dead-letter-writes.ts';
import { cutEntry, logTrimMarker, type PurgeRequest } from '../roles/job-retention.ts';
import { first, rows, run, transaction, type Queryable } from './db.ts';
import { getJob, requeueSet } from './jobs.ts';
import { rowToJob, type JobRow } from './rows.ts';

/** Dead-letter edits and replays, and retention (each contract is in ../roles/dead-letter-writes.ts and ../roles/job-retention.ts). */

export async function editDeadLettered(
  pool: pg.Pool,
  id: string,
  patch: DeadLetterEdit,
): Promise<Job | undefined> {
  const set: string[] = [];
  const params: unknown[] = [];
  const add = (column: string, value: unknown, cast = '') => {
    params.push(value);
    set.push(`${column} = $${params.length}${cast}`);
  };
  if ('payload' in patch) add('payload', toJson(patch.payload), '::jsonb');
  if (patch.maxAttempts !== undefined) add('max_attempts', patch.maxAttempts);
  if (patch.priority !== undefined) add('priority', patch.priority);
  if (set.length === 0) return getJob(pool, id);
  params.push(id);
  const row = await first<JobRow>(
    pool,
    `UPDATE jobs SET ${set.join(', ')} WHERE id = $${params.length} AND state = 'dead_lettered'
      RETURNING *`,
    params,
  );
  return row ? rowToJob(row) : getJob(pool, id);
}

export async function replayDeadLettered(
  pool: pg.Pool,
  ids: readonly string[],
  now: number,
): Promise<Job[]> {
  if (ids.length === 0) return [];
  const replayed = await rows<JobRow>(
    pool,
    `UPDATE jobs SET ${requeueSet('$1')}
    WHERE id = ANY($2::text[]) AND state = 'dead_lettered' RETURNING *`,
    [now, ids],
  );
  const order = new Map(ids.map((id, i) => [id, i]));
  return replayed.map(rowToJob).sort((a, b) => order.get(a.id)! - order.get(b.id)!);
}

/** One statement: its deletes (and the logs' cascade) commit together. */
export async function purgeEnded(pool: pg.Pool, req: PurgeRequest): Promise<number> {
  if (req.states.length === 0 || req.limit <= 0) return 0;
  const ended = `state = ANY($1::text[]) AND finished_at IS NOT NULL`;
  const params: unknown[] = [req.states];
  const conditions: string[] = [];
  if (req.endedBefore !== null) {
    params.push(req.endedBefore);
    conditions.push(`finished_at < $${params.length}`);
  }
  if (req.keepNewest !== null) {
    // The newest row beyond the kept ones: it and everything that ended before it go.
    const edge = await first<{ finished_at: number; id: string }>(
      pool,
      `SELECT finished_at, id FROM jobs WHERE ${ended}
        ORDER BY finished_at DESC, id DESC LIMIT 1 OFFSET $2`,
      [req.states, req.keepNewest],
    );
    if (edge) {
      params.push(edge.finished_at, edge.id);
      conditions.push(`(finished_at, id) <= ($${params.length - 1}::bigint, $${params.length})`);
    }
  }
  if (conditions.length === 0) return 0;
  params.push(req.limit);
  return run(
    pool,
    `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE ${ended}
      AND (${conditions.join(' OR ')}) ORDER BY finished_at, id LIMIT $${params.length})`,
    params,
  );
}

/**
 * Each job is cut in a transaction of its own holding the job's row lock, so two replicas
 * sweeping at once cut a log one after the other. seq comes from an identity, so a line committed
 * late can have a seq below `lastSeq`; its job is then checked the next time it logs.
 */
export async function trimLogs(
  pool: pg.Pool,
  maxBytes: number,
  afterSeq: number,
): Promise<{ trimmed: string[]; lastSeq: number }> {
  const last = await first<{ v: number | null }>(pool, 'SELECT max(seq) AS v FROM logs');
  const lastSeq = Math.max(last?.v ?? afterSeq, afterSeq);
  const jobs = await rows<{ job_id: string }>(
    pool,
    'SELECT DISTINCT job_id FROM logs WHERE seq > $1 AND seq <= $2',
    [afterSeq, lastSeq],
  );
  const trimmed: string[] = [];
  for (const { job_id: id } of jobs) {
    if (await transaction(pool, (c) => trimJob(c, id, maxBytes))) trimmed.push(id);
  }
  return { trimmed, lastSeq };
}

/** Cuts one job's log to its budget (see JobRetention.trimLogs); true when it cut anything. */
async function trimJob(c: Queryable, jobId: string, maxBytes: number): Promise<boolean> {
  await c.query('SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE', [jobId]);
  const total = await first<{ n: number | null }>(
    c,
    'SELECT sum(octet_length(data))::bigint AS n FROM logs WHERE job_id = $1',
    [jobId],
  );
  if (total?.n == null || total.n <= maxBytes) return false;
  const budget = maxBytes - Buffer.byteLength(logTrimMarker(maxBytes));
  // Newest first with a running total: the first entry past the budget straddles the cut.
  const cut = await first<{ seq: number; data: Buffer; run: number; bytes: number }>(
    c,
    `SELECT seq, data, run, bytes FROM (SELECT seq, data, octet_length(data) AS bytes,
        sum(octet_length(data)) OVER (ORDER BY seq DESC)::bigint AS run
        FROM logs WHERE job_id = $1) AS t
      WHERE run > $2 ORDER BY seq DESC LIMIT 1`,
    [jobId, budget],
  );
  if (!cut) return false;
  const room = budget - (cut.run - cut.bytes);
  await run(c, 'DELETE FROM logs WHERE job_id = $1 AND seq < $2', [jobId, cut.seq]);
  await run(c, 'UPDATE logs SET data = $1 WHERE seq = $2', [
    cutEntry(cut.data, room, maxBytes),
    cut.seq,
  ]);
  return true;
}
