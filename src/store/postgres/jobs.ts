import type pg from 'pg';
import {
  CANCELLABLE_STATES,
  CLAIMABLE_STATES,
  IN_FLIGHT_STATES,
  REQUEUEABLE_STATES,
  finishFrom,
  statesInto,
  type Job,
  type NewJob,
} from '../../domain/job.ts';
import type { ClaimRequest, FinishUpdate } from '../roles/job-records.ts';
import { first, rows, run, transaction, type Queryable } from './db.ts';
import { toJson } from '../codec.ts';
import { stateIn, transitionIn } from '../sql-states.ts';
import { recordAttempts } from './attempts.ts';
import { applyDedup } from './dedup.ts';
import { newJobToJob, rowToJob, type JobRow } from './rows.ts';

/** The lease-holding states; every fenced write requires one of them. */
const IN_FLIGHT = stateIn(IN_FLIGHT_STATES);

/** Ends the lease without dropping its token: a replayed write with that token stays refused. */
const END_LEASE = 'lease_owner = NULL, lease_expires_at = NULL';

/**
 * An ended job back to queued as if new: attempt 0 (a fresh run with all of maxAttempts), one more
 * replay on its record, claimable at the time bound to `runAt`, with no result, error or lease,
 * and no expiry (the operator asked for this run now; an expired job would expire again at once).
 */
export function requeueSet(runAt: string): string {
  return `state = 'queued', attempt = 0, replays = replays + 1, run_at = ${runAt}, started_at = NULL,
    finished_at = NULL, result = NULL, error = NULL, cancel_requested = false, expires_at = NULL,
    ${END_LEASE}`;
}

/** Rows per INSERT statement: one statement of 18 array parameters, however many rows. */
export const INSERT_CHUNK = 1000;

/**
 * An insert of at least this many rows refreshes the planner statistics of `jobs` before it
 * resolves. Without that, right after a bulk insert into a table the statistics describe as
 * small (or never analysed), the planner expects a handful of queued rows and claims by sorting
 * every queued job of the type (about 100 ms at 100k jobs) instead of walking jobs_claim in
 * claim order (well under 1 ms); autovacuum would only catch up a minute or so later.
 */
export const ANALYZE_AFTER = 10_000;

/**
 * The new jobs of one chunk as 18 parallel arrays, expanded by unnest into rows. The parameter
 * count stays fixed whatever the chunk size (a VALUES list would need 14 per row and hit the
 * 65,535 limit), and one SQL text serves every chunk.
 */
const INSERT_SQL = `INSERT INTO jobs (id, type, queue, payload, priority, attributes, state, attempt,
    max_attempts, timeout_ms, created_at, run_at, batch_id, idempotency_key, route_reason, data,
    submitted_by, resources, flow_key, expires_at)
  SELECT t.id, t.type, t.queue, t.payload::jsonb, t.priority, t.attributes::jsonb, 'queued', 0,
    t.max_attempts, t.timeout_ms, t.created_at, t.run_at, t.batch_id, t.idempotency_key,
    t.route_reason, t.data::jsonb, t.submitted_by, t.resources::jsonb, t.flow_key, t.expires_at
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::text[],
    $7::integer[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[],
    $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::bigint[])
    AS t(id, type, queue, payload, priority, attributes, max_attempts, timeout_ms, created_at,
      run_at, batch_id, idempotency_key, route_reason, data, submitted_by, resources, flow_key,
      expires_at)
  ON CONFLICT (idempotency_key, type, submitted_by) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING id`;

/** Stored jobs by (key, type, submitter): the rows that took the keys of a chunk's skipped jobs. */
const BY_SCOPED_KEY_SQL = `SELECT * FROM jobs WHERE idempotency_key IS NOT NULL
  AND (idempotency_key, type, submitted_by) IN
    (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))`;

/** Who submitted a job that does not say. */
const ANONYMOUS_SUBMITTER = 'anonymous';

/** A keyed job's scope: its key is unique per type and submitter (null: no key). */
function scopedKey(job: {
  idempotencyKey: string | null;
  type: string;
  submittedBy?: string | undefined;
}): string | null {
  if (job.idempotencyKey === null) return null;
  return JSON.stringify([job.idempotencyKey, job.type, job.submittedBy ?? ANONYMOUS_SUBMITTER]);
}

