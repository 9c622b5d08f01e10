import type pg from 'pg';
import {
  decideStarts,
  fetchPlan,
  hasLimits,
  KEY_MEMORY_MS,
  keyWindowSeconds,
  rateRoom,
  windowMs,
  type FlowCandidate,
  type FlowLimits,
  type KeyState,
} from '../../domain/flow.ts';
import { IN_FLIGHT_STATES } from '../../domain/job.ts';
import type { ClaimOutcome, ClaimRequest } from '../roles/job-records.ts';
import type { FlowStanding, PausedType } from '../roles/type-controls.ts';
import { stateIn } from '../sql-states.ts';
import { first, rows, run, snapshot, transaction, type Queryable } from './db.ts';
import { claimJobs, claimableAt } from './jobs.ts';

const IN_FLIGHT = stateIn(IN_FLIGHT_STATES);

/**
 * Key space of the advisory locks that serialise a limited type's claims ("flow"); the second
 * key is the type's hash. A hash collision only makes two types share a lock: slower, never wrong.
 */
const FLOW_LOCK = 0x666c_6f77;

/**
 * A claim under the type's pause and flow limits. A type without limits claims in one statement
 * (`claimJobs`, whose candidates exclude a paused type). A limited type's claim runs in a
 * transaction that first takes the type's advisory lock: every claimer of the type, in any gaffer
 * on this database, reads the counts and writes its starts one after another, so two replicas
 * cannot both take a window's last slot. The lock is released at commit.
 */
export async function claimOrHold(pool: pg.Pool, req: ClaimRequest): Promise<ClaimOutcome> {
  if (req.limit <= 0) return { jobs: [], held: [] };
  if (!hasLimits(req.flow)) {
    const jobs = await claimJobs(pool, req);
    if (jobs.length > 0 || !req.jobIds || !(await isPaused(pool, req.type))) {
      return { jobs, held: [] };
    }
    return { jobs, held: await pausedHolds(pool, req) };
  }
  const limits = req.flow;
  return transaction(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [FLOW_LOCK, req.type]);
    if (await isPaused(c, req.type)) return { jobs: [], held: await pausedHolds(c, req) };
    return claimLimited(pool, c, req, limits);
  });
}

async function pausedHolds(q: Queryable, req: ClaimRequest): Promise<ClaimOutcome['held']> {
  if (!req.jobIds) return [];
  const named = await namedCandidates(q, req);
  return named.map((c) => ({ id: c.id, hold: { reason: 'paused' } }));
}

async function claimLimited(
  pool: pg.Pool,
  c: pg.PoolClient,
  req: ClaimRequest,
  limits: FlowLimits,
): Promise<ClaimOutcome> {
  const { type, now } = req;
  const window = windowMs(limits);
  if (window > 0) {
    await run(c, 'DELETE FROM flow_starts WHERE type = $1 AND at <= $2', [type, now - window]);
  }
  const typeStarts = await readTypeStarts(c, type, now, limits);
  const room = Math.min(req.limit, rateRoom(limits, typeStarts, now));
  let candidates: FlowCandidate[];
  let keys: KeyState[] = [];
  if (limits.keyLimit) {
    await adoptKeys(pool, c, type, limits.keyLimit.key);
    await run(c, 'DELETE FROM flow_keys WHERE type = $1 AND last_started <= $2', [
      type,
      now - KEY_MEMORY_MS,
    ]);
    // At least one key's jobs even when the rate window is full: they carry its ETA.
    if (req.jobIds) {
      candidates = await namedCandidates(c, req);
      keys = await keyStates(c, type, now, limits, [...new Set(candidates.map((x) => x.key))]);
    } else {
      keys = await keyStates(c, type, now, limits, await queuedKeys(c, type));
      candidates = await keyCandidates(c, req, fetchPlan(limits, keys, Math.max(room, 1)));
    }
  } else {
    // One past the room: a job the window holds back gives the ETA its claimer waits for.
    candidates = req.jobIds ? await namedCandidates(c, req) : await backlog(c, req, room + 1);
  }
  const decision = decideStarts({
    now,
    limits,
    paused: false,
    typeStarts,
    keys,
    candidates,
    max: req.limit,
  });
  const held = [...decision.held].map(([id, hold]) => ({ id, hold }));
  if (decision.start.length === 0) return { jobs: [], held };
  const jobs = await claimJobs(c, {
    ...req,
    jobIds: decision.start,
    limit: decision.start.length,
  });
  const keyOf = new Map(candidates.map((x) => [x.id, x.key]));
  const started = jobs.map((j) => keyOf.get(j.id) ?? null);
  if (window > 0) {
    await run(
      c,
      'INSERT INTO flow_starts (type, key, at) SELECT $1, k, $3 FROM unnest($2::text[]) AS k',
      [type, started, now],
    );
  }
  const keyed = [...new Set(started.filter((k) => k !== null))];
  if (keyed.length > 0) {
    await run(
      c,
      `INSERT INTO flow_keys (type, key, last_started) SELECT $1, k, $3 FROM unnest($2::text[]) AS k
        ON CONFLICT (type, key) DO UPDATE SET last_started = excluded.last_started`,
      [type, keyed, now],
    );
  }
  return { jobs, held };
}

