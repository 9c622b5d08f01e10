import type { SQLInputValue } from 'node:sqlite';
import type { ScalingDecision } from '../../domain/events.ts';
import type { JobState } from '../../domain/job.ts';
import type { BatchRecord, BatchSummary, RejectedRow } from '../roles/batch-records.ts';
import type { LogLine } from '../roles/run-history.ts';
import type { WorkerEvent } from '../roles/scaling-log.ts';
import { BATCH_COLUMNS, countByState } from '../codec.ts';
import type { Statements } from './statements.ts';

/** At most this many log lines per read; callers page on with `afterSeq`. */
export const MAX_LOG_LINES = 10_000;

export function appendLog(
  s: Statements,
  id: string,
  stream: 'stdout' | 'stderr',
  data: string,
  now: number,
): void {
  s.run('INSERT INTO logs (job_id, at, stream, data) VALUES (?, ?, ?, ?)', id, now, stream, data);
}

/** Lines after `afterSeq` in append order; seq is global, so it only grows within a job too. */
export function readLogs(s: Statements, id: string, afterSeq = 0): LogLine[] {
  const rows = s.all<LogLine>(
    'SELECT seq, at, stream, data FROM logs WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    id,
    afterSeq,
    MAX_LOG_LINES,
  );
  return rows.map(({ seq, at, stream, data }) => ({ seq, at, stream, data }));
}

interface BatchRow {
  id: string;
  created_at: number;
  source: string;
  type: string | null;
  accepted: number;
  rejected: number;
  done: number;
}

export function createBatch(s: Statements, b: BatchRecord): void {
  s.run(
    `INSERT INTO batches (id, created_at, source, type, accepted, rejected, done)
      VALUES (?, ?, ?, ?, ?, ?, ?)`,
    b.id,
    b.createdAt,
    b.source,
    b.type,
    b.accepted,
    b.rejected,
    b.done ? 1 : 0,
  );
}

export function updateBatch(
  s: Statements,
  id: string,
  patch: Partial<Omit<BatchRecord, 'id'>>,
): void {
  const fields = (Object.keys(BATCH_COLUMNS) as (keyof typeof BATCH_COLUMNS)[]).filter(
    (key) => patch[key] !== undefined,
  );
  if (fields.length === 0) return;
  const set = fields.map((key) => `${BATCH_COLUMNS[key]} = ?`).join(', ');
  const values = fields.map((key) => {
    const value = patch[key];
    return typeof value === 'boolean' ? (value ? 1 : 0) : (value ?? null);
  });
  s.run(`UPDATE batches SET ${set} WHERE id = ?`, ...values, id);
}

export function getBatch(s: Statements, id: string): BatchSummary | undefined {
  return s.snapshot(() => {
    const row = s.get<BatchRow>('SELECT * FROM batches WHERE id = ?', id);
    if (!row) return undefined;
    const counts = s.all<{ state: JobState; n: number }>(
      'SELECT state, count(*) AS n FROM jobs WHERE batch_id = ? GROUP BY state',
      id,
    );
    return {
      id: row.id,
      createdAt: row.created_at,
      source: row.source,
      type: row.type,
      accepted: row.accepted,
      rejected: row.rejected,
      done: row.done !== 0,
      byState: countByState(counts),
    };
  });
}

/** All rows in one transaction; the batch must exist (foreign key). */
export function addRejectedRows(
  s: Statements,
  batchId: string,
  rows: readonly RejectedRow[],
): void {
  if (rows.length === 0) return;
  const insert = s.prepare(
    'INSERT INTO rejected_rows (batch_id, row, raw, code, message) VALUES (?, ?, ?, ?, ?)',
  );
  s.transaction(() => {
    for (const r of rows) insert.run(batchId, r.row, r.raw, r.code, r.message);
  });
}

export function rejectedRows(s: Statements, batchId: string): RejectedRow[] {
  const rows = s.all<RejectedRow>(
    'SELECT row, raw, code, message FROM rejected_rows WHERE batch_id = ? ORDER BY row, rowid',
    batchId,
  );
  return rows.map(({ row, raw, code, message }) => ({ row, raw, code, message }));
}

export function recordDecision(s: Statements, d: ScalingDecision): void {
  s.run(
    `INSERT INTO decisions (type, at, from_count, to_count, retire, reason, inputs)
      VALUES (?, ?, ?, ?, ?, ?, ?)`,
    d.type,
    d.at,
    d.from,
    d.to,
    JSON.stringify(d.retire),
    d.reason,
    JSON.stringify(d.inputs),
  );
}

interface DecisionRow {
  type: string;
  at: number;
  from_count: number;
  to_count: number;
  retire: string;
  reason: string;
  inputs: string;
}

/** Newest first; equal times keep reverse insertion order. */
export function decisions(
  s: Statements,
  filter: { type?: string; limit: number },
): ScalingDecision[] {
  const rows = s.all<DecisionRow>(...newestFirst('decisions', filter));
  return rows.map((r) => ({
    type: r.type,
    at: r.at,
    from: r.from_count,
    to: r.to_count,
    retire: JSON.parse(r.retire) as string[],
    reason: r.reason,
    inputs: JSON.parse(r.inputs) as Record<string, number>,
  }));
}

export function recordWorkerEvent(s: Statements, e: WorkerEvent): void {
  s.run(
    `INSERT INTO worker_events (at, worker_id, type, event, active, detail)
      VALUES (?, ?, ?, ?, ?, ?)`,
    e.at,
    e.workerId,
    e.type,
    e.event,
    e.active,
    e.detail,
  );
}

/** Newest first; equal times keep reverse insertion order. */
export function workerEvents(
  s: Statements,
  filter: { type?: string; limit: number },
): WorkerEvent[] {
  const rows = s.all<WorkerEventRow>(...newestFirst('worker_events', filter));
  return rows.map((r) => ({
    at: r.at,
    workerId: r.worker_id,
    type: r.type,
    event: r.event,
    active: r.active,
    detail: r.detail,
  }));
}

interface WorkerEventRow {
  at: number;
  worker_id: string;
  type: string;
  event: WorkerEvent['event'];
  active: number;
  detail: string | null;
}

/**
 * The newest rows of an append-only table, optionally of one type. Two SQL texts rather than
 * `(? IS NULL OR type = ?)`, which would keep SQLite from using the (type, at) index.
 */
function newestFirst(
  table: 'decisions' | 'worker_events',
  filter: { type?: string; limit: number },
): [string, ...SQLInputValue[]] {
  const order = 'ORDER BY at DESC, seq DESC LIMIT ?';
  return filter.type === undefined
    ? [`SELECT * FROM ${table} ${order}`, filter.limit]
    : [`SELECT * FROM ${table} WHERE type = ? ${order}`, filter.type, filter.limit];
}