/**
 * Inserts all jobs in one transaction, in chunks of multi-row INSERTs. A job whose idempotency key
 * is already stored (by an earlier call, or earlier in this one) yields the stored job instead.
 * A duplicate key within the call is resolved here, so only its first holder is sent; a key that
 * conflicts with a stored row (possibly committed concurrently: ON CONFLICT waits for that
 * transaction) is skipped by the server and the stored row read back by key.
 */
export async function insertJobs(pool: pg.Pool, jobs: readonly NewJob[]): Promise<Job[]> {
  if (jobs.length === 0) return [];
  // For each input position, the position of the first job with the same scoped key (itself if
  // none): a key is unique per type and submitter.
  const firstWithKey = new Map<string, number>();
  const scoped = jobs.map(scopedKey);
  const source = jobs.map((_, i) => {
    const key = scoped[i];
    if (key === null || key === undefined) return i;
    const earlier = firstWithKey.get(key);
    if (earlier !== undefined) return earlier;
    firstWithKey.set(key, i);
    return i;
  });
  // Keyed jobs first, in key order: concurrent inserts then wait on keys in one order and cannot
  // deadlock on each other's pending rows. The stored order is irrelevant (results are built here).
  const toSend = jobs
    .map((job, i) => ({ job, key: scoped[i] ?? null }))
    .filter((_, i) => source[i] === i)
    .sort((a, b) => compareKeys(a.key, b.key));
  const stored = new Map<string, Job>(); // by scoped key, for keys that were already stored

  await transaction(pool, async (client) => {
    for (let start = 0; start < toSend.length; start += INSERT_CHUNK) {
      const chunk = toSend.slice(start, start + INSERT_CHUNK).map((x) => x.job);
      const inserted = await client.query<{ id: string }>(INSERT_SQL, insertParams(chunk));
      if (inserted.rowCount === chunk.length) continue;
      const ids = new Set(inserted.rows.map((r) => r.id));
      const held = chunk.filter((job) => !ids.has(job.id));
      const insertOne = async (job: NewJob) =>
        (await client.query(INSERT_SQL, insertParams([job]))).rowCount === 1;
      for (const job of held.filter((j) => j.dedup)) {
        const submitter = job.submittedBy ?? ANONYMOUS_SUBMITTER;
        const yielded = await applyDedup(client, job, insertOne, submitter);
        if (yielded) stored.set(scopedKey(job)!, yielded);
      }
      const skipped = held.filter((job) => !job.dedup);
      if (skipped.length === 0) continue;
      const existing = await rows<JobRow>(client, BY_SCOPED_KEY_SQL, [
        skipped.map((job) => job.idempotencyKey),
        skipped.map((job) => job.type),
        skipped.map((job) => job.submittedBy ?? ANONYMOUS_SUBMITTER),
      ]);
      for (const row of existing) {
        const key = scopedKey({
          idempotencyKey: row.idempotency_key,
          type: row.type,
          submittedBy: row.submitted_by,
        });
        if (key !== null) stored.set(key, rowToJob(row));
      }
    }
  });
  if (toSend.length >= ANALYZE_AFTER) {
    // Best effort, after the commit: the jobs are stored, so a failure here must not reject.
    await run(pool, 'ANALYZE jobs').catch(() => {});
  }

  const built = new Map<number, Job>();
  return jobs.map((_, i) => {
    const at = source[i] as number;
    let job = built.get(at);
    if (!job) {
      const input = jobs[at] as NewJob;
      const key = scoped[at];
      job = (key !== null && key !== undefined && stored.get(key)) || newJobToJob(input);
      built.set(at, job);
    }
    return job;
  });
}

/** Any fixed total order will do (JS string order here); jobs without a key after keyed ones. */
function compareKeys(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

function insertParams(chunk: readonly NewJob[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 18 }, () => new Array(chunk.length));
  chunk.forEach((j, i) => {
    const values = [
      j.id,
      j.type,
      j.queue,
      toJson(j.payload),
      j.priority,
      toJson(j.attributes) ?? '{}',
      j.maxAttempts,
      j.timeoutMs,
      j.createdAt,
      j.runAt,
      j.batchId,
      j.idempotencyKey,
      j.routeReason,
      j.data && toJson(j.data),
      j.submittedBy ?? ANONYMOUS_SUBMITTER,
      j.resources ? toJson(j.resources) : null,
      j.flowKey ?? null,
      j.expiresAt ?? null,
    ];
    values.forEach((v, c) => {
      (cols[c] as unknown[])[i] = v;
    });
  });
  return cols;
}

