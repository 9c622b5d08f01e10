import type { SQLInputValue } from 'node:sqlite';
import { IN_FLIGHT_STATES, type Job, type JobState } from '../../domain/job.ts';
import type { DueCursor, DueWithin, JobFilter, JobPage, QueueStats } from '../roles/job-listing.ts';
import { rowToJob, type JobRow } from './rows.ts';
import type { Statements } from './statements.ts';
import {
  byType,
  decodeCursor,
  encodeCursor,
  escapeLike,
  SEARCH_ID_MATCHES,
  SEARCH_PAYLOAD_WINDOW,
} from '../paging.ts';

export const MAX_PAGE = 1000;

/**
 * Newest first: by rowid, the order the store recorded the jobs (migration 8), which follows
 * createdAt on one gaffer. Paged by keyset on the rowid: a page costs the same at any depth, and
 * jobs inserted while paging never shift later pages (a new job's rowid is above every listed one).
 */
export function listJobs(s: Statements, filter: JobFilter): JobPage {
  const limit = Math.min(Math.max(Math.trunc(filter.limit), 1), MAX_PAGE);
  // One extra row tells whether another page exists without a COUNT. Several types: one query
  // each, merged; a type with more than `limit` rows left makes the merge longer than `limit` too.
  const rows = byType(filter)
    .flatMap((f) => {
      const { sql, params } = listQuery(f, limit + 1);
      return s.all<JobRow & { seq: number }>(sql, ...params);
    })
    .sort((a, b) => b.seq - a.seq);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    jobs: page.map(rowToJob),
    nextCursor: rows.length > limit && last ? encodeCursor(last.seq, last.id) : null,
  };
}

/**
 * The listing's SQL for a filter, exported so a test can EXPLAIN every filter combination: each
 * must read an index (test/dashboard/listing-plan.test.ts).
 */
export function listQuery(
  filter: Omit<JobFilter, 'limit'>,
  rowLimit: number,
): { sql: string; params: SQLInputValue[] } {
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  const add = (clause: string, ...values: SQLInputValue[]) => {
    where.push(clause);
    params.push(...values);
  };
  // With a search, its bounded candidates drive the query: `+` keeps the planner from walking a
  // type, state or batch index (maybe a million rows) and testing the search on each.
  const col = (name: string) => (filter.search ? `+${name}` : name);
  if (filter.type !== undefined) add(`${col('type')} = ?`, filter.type);
  if (filter.state !== undefined) add(`${col('state')} = ?`, filter.state);
  if (filter.batchId !== undefined) add(`${col('batch_id')} = ?`, filter.batchId);
  if (filter.dueAfter !== undefined) add('run_at > ?', filter.dueAfter);
  if (filter.search) {
    // The id prefix as a range on the primary key: LIKE would not use it (case-insensitive).
    add(
      `(id IN (SELECT id FROM jobs WHERE id >= ? AND id < ? ORDER BY id LIMIT ${SEARCH_ID_MATCHES})
        OR idempotency_key = ?
        OR (payload LIKE ? ESCAPE '\\' AND rowid IN (SELECT rowid FROM jobs
          ORDER BY rowid DESC LIMIT ${SEARCH_PAYLOAD_WINDOW})))`,
      filter.search,
      `${filter.search}\u{10FFFF}`,
      filter.search,
      `%${escapeLike(filter.search)}%`,
    );
  }
  // The cursor is (rowid, id) of the last job shown; the id only makes it look like PostgreSQL's.
  if (filter.cursor !== undefined) add('rowid < ?', decodeCursor(filter.cursor)[0]);
  const sql = `SELECT rowid AS seq, * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY rowid DESC LIMIT ?`;
  return { sql, params: [...params, rowLimit] };
}

export function becameDue(
  s: Statements,
  type: string,
  after: DueCursor,
  upTo: number,
  limit: number,
) {
  // The jobs_delayed partial index (migration 7) holds exactly the candidates, by (type, run_at).
  const sql = `SELECT * FROM jobs INDEXED BY jobs_delayed
    WHERE type = ? AND state = 'queued' AND run_at > created_at
      AND (run_at, id) > (?, ?) AND run_at <= ?
    ORDER BY run_at, id LIMIT ?`;
  const capped = Math.min(Math.max(Math.trunc(limit), 0), MAX_PAGE);
  return s.all<JobRow>(sql, type, after.runAt, after.id, upTo, capped).map(rowToJob);
}

