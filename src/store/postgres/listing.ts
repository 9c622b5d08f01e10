import type pg from 'pg';
import { IN_FLIGHT_STATES, type Job, type JobState } from '../../domain/job.ts';
import type { DueCursor, DueWithin, JobFilter, JobPage, QueueStats } from '../roles/job-listing.ts';
import { rows } from './db.ts';
import { rowToJob, type JobRow } from './rows.ts';
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
 * Newest first, paged by keyset on (created_at, id): a page costs the same at any depth, and jobs
 * inserted while paging never shift later pages (no skipped or repeated rows).
 */
export async function listJobs(pool: pg.Pool, filter: JobFilter): Promise<JobPage> {
  const limit = Math.min(Math.max(Math.trunc(filter.limit), 1), MAX_PAGE);
  // One extra row tells whether another page exists without a COUNT. Several types: one query
  // each, merged; a type with more than `limit` rows left makes the merge longer than `limit` too.
  const pages = await Promise.all(byType(filter).map((f) => listRows(pool, f, limit + 1)));
  const found = pages.flat().sort(newestFirst);
  const page = found.slice(0, limit);
  const last = page.at(-1);
  return {
    jobs: page.map(rowToJob),
    nextCursor: found.length > limit && last ? encodeCursor(last.created_at, last.id) : null,
  };
}