export async function getJob(q: Queryable, id: string): Promise<Job | undefined> {
  const row = await first<JobRow>(q, 'SELECT * FROM jobs WHERE id = $1', [id]);
  return row && rowToJob(row);
}

/** The jobs a claim to `to` may take. */
function claimable(to: ClaimRequest['to']): string {
  return `${claimableAt(to, '$5', '$6')} AND NOT EXISTS
    (SELECT 1 FROM type_controls WHERE type_controls.type = $5 AND paused)`;
}

/** The jobs of the type bound to `type` a claim to `to` may take at the time bound to `now`. */
export function claimableAt(to: ClaimRequest['to'], type: string, now: string): string {
  return `jobs.type = ${type} AND ${stateIn(statesInto(to, CLAIMABLE_STATES), 'jobs.state')}
    AND NOT jobs.cancel_requested AND jobs.run_at <= ${now}
    AND (jobs.expires_at IS NULL OR jobs.expires_at > ${now})`;
}

/**
 * The candidates are locked with SKIP LOCKED, so concurrent claimers (in this process or another)
 * never wait for each other and never take the same job: a row one of them locked is invisible to
 * the others. MATERIALIZED runs the candidate query exactly once.
 *
 * Each job takes its token from the sequence as the row is updated, that is after its row lock was
 * taken. The previous holder's token was drawn while it held that lock, so a job's new token is
 * always above all of its earlier ones, even with claims racing across processes. (SQLite shares
 * one token per claim call; the contract only needs tokens per job to grow and never repeat.)
 */
function claimSql(candidates: string): string {
  return `WITH picked AS MATERIALIZED (${candidates} FOR UPDATE SKIP LOCKED)
    UPDATE jobs SET state = $1, attempt = attempt + 1, lease_token = nextval('lease_tokens'),
      lease_owner = $2, lease_expires_at = $3, started_at = $4
    FROM picked WHERE jobs.id = picked.id RETURNING jobs.*`;
}

/** The claim statements to `to`: of a type's backlog in claim order, and of named ids. */
function claimStatements(to: ClaimRequest['to']): { next: string; named: string } {
  return {
    next: claimSql(
      `SELECT id FROM jobs WHERE ${claimable(to)} ORDER BY priority DESC, run_at, id LIMIT $7`,
    ),
    named: claimSql(
      `SELECT id FROM jobs WHERE id = ANY($7::text[]) AND ${claimable(to)} ORDER BY id LIMIT $8`,
    ),
  };
}

const CLAIM_SQL: Record<ClaimRequest['to'], { next: string; named: string }> = {
  running: claimStatements('running'),
  starting: claimStatements('starting'),
};

/**
 * One statement, so one implicit transaction; the locks are held until it commits. A paused type
 * (./flow.ts) has no candidates. On a client, it joins the client's transaction.
 */
export async function claimJobs(pool: Queryable, req: ClaimRequest): Promise<Job[]> {
  if (req.limit <= 0) return [];
  const set = [req.to, req.owner, req.leaseExpiresAt, req.now, req.type, req.now];
  const sql = CLAIM_SQL[req.to];
  const claimed =
    req.jobIds === undefined
      ? await rows<JobRow>(pool, sql.next, [...set, Math.trunc(req.limit)])
      : await rows<JobRow>(pool, sql.named, [...set, req.jobIds, Math.trunc(req.limit)]);
  return claimed.sort(byClaimOrder).map(rowToJob);
}