/** Served by the jobs_delayed partial index: a range of (type, run_at). */
export function dueWithin(s: Statements, type: string, now: number, upTo: number): DueWithin {
  const sql = `SELECT count(*) AS n, min(run_at) AS first FROM jobs INDEXED BY jobs_delayed
    WHERE type = ? AND state = 'queued' AND run_at > created_at AND run_at > ? AND run_at <= ?
      AND cancel_requested = 0`;
  const r = s.get<{ n: number; first: number | null }>(sql, type, now, upTo);
  return { count: r?.n ?? 0, firstAt: r?.first ?? null };
}

export function readyJobs(s: Statements, type: string, dueBy: number, limit: number) {
  const sql = `SELECT * FROM jobs WHERE type = ? AND state = 'queued' AND run_at <= ?
    ORDER BY priority DESC, run_at, rowid LIMIT ?`;
  return s
    .all<JobRow>(sql, type, dueBy, Math.min(Math.max(Math.trunc(limit), 0), MAX_PAGE))
    .map(rowToJob);
}

export function queuePosition(
  s: Statements,
  job: Pick<Job, 'id' | 'type' | 'priority' | 'runAt'>,
  now: number,
): number {
  const sql = `SELECT COUNT(*) AS n FROM jobs WHERE type = ? AND state = 'queued' AND run_at <= ?
    AND (priority > ? OR (priority = ? AND (run_at < ? OR (run_at = ?
      AND rowid < (SELECT rowid FROM jobs WHERE id = ?)))))`;
  const args = [job.type, now, job.priority, job.priority, job.runAt, job.runAt, job.id];
  return s.get<{ n: number }>(sql, ...args)?.n ?? 0;
}

/**
 * Per type, at a cost that does not grow with the backlog (the autoscaler reads this every tick,
 * and ticks follow submissions): counts by state from job_counts (migration 7: insertJobs and
 * triggers keep it);
 * the delayed count and the queued jobs with a cancel request from small partial indexes; ready =
 * queued − delayed − those; the oldest ready createdAt by one index seek per type. One snapshot,
 * so the numbers agree with each other. Sorted by type.
 *
 * Contract: a job is delayed only if its runAt is after its createdAt (jobs_delayed holds only
 * those), true whenever createdAt ≤ now — one gaffer's clock, or replicas' clocks in step.
 */
export function queueStats(s: Statements, now: number): QueueStats[] {
  return s.snapshot(() => {
    const stats = new Map<string, QueueStats>();
    const of = (type: string): QueueStats => {
      const entry = stats.get(type) ?? emptyStats(type);
      stats.set(type, entry);
      return entry;
    };
    for (const r of s.all<TypeCount & { state: JobState }>(BY_STATE_SQL)) {
      const entry = of(r.type);
      entry.byState[r.state] = r.n;
      if (IN_FLIGHT_STATES.has(r.state)) entry.inFlight += r.n;
    }
    for (const r of s.all<TypeCount>(DELAYED_SQL, now)) of(r.type).delayed = r.n;
    const blocked = new Map(s.all<TypeCount>(CANCEL_QUEUED_SQL, now).map((r) => [r.type, r.n]));
    for (const entry of stats.values()) {
      const queued = entry.byState.queued ?? 0;
      entry.ready = Math.max(0, queued - entry.delayed - (blocked.get(entry.type) ?? 0));
      if (entry.ready > 0) {
        entry.oldestReadyAt = s.get<{ c: number }>(OLDEST_READY_SQL, entry.type, now)?.c ?? null;
      }
    }
    return [...stats.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  });
}

interface TypeCount {
  type: string;
  n: number;
}

const BY_STATE_SQL = `SELECT type, state, n FROM job_counts WHERE n > 0 ORDER BY type, state`;
// INDEXED BY pins the partial indexes: their WHERE clauses are repeated so they apply.
const DELAYED_SQL = `SELECT type, count(*) AS n FROM jobs INDEXED BY jobs_delayed
  WHERE state = 'queued' AND run_at > created_at AND run_at > ? GROUP BY type`;
const CANCEL_QUEUED_SQL = `SELECT type, count(*) AS n FROM jobs INDEXED BY jobs_cancel_queued
  WHERE state = 'queued' AND cancel_requested <> 0 AND run_at <= ? GROUP BY type`;
/** Walks the type's queued jobs oldest first and stops at the first ready one (usually the first). */
const OLDEST_READY_SQL = `SELECT created_at AS c FROM jobs INDEXED BY jobs_type_state
  WHERE type = ? AND state = 'queued' AND cancel_requested = 0 AND run_at <= ?
  ORDER BY rowid LIMIT 1`;

function emptyStats(type: string): QueueStats {
  return { type, ready: 0, delayed: 0, inFlight: 0, byState: {}, oldestReadyAt: null };
}