async function isPaused(q: Queryable, type: string): Promise<boolean> {
  const sql = 'SELECT 1 FROM type_controls WHERE type = $1 AND paused';
  return (await first(q, sql, [type])) !== undefined;
}

async function readTypeStarts(
  q: Queryable,
  type: string,
  now: number,
  limits: FlowLimits,
): Promise<number[]> {
  const r = limits.rateLimit;
  if (!r) return [];
  const sql = 'SELECT at FROM flow_starts WHERE type = $1 AND at > $2 ORDER BY at';
  return (await rows<{ at: number }>(q, sql, [type, now - r.perSeconds * 1000])).map((x) => x.at);
}

/** The named (broker-delivered) jobs that are claimable now, in claim order, with their keys. */
function namedCandidates(q: Queryable, req: ClaimRequest): Promise<FlowCandidate[]> {
  return rows<FlowCandidate>(
    q,
    `SELECT id, flow_key AS key FROM jobs WHERE id = ANY($3::text[])
      AND ${claimableAt(req.to, '$1', '$2')} ORDER BY priority DESC, run_at, id`,
    [req.type, req.now, req.jobIds ?? []],
  );
}

/** The first `n` claimable jobs of the backlog, in claim order (no key limit: keys unread). */
async function backlog(q: Queryable, req: ClaimRequest, n: number): Promise<FlowCandidate[]> {
  if (n <= 0) return [];
  return rows<FlowCandidate>(
    q,
    `SELECT id, NULL AS key FROM jobs WHERE ${claimableAt(req.to, '$1', '$2')}
      ORDER BY priority DESC, run_at, id LIMIT $3`,
    [req.type, req.now, n],
  );
}

/** Each planned key's first jobs in claim order, by the partial index jobs_flow_key. */
async function keyCandidates(
  q: Queryable,
  req: ClaimRequest,
  plan: readonly { key: string | null; take: number }[],
): Promise<FlowCandidate[]> {
  const keyed = plan.filter((p): p is { key: string; take: number } => p.key !== null);
  if (keyed.length === 0) return [];
  return rows<FlowCandidate>(
    q,
    `SELECT c.id, c.key FROM unnest($3::text[], $4::integer[]) WITH ORDINALITY AS p(key, take, n)
      CROSS JOIN LATERAL (SELECT id, flow_key AS key FROM jobs
        WHERE ${claimableAt(req.to, '$1', '$2')} AND flow_key = p.key AND flow_key IS NOT NULL
        ORDER BY priority DESC, run_at, id LIMIT p.take) AS c ORDER BY p.n`,
    [req.type, req.now, keyed.map((p) => p.key), keyed.map((p) => p.take)],
  );
}

/**
 * The distinct keys of the type's queued jobs, by a loose index scan of jobs_flow_key: one index
 * probe per key, however many jobs each key holds.
 */