/** RETURNING gives no order; restore the claim order (priority desc, then oldest runAt, id). */
function byClaimOrder(a: JobRow, b: JobRow): number {
  return b.priority - a.priority || a.run_at - b.run_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export async function heartbeat(
  pool: pg.Pool,
  id: string,
  token: number,
  expiresAt: number,
): Promise<boolean> {
  const sql = `UPDATE jobs SET lease_expires_at = $1
    WHERE id = $2 AND lease_token = $3 AND ${IN_FLIGHT}`;
  return (await run(pool, sql, [expiresAt, id, token])) > 0;
}

/**
 * Applies each fenced update in one transaction; returns the jobs that changed, in input order.
 *
 * When every update names a different job, the updates of one kind go in one statement over
 * arrays (at most four statements, whatever the count). When a job appears more than once, its
 * updates must apply in order (e.g. starting → running, then running → succeeded), so each goes
 * in a statement of its own. Either way rows are taken in id order, so two finish calls over
 * overlapping jobs lock them in the same order.
 */
export async function finishJobs(pool: pg.Pool, updates: readonly FinishUpdate[]): Promise<Job[]> {
  if (updates.length === 0) return [];
  // Stable: several updates of one job keep their input order.
  const order = updates
    .map((_, i) => i)
    .sort((a, b) => {
      const x = (updates[a] as FinishUpdate).id;
      const y = (updates[b] as FinishUpdate).id;
      return x < y ? -1 : x > y ? 1 : a - b;
    });
  const byId = new Map(updates.map((u, i) => [u.id, i]));
  const distinct = byId.size === updates.length;
  const changed = new Map<number, Job>();
  await transaction(pool, async (client) => {
    const apply = async (kind: FinishKind, indexes: readonly number[]) => {
      // Every kind but starting → running ends an attempt: its history row first (same fence).
      if (kind !== 'running') {
        await recordAttempts(
          client,
          indexes.map((i) => updates[i] as FinishUpdate),
        );
      }
      const params = columns(indexes.map((i) => finishValues(updates[i] as FinishUpdate)));
      for (const row of await rows<JobRow>(client, FINISH_SQL[kind], params)) {
        const i = distinct ? byId.get(row.id) : indexes[0];
        if (i !== undefined) changed.set(i, rowToJob(row));
      }
    };
    if (distinct) {
      for (const kind of FINISH_KINDS) {
        const group = order.filter((i) => finishKind(updates[i] as FinishUpdate) === kind);
        if (group.length > 0) await apply(kind, group);
      }
    } else {
      for (const i of order) await apply(finishKind(updates[i] as FinishUpdate), [i]);
    }
  });
  return [...changed.entries()].sort(([a], [b]) => a - b).map(([, job]) => job);
}

const FINISH_KINDS = ['running', 'succeeded', 'queued', 'ended'] as const;
type FinishKind = (typeof FINISH_KINDS)[number];

function finishKind(u: FinishUpdate): FinishKind {
  return u.to === 'running' || u.to === 'succeeded' || u.to === 'queued' ? u.to : 'ended';
}

/**
 * One fenced transition over parallel arrays: $1 ids, $2 tokens, then `extra` (name and type
 * of each further array). A row changes only when its token is the current one and its state is
 * one the transition may start from.
 */
function fenced(set: string, from: string, extra: readonly string[]): string {
  const arrays = extra.map((col, i) => `$${i + 3}::${col.split(' ')[1]}[]`);
  const names = extra.map((col) => col.split(' ')[0]);
  return `UPDATE jobs SET ${set}
    FROM unnest($1::text[], $2::bigint[], ${arrays.join(', ')}) AS u(id, token, ${names.join(', ')})
    WHERE jobs.id = u.id AND jobs.lease_token = u.token AND ${from} RETURNING jobs.*`;
}

/** The ends one statement applies (`state = u.to_state`): each update's own, fenced by its pair. */
const ENDED: readonly Exclude<FinishUpdate['to'], 'running' | 'succeeded' | 'queued'>[] = [
  'failed',
  'timed_out',
  'cancelled',
  'dead_lettered',
];

const FINISH_SQL: Record<FinishKind, string> = {
  // Only the starting → running step; a running job extends its lease with heartbeat.
  running: fenced(`state = 'running', lease_expires_at = u.lease`, stateIn(finishFrom('running')), [
    'lease bigint',
  ]),
  succeeded: fenced(
    `state = 'succeeded', finished_at = u.now, result = u.result::jsonb, error = NULL, ${END_LEASE}`,
    stateIn(finishFrom('succeeded')),
    ['now bigint', 'result text'],
  ),
  // A retry: the error of the attempt that just ended stays visible while the job waits.
  // A refund (gaffer's stop interrupted the attempt) gives the attempt back.
  queued: fenced(
    `state = 'queued', run_at = u.run_at, error = u.error::jsonb,
      attempt = greatest(jobs.attempt - u.refund, 0), ${END_LEASE}`,
    stateIn(finishFrom('queued')),
    ['run_at bigint', 'error text', 'refund integer'],
  ),
  ended: fenced(
    `state = u.to_state, finished_at = u.now, result = NULL, error = u.error::jsonb, ${END_LEASE}`,
    transitionIn(ENDED, IN_FLIGHT_STATES, 'u.to_state', 'jobs.state'),
    ['to_state text', 'now bigint', 'error text'],
  ),
};

/** The row of one update: id, token, then the extra values of its kind, in FINISH_SQL order. */
function finishValues(u: FinishUpdate): unknown[] {
  switch (u.to) {
    case 'running':
      return [u.id, u.token, u.leaseExpiresAt];
    case 'succeeded':
      return [u.id, u.token, u.now, toJson(u.result)];
    case 'queued':
      return [u.id, u.token, u.runAt, toJson(u.error), u.refund ? 1 : 0];
    default:
      return [u.id, u.token, u.to, u.now, toJson(u.error ?? null)];
  }
}

/** Rows of values to one array per column. */
function columns(list: readonly unknown[][]): unknown[][] {
  const width = list[0]?.length ?? 0;
  return Array.from({ length: width }, (_, c) => list.map((row) => row[c]));
}

/** In-flight jobs whose lease ran out before `now`, plus those held by any of `owners`. */
export async function findExpired(
  pool: pg.Pool,
  now: number,
  owners: readonly string[] = [],
): Promise<Job[]> {
  const found = await rows<JobRow>(
    pool,
    `SELECT * FROM jobs WHERE ${IN_FLIGHT}
      AND (lease_expires_at < $1 OR lease_owner = ANY($2::text[])) ORDER BY id`,
    [now, owners],
  );
  return found.map(rowToJob);
}

/** In-flight jobs whose owner starts with `prefix` but not with `exceptPrefix` (exact, case-sensitive). */
export async function findOwnedByPrefix(
  pool: pg.Pool,
  prefix: string,
  exceptPrefix: string,
): Promise<Job[]> {
  const found = await rows<JobRow>(
    pool,
    `SELECT * FROM jobs WHERE ${IN_FLIGHT} AND starts_with(lease_owner, $1)
      AND NOT starts_with(lease_owner, $2) ORDER BY id`,
    [prefix, exceptPrefix],
  );
  return found.map(rowToJob);
}

const CANCELLABLE = stateIn(CANCELLABLE_STATES);
const CANCEL_AT_ONCE = stateIn(statesInto('cancelled', CLAIMABLE_STATES));

/**
 * queued → cancelled at once; an in-flight job only gets the request (its worker ends it, and the
 * flag keeps it from being claimed again); an ended job is left alone. Returns the job after.
 */
export async function cancelJob(pool: pg.Pool, id: string, now: number): Promise<Job | undefined> {
  // SET expressions all read the row as it was before the update, so the CASEs see the old state.
  const row = await first<JobRow>(
    pool,
    `UPDATE jobs SET
      state = CASE WHEN ${CANCEL_AT_ONCE} THEN 'cancelled' ELSE state END,
      finished_at = CASE WHEN ${CANCEL_AT_ONCE} THEN $1 ELSE finished_at END,
      cancel_requested = CASE WHEN ${IN_FLIGHT} THEN true ELSE cancel_requested END
    WHERE id = $2 AND ${CANCELLABLE} RETURNING *`,
    [now, id],
  );
  return row ? rowToJob(row) : getJob(pool, id);
}

/**
 * An ended, unsuccessful job back to queued as if new (attempt 0, claimable at `now`), counted in
 * `replays`. Any other
 * state is returned unchanged, so the caller decides from the state whether it worked.
 */
export async function requeueJob(pool: pg.Pool, id: string, now: number): Promise<Job | undefined> {
  const row = await first<JobRow>(
    pool,
    `UPDATE jobs SET ${requeueSet('$1')}
    WHERE id = $2 AND ${stateIn(REQUEUEABLE_STATES)} RETURNING *`,
    [now, id],
  );
  return row ? rowToJob(row) : getJob(pool, id);
}

/**
 * Deletes the listed jobs that are still queued (never claimed), in one statement; their logs go
 * with them (ON DELETE CASCADE). A listed job in any other state keeps its row and its logs.
 */
export async function deleteQueued(pool: pg.Pool, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  return run(pool, `DELETE FROM jobs WHERE id = ANY($1::text[]) AND state = 'queued'`, [ids]);
}