function newestFirst(a: JobRow, b: JobRow): number {
  if (a.created_at !== b.created_at) return b.created_at - a.created_at;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** Up to `rowLimit` rows of one listing (a single type or none), newest first. */
async function listRows(pool: pg.Pool, filter: JobFilter, rowLimit: number): Promise<JobRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  /** `clause` names its one parameter `$?`; it is numbered here. */
  const add = (clause: string, value: unknown) => {
    where.push(clause.replace('$?', () => `$${params.push(value)}`));
  };
  if (filter.type !== undefined) add('type = $?', filter.type);
  if (filter.state !== undefined) add('state = $?', filter.state);
  if (filter.batchId !== undefined) add('batch_id = $?', filter.batchId);
  if (filter.dueAfter !== undefined) add('run_at > $?', filter.dueAfter);
  if (filter.search) {
    const term = escapeLike(filter.search);
    // ILIKE under "C" folds ASCII case only, which is SQLite's LIKE. The payload is matched in
    // its jsonb text form ({"key": value}, keys sorted), SQLite's in the JSON text it stored.
    // Bounded branches (paging.ts): an id prefix (LIKE on the "C"-collated primary key is an
    // index range), an idempotency key, payload text among the newest jobs.
    where.push(
      `(id IN (SELECT id FROM jobs WHERE id LIKE $${params.push(`${term}%`)} ESCAPE '\\'
          ORDER BY id LIMIT ${SEARCH_ID_MATCHES})
        OR idempotency_key = $${params.push(filter.search)}
        OR ((payload::text COLLATE "C") ILIKE $${params.push(`%${term}%`)} ESCAPE '\\'
          AND id IN (SELECT id FROM jobs ORDER BY created_at DESC, id DESC
            LIMIT ${SEARCH_PAYLOAD_WINDOW})))`,
    );
  }
  if (filter.cursor !== undefined) {
    const [createdAt, id] = decodeCursor(filter.cursor);
    where.push(`(created_at, id) < ($${params.push(createdAt)}, $${params.push(id)})`);
  }
  const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY created_at DESC, id DESC LIMIT $${params.push(rowLimit)}`;
  return rows<JobRow>(pool, sql, params);
}

interface StatsRow {
  kind: 'state' | 'ready' | 'delayed';
  type: string;
  state: JobState | null;
  n: number;
  oldest: number | null;
}

export async function becameDue(
  pool: pg.Pool,
  type: string,
  after: DueCursor,
  upTo: number,
  limit: number,
) {
  const sql = `SELECT * FROM jobs WHERE type = $1 AND state = 'queued' AND run_at > created_at
      AND (run_at, id) > ($2, $3) AND run_at <= $4
    ORDER BY run_at, id LIMIT $5`;
  const capped = Math.min(Math.max(Math.trunc(limit), 0), MAX_PAGE);
  return (await rows<JobRow>(pool, sql, [type, after.runAt, after.id, upTo, capped])).map(rowToJob);
}

/** Served by jobs_type_state: a range of (type, state, run_at). */
export async function dueWithin(
  pool: pg.Pool,
  type: string,
  now: number,
  upTo: number,
): Promise<DueWithin> {
  const sql = `SELECT count(*) AS n, min(run_at) AS first FROM jobs
    WHERE type = $1 AND state = 'queued' AND run_at > $2 AND run_at <= $3 AND NOT cancel_requested`;
  const [r] = await rows<{ n: number; first: number | null }>(pool, sql, [type, now, upTo]);
  return { count: r?.n ?? 0, firstAt: r?.first ?? null };
}

export async function readyJobs(pool: pg.Pool, type: string, dueBy: number, limit: number) {
  const sql = `SELECT * FROM jobs WHERE type = $1 AND state = 'queued' AND run_at <= $2
    ORDER BY priority DESC, run_at, id LIMIT $3`;
  const capped = Math.min(Math.max(Math.trunc(limit), 0), MAX_PAGE);
  return (await rows<JobRow>(pool, sql, [type, dueBy, capped])).map(rowToJob);
}

export async function queuePosition(
  pool: pg.Pool,
  job: Pick<Job, 'id' | 'type' | 'priority' | 'runAt'>,
  now: number,
): Promise<number> {
  const sql = `SELECT COUNT(*)::int AS n FROM jobs WHERE type = $1 AND state = 'queued'
    AND run_at <= $2 AND (priority > $3 OR (priority = $3 AND (run_at < $4 OR (run_at = $4 AND id < $5))))`;
  const found = await rows<{ n: number }>(pool, sql, [
    job.type,
    now,
    job.priority,
    job.runAt,
    job.id,
  ]);
  return found[0]?.n ?? 0;
}

/**
 * Per type: counts by state, the ready count with the oldest ready createdAt (from the partial
 * claim index), and the delayed count. One statement, so one snapshot: the numbers agree with each
 * other. Sorted by type.
 */
const STATS_SQL = `
  SELECT 'state' AS kind, type, state, count(*) AS n, NULL::bigint AS oldest
    FROM jobs GROUP BY type, state
  UNION ALL
  SELECT 'ready', type, NULL, count(*), min(created_at) FROM jobs
    WHERE state = 'queued' AND NOT cancel_requested AND run_at <= $1 GROUP BY type
  UNION ALL
  SELECT 'delayed', type, NULL, count(*), NULL FROM jobs
    WHERE state = 'queued' AND run_at > $1 GROUP BY type`;

export async function queueStats(pool: pg.Pool, now: number): Promise<QueueStats[]> {
  const stats = new Map<string, QueueStats>();
  const of = (type: string): QueueStats => {
    const entry = stats.get(type) ?? emptyStats(type);
    stats.set(type, entry);
    return entry;
  };
  for (const r of await rows<StatsRow>(pool, STATS_SQL, [now])) {
    const entry = of(r.type);
    if (r.kind === 'state' && r.state !== null) {
      entry.byState[r.state] = r.n;
      if (IN_FLIGHT_STATES.has(r.state)) entry.inFlight += r.n;
    } else if (r.kind === 'ready') {
      entry.ready = r.n;
      entry.oldestReadyAt = r.oldest;
    } else if (r.kind === 'delayed') {
      entry.delayed = r.n;
    }
  }
  return [...stats.values()].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

function emptyStats(type: string): QueueStats {
  return { type, ready: 0, delayed: 0, inFlight: 0, byState: {}, oldestReadyAt: null };
}