async function queuedKeys(q: Queryable, type: string): Promise<string[]> {
  const next = `SELECT min(flow_key) FROM jobs WHERE type = $1 AND state = 'queued'
    AND NOT cancel_requested AND flow_key IS NOT NULL`;
  const found = await rows<{ key: string }>(
    q,
    `WITH RECURSIVE k(key) AS ((${next})
      UNION ALL SELECT (${next} AND flow_key > k.key) FROM k WHERE k.key IS NOT NULL)
    SELECT key FROM k WHERE key IS NOT NULL`,
    [type],
  );
  return found.map((r) => r.key);
}

/** Each key's running jobs, starts in its window and latest start. */
async function keyStates(
  q: Queryable,
  type: string,
  now: number,
  limits: FlowLimits,
  keys: readonly (string | null)[],
): Promise<KeyState[]> {
  const named = keys.filter((k) => k !== null);
  const window = keyWindowSeconds(limits.keyLimit);
  const counts = (sql: string, params: unknown[]) =>
    rows<{ key: string; n: number }>(q, sql, params).then(
      (rs) => new Map(rs.map((r) => [r.key, Number(r.n)])),
    );
  const running = await counts(
    `SELECT flow_key AS key, count(*) AS n FROM jobs WHERE type = $1 AND ${IN_FLIGHT}
      AND flow_key = ANY($2::text[]) GROUP BY flow_key`,
    [type, named],
  );
  const starts =
    window === undefined
      ? new Map<string, number>()
      : await counts(
          `SELECT key, count(*) AS n FROM flow_starts WHERE type = $1 AND key = ANY($2::text[])
            AND at > $3 GROUP BY key`,
          [type, named, now - window * 1000],
        );
  const last = await counts(
    'SELECT key, last_started AS n FROM flow_keys WHERE type = $1 AND key = ANY($2::text[])',
    [type, named],
  );
  return keys.map((key) =>
    key === null
      ? { key, running: 0, starts: 0, lastStartedAt: null }
      : {
          key,
          running: running.get(key) ?? 0,
          starts: starts.get(key) ?? 0,
          lastStartedAt: last.get(key) ?? null,
        },
  );
}

/**
 * Jobs queued before the type had a key limit carry no key: the first key-limited claim of this
 * process gives them theirs (the same rule as `keyOf`, in SQL), once per type and key path.
 */
const adoptedBy = new WeakMap<pg.Pool, Set<string>>();

async function adoptKeys(pool: pg.Pool, q: Queryable, type: string, path: string): Promise<void> {
  const adopted = adoptedBy.get(pool) ?? new Set<string>();
  adoptedBy.set(pool, adopted);
  const id = `${type}\u0000${path}`;
  if (adopted.has(id)) return;
  const [root, ...fields] = path.split('.');
  const column = root === 'attributes' ? 'attributes' : 'payload';
  await run(
    q,
    `UPDATE jobs SET flow_key = CASE WHEN jsonb_typeof(${column} #> $1::text[])
        IN ('string', 'number', 'boolean') THEN ${column} #>> $1::text[] ELSE '' END
      WHERE type = $2 AND state = 'queued' AND flow_key IS NULL`,
    [fields, type],
  );
  adopted.add(id);
}

export async function setPaused(
  pool: pg.Pool,
  type: string,
  paused: boolean,
  by: string,
  at: number,
): Promise<void> {
  await run(
    pool,
    `INSERT INTO type_controls (type, paused, changed_by, changed_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT (type) DO UPDATE SET paused = excluded.paused,
        changed_by = excluded.changed_by, changed_at = excluded.changed_at`,
    [type, paused, by, at],
  );
}

export async function pausedTypes(pool: pg.Pool): Promise<PausedType[]> {
  return rows<PausedType>(
    pool,
    `SELECT type, changed_by AS "by", changed_at AS "at" FROM type_controls
      WHERE paused ORDER BY type`,
  );
}

export function flowStanding(
  pool: pg.Pool,
  type: string,
  key: string | null,
  now: number,
  limits: FlowLimits,
): Promise<FlowStanding> {
  return snapshot(pool, async (c) => ({
    paused: await isPaused(c, type),
    typeStarts: await readTypeStarts(c, type, now, limits),
    key:
      key === null || !limits.keyLimit ? null : (await keyStates(c, type, now, limits, [key]))[0]!,
  }));
}
