import type pg from 'pg';
import type { ScalingDecision } from '../../domain/events.ts';
import type { JobState } from '../../domain/job.ts';
import type { BatchRecord, BatchSummary, RejectedRow } from '../roles/batch-records.ts';
import type { LogLine } from '../roles/run-history.ts';
import type { WorkerEvent } from '../roles/scaling-log.ts';
import { first, rows, run, snapshot } from './db.ts';
import { BATCH_COLUMNS, countByState } from '../codec.ts';

/** At most this many log lines per read; callers page on with `afterSeq`. */
export const MAX_LOG_LINES = 10_000;

/** The job must exist (foreign key). The line is stored as UTF-8 bytes, so NUL survives. */
export async function appendLog(
  pool: pg.Pool,
  id: string,
  stream: 'stdout' | 'stderr',
  data: string,
  now: number,
): Promise<void> {
  await run(pool, 'INSERT INTO logs (job_id, at, stream, data) VALUES ($1, $2, $3, $4)', [
    id,
    now,
    stream,
    Buffer.from(data, 'utf8'),
  ]);
}

/**
 * Lines after `afterSeq` in append order. seq comes from an identity sequence: it only grows
 * within a job as long as one writer appends that job's lines one after another (as a worker does).
 */
export async function readLogs(pool: pg.Pool, id: string, afterSeq = 0): Promise<LogLine[]> {
  const found = await rows<Omit<LogLine, 'data'> & { data: Buffer }>(
    pool,
    'SELECT seq, at, stream, data FROM logs WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
    [id, afterSeq, MAX_LOG_LINES],
  );
  return found.map(({ seq, at, stream, data }) => ({
    seq,
    at,
    stream,
    data: data.toString('utf8'),
  }));
}

interface BatchRow {
  id: string;
  created_at: number;
  source: string;
  type: string | null;
  accepted: number;
  rejected: number;
  done: boolean;
}

export async function createBatch(pool: pg.Pool, b: BatchRecord): Promise<void> {
  await run(
    pool,
    `INSERT INTO batches (id, created_at, source, type, accepted, rejected, done)
      VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [b.id, b.createdAt, b.source, b.type, b.accepted, b.rejected, b.done],
  );
}

export async function updateBatch(
  pool: pg.Pool,
  id: string,
  patch: Partial<Omit<BatchRecord, 'id'>>,
): Promise<void> {
  const fields = (Object.keys(BATCH_COLUMNS) as (keyof typeof BATCH_COLUMNS)[]).filter(
    (key) => patch[key] !== undefined,
  );
  if (fields.length === 0) return;
  const set = fields.map((key, i) => `${BATCH_COLUMNS[key]} = $${i + 1}`).join(', ');
  const values = fields.map((key) => patch[key] ?? null);
  await run(pool, `UPDATE batches SET ${set} WHERE id = $${fields.length + 1}`, [...values, id]);
}

/** The batch and its job counts from one snapshot. */
export async function getBatch(pool: pg.Pool, id: string): Promise<BatchSummary | undefined> {
  return snapshot(pool, async (c) => {
    const row = await first<BatchRow>(c, 'SELECT * FROM batches WHERE id = $1', [id]);
    if (!row) return undefined;
    const counts = await rows<{ state: JobState; n: number }>(
      c,
      'SELECT state, count(*) AS n FROM jobs WHERE batch_id = $1 GROUP BY state',
      [id],
    );
    return {
      id: row.id,
      createdAt: row.created_at,
      source: row.source,
      type: row.type,
      accepted: row.accepted,
      rejected: row.rejected,
      done: row.done,
      byState: countByState(counts),
    };
  });
}

/** All rows in one statement (so one transaction); the batch must exist (foreign key). */
export async function addRejectedRows(
  pool: pg.Pool,
  batchId: string,
  list: readonly RejectedRow[],
): Promise<void> {
  if (list.length === 0) return;
  // WITH ORDINALITY keeps the input order in seq, the tie-break for equal row numbers.
  await run(
    pool,
    `INSERT INTO rejected_rows (batch_id, row, raw, code, message)
      SELECT $1, t.row, t.raw, t.code, t.message
      FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY
        AS t(row, raw, code, message, n)
      ORDER BY t.n`,
    [
      batchId,
      list.map((r) => r.row),
      list.map((r) => r.raw),
      list.map((r) => r.code),
      list.map((r) => r.message),
    ],
  );
}

export async function rejectedRows(pool: pg.Pool, batchId: string): Promise<RejectedRow[]> {
  return rows<RejectedRow>(
    pool,
    'SELECT row, raw, code, message FROM rejected_rows WHERE batch_id = $1 ORDER BY row, seq',
    [batchId],
  );
}

export async function recordDecision(pool: pg.Pool, d: ScalingDecision): Promise<void> {
  await run(
    pool,
    `INSERT INTO decisions (type, at, from_count, to_count, retire, reason, inputs)
      VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb)`,
    [d.type, d.at, d.from, d.to, JSON.stringify(d.retire), d.reason, JSON.stringify(d.inputs)],
  );
}

/** Newest first; equal times keep reverse insertion order. */
export async function decisions(
  pool: pg.Pool,
  filter: { type?: string; limit: number },
): Promise<ScalingDecision[]> {
  return rows<ScalingDecision>(
    pool,
    ...newestFirst(
      'decisions',
      'type, at, from_count AS "from", to_count AS "to", retire, reason, inputs',
      filter,
    ),
  );
}

export async function recordWorkerEvent(pool: pg.Pool, e: WorkerEvent): Promise<void> {
  await run(
    pool,
    `INSERT INTO worker_events (at, worker_id, type, event, active, detail)
      VALUES ($1, $2, $3, $4, $5, $6)`,
    [e.at, e.workerId, e.type, e.event, e.active, e.detail],
  );
}

/** Newest first; equal times keep reverse insertion order. */
export async function workerEvents(
  pool: pg.Pool,
  filter: { type?: string; limit: number },
): Promise<WorkerEvent[]> {
  return rows<WorkerEvent>(
    pool,
    ...newestFirst(
      'worker_events',
      'at, worker_id AS "workerId", type, event, active, detail',
      filter,
    ),
  );
}

/**
 * The newest rows of an append-only table, optionally of one type. Two SQL texts rather than
 * `($1 IS NULL OR type = $1)`, which would keep a generic plan from using the (type, at) index.
 */
function newestFirst(
  table: 'decisions' | 'worker_events',
  columns: string,
  filter: { type?: string; limit: number },
): [string, unknown[]] {
  const order = 'ORDER BY at DESC, seq DESC LIMIT';
  return filter.type === undefined
    ? [`SELECT ${columns} FROM ${table} ${order} $1`, [filter.limit]]
    : [`SELECT ${columns} FROM ${table} WHERE type = $1 ${order} $2`, [filter.type, filter.limit]];
}
