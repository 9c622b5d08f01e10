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
import { CLAIMABLE, claimRows, isPaused } from './jobs.ts';
import type { Statements } from './statements.ts';

const IN_FLIGHT = stateIn(IN_FLIGHT_STATES);

/**
 * A claim under the type's pause and flow limits, in one write transaction: SQLite has one writer
 * at a time, so the counts read here cannot change before the claim commits (no two claimers
 * take a window's last slot). A type with no limits claims exactly as `claimJobs` does.
 */
export function claimOrHold(s: Statements, req: ClaimRequest): ClaimOutcome {
  if (req.limit <= 0) return { jobs: [], held: [] };
  return s.transaction(() => {
    if (isPaused(s, req.type)) {
      const held = req.jobIds ? namedCandidates(s, req) : [];
      return { jobs: [], held: held.map((c) => ({ id: c.id, hold: { reason: 'paused' } })) };
    }
    if (!hasLimits(req.flow)) return { jobs: claimRows(s, req), held: [] };
    return claimLimited(s, req, req.flow);
  });
}

function claimLimited(s: Statements, req: ClaimRequest, limits: FlowLimits): ClaimOutcome {
  const { type, now } = req;
  const window = windowMs(limits);
  if (window > 0) s.run('DELETE FROM flow_starts WHERE type = ? AND at <= ?', type, now - window);
  const typeStarts = readTypeStarts(s, type, now, limits);
  const room = Math.min(req.limit, rateRoom(limits, typeStarts, now));
  let candidates: FlowCandidate[];
  let keys: KeyState[] = [];
  if (limits.keyLimit) {
    adoptKeys(s, type, limits.keyLimit.key);
    s.run('DELETE FROM flow_keys WHERE type = ? AND last_started <= ?', type, now - KEY_MEMORY_MS);
    // At least one key's jobs even when the rate window is full: they carry its ETA.
    if (req.jobIds) {
      candidates = namedCandidates(s, req);
      keys = keyStates(s, type, now, limits, unique(candidates.map((c) => c.key)));
    } else {
      keys = keyStates(s, type, now, limits, queuedKeys(s, type));
      candidates = fetchPlan(limits, keys, Math.max(room, 1)).flatMap((p) =>
        keyCandidates(s, req, p.key, p.take),
      );
    }
  } else {
    // One past the room: a job the window holds back gives the ETA its claimer waits for.
    candidates = req.jobIds ? namedCandidates(s, req) : backlogCandidates(s, req, room + 1);
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
  const jobs = claimRows(s, { ...req, jobIds: decision.start, limit: decision.start.length });
  const keyOf = new Map(candidates.map((c) => [c.id, c.key]));
  for (const job of jobs) recordStart(s, type, keyOf.get(job.id) ?? null, now, window > 0);
  return { jobs, held };
}

/** One start: in the window records (when a window is counted) and as its key's latest turn. */
function recordStart(
  s: Statements,
  type: string,
  key: string | null,
  now: number,
  windowed: boolean,
): void {
  if (windowed) s.run('INSERT INTO flow_starts (type, key, at) VALUES (?, ?, ?)', type, key, now);
  if (key === null) return;
  s.run(
    `INSERT INTO flow_keys (type, key, last_started) VALUES (?, ?, ?)
      ON CONFLICT (type, key) DO UPDATE SET last_started = excluded.last_started`,
    type,
    key,
    now,
  );
}

function readTypeStarts(s: Statements, type: string, now: number, limits: FlowLimits): number[] {
  const r = limits.rateLimit;
  if (!r) return [];
  const sql = 'SELECT at FROM flow_starts WHERE type = ? AND at > ? ORDER BY at';
  return s.all<{ at: number }>(sql, type, now - r.perSeconds * 1000).map((row) => row.at);
}

/** The named (broker-delivered) jobs that are claimable now, in claim order, with their keys. */
function namedCandidates(s: Statements, req: ClaimRequest): FlowCandidate[] {
  return s.all<FlowCandidate>(
    `SELECT jobs.id AS id, jobs.flow_key AS key FROM json_each(?) AS named
      CROSS JOIN jobs ON jobs.id = named.value WHERE ${CLAIMABLE[req.to]}
      ORDER BY jobs.priority DESC, jobs.run_at, jobs.rowid`,
    JSON.stringify(req.jobIds ?? []),
    req.type,
    req.now,
    req.now, // the expiry
  );
}

/** The first `n` claimable jobs of the backlog, in claim order (no key limit: keys unread). */
function backlogCandidates(s: Statements, req: ClaimRequest, n: number): FlowCandidate[] {
  if (n <= 0) return [];
  return s.all<FlowCandidate>(
    `SELECT id, NULL AS key FROM jobs WHERE ${CLAIMABLE[req.to]}
      ORDER BY priority DESC, run_at, rowid LIMIT ?`,
    req.type,
    req.now,
    req.now, // the expiry
    n,
  );
}

/** A key's first `n` claimable jobs in claim order, by the partial index jobs_flow_key. */
function keyCandidates(
  s: Statements,
  req: ClaimRequest,
  key: string | null,
  n: number,
): FlowCandidate[] {
  if (key === null) return [];
  return s.all<FlowCandidate>(
    `SELECT id, flow_key AS key FROM jobs WHERE ${CLAIMABLE[req.to]}
      AND flow_key = ? AND flow_key IS NOT NULL ORDER BY priority DESC, run_at, rowid LIMIT ?`,
    req.type,
    req.now,
    req.now, // the expiry
    key,
    n,
  );
}

/**
 * The distinct keys of the type's queued jobs, by a loose index scan of jobs_flow_key: one index
 * seek per key, however many jobs each key holds.
 */
function queuedKeys(s: Statements, type: string): string[] {
  const next = `SELECT min(flow_key) FROM jobs WHERE type = ? AND state = 'queued'
    AND cancel_requested = 0 AND flow_key IS NOT NULL`;
  const rows = s.all<{ key: string }>(
    `WITH RECURSIVE k(key) AS (${next}
      UNION ALL SELECT (${next} AND flow_key > k.key) FROM k WHERE k.key IS NOT NULL)
    SELECT key FROM k WHERE key IS NOT NULL`,
    type,
    type,
  );
  return rows.map((r) => r.key);
}

/** Each key's running jobs, starts in its window and latest start. */
function keyStates(
  s: Statements,
  type: string,
  now: number,
  limits: FlowLimits,
  keys: readonly (string | null)[],
): KeyState[] {
  const running = new Map(
    s
      .all<{ key: string; n: number }>(
        `SELECT flow_key AS key, count(*) AS n FROM jobs WHERE type = ? AND ${IN_FLIGHT}
          AND flow_key IS NOT NULL GROUP BY flow_key`,
        type,
      )
      .map((r) => [r.key, r.n]),
  );
  const window = keyWindowSeconds(limits.keyLimit);
  return keys.map((key) => {
    if (key === null) return { key, running: 0, starts: 0, lastStartedAt: null };
    const starts =
      window === undefined
        ? 0
        : (s.get<{ n: number }>(
            'SELECT count(*) AS n FROM flow_starts WHERE type = ? AND key = ? AND at > ?',
            type,
            key,
            now - window * 1000,
          )?.n ?? 0);
    const last = s.get<{ at: number }>(
      'SELECT last_started AS at FROM flow_keys WHERE type = ? AND key = ?',
      type,
      key,
    );
    return { key, running: running.get(key) ?? 0, starts, lastStartedAt: last?.at ?? null };
  });
}

/**
 * Jobs queued before the type had a key limit carry no key: the first key-limited claim of this
 * process gives them theirs (the same rule as `keyOf`, in SQL), once per type and key path.
 */
const adopted = new WeakMap<Statements, Set<string>>();

function adoptKeys(s: Statements, type: string, path: string): void {
  const done = adopted.get(s) ?? new Set<string>();
  adopted.set(s, done);
  const id = `${type}\u0000${path}`;
  if (done.has(id)) return;
  const [root, ...fields] = path.split('.');
  const column = root === 'attributes' ? 'attributes' : 'payload';
  const jsonPath = '$' + fields.map((f) => `.${JSON.stringify(f)}`).join('');
  s.run(
    `UPDATE jobs SET flow_key = CASE json_type(${column}, ?1)
        WHEN 'text' THEN json_extract(${column}, ?1)
        WHEN 'integer' THEN CAST(json_extract(${column}, ?1) AS TEXT)
        WHEN 'real' THEN CAST(json_extract(${column}, ?1) AS TEXT)
        WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE '' END
      WHERE type = ?2 AND state = 'queued' AND flow_key IS NULL`,
    jsonPath,
    type,
  );
  done.add(id);
}

export function setPaused(s: Statements, type: string, paused: boolean, by: string, at: number) {
  s.run(
    `INSERT INTO type_controls (type, paused, changed_by, changed_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (type) DO UPDATE SET paused = excluded.paused,
        changed_by = excluded.changed_by, changed_at = excluded.changed_at`,
    type,
    paused ? 1 : 0,
    by,
    at,
  );
}

export function pausedTypes(s: Statements): PausedType[] {
  return s
    .all<PausedType>(
      `SELECT type, changed_by AS "by", changed_at AS "at" FROM type_controls
        WHERE paused = 1 ORDER BY type`,
    )
    .map(({ type, by, at }) => ({ type, by, at }));
}

export function flowStanding(
  s: Statements,
  type: string,
  key: string | null,
  now: number,
  limits: FlowLimits,
): FlowStanding {
  return s.snapshot(() => ({
    paused: isPaused(s, type),
    typeStarts: readTypeStarts(s, type, now, limits),
    key: key === null || !limits.keyLimit ? null : keyStates(s, type, now, limits, [key])[0]!,
  }));
}

function unique<T>(xs: readonly T[]): T[] {
  return [...new Set(xs)];
}
