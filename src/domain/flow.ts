/**
 * Flow control at the claim — pure: which of a type's candidate jobs may start now under its
 * pause, its rate limit and its per-key limits, and why each refused one waits. The store runs
 * this inside its claim transaction, with the counts it read in that transaction.
 *
 * Windows are sliding windows over the store's own start records: a start at `t` counts while
 * `now - t < perSeconds`, and the window frees a slot at `t + perSeconds`. Exact across replicas
 * (every replica counts the same rows, under the type's lock), no counters to drift or refill, and
 * the rate_limit ETA is simply when the oldest counted start leaves the window. A token bucket
 * would allow a burst of `starts` after any idle period as well, but needs a stored level and
 * refill time per type and key, updated on every claim.
 *
 * Fairness across keys: keys take turns, least recently started first (a key never started, or
 * not since its record was pruned, goes first; ties keep queue order), one job per key per turn.
 * A key at its limit is skipped, never waited on, so its backlog holds back no other key's jobs;
 * within a key, jobs keep queue order (priority, then due time, then first in).
 */

export interface RateLimit {
  /** At most this many starts… */
  starts: number;
  /** …in any window of this many seconds. */
  perSeconds: number;
}

export interface KeyLimit {
  /** Where a job's key is: `payload.<path>` or `attributes.<path>` (dot-separated fields). */
  key: string;
  /** Jobs of one key in flight (starting or running) at once. */
  running?: number;
  /** Starts of one key per `perSeconds` window. */
  starts?: number;
  perSeconds?: number;
}

export interface FlowLimits {
  rateLimit?: RateLimit | undefined;
  keyLimit?: KeyLimit | undefined;
}

/** Why a job that could start otherwise may not start now. */
export type Hold =
  | { reason: 'paused' }
  /** `until`: store-clock ms when the type's window frees a slot. */
  | { reason: 'rate_limit'; until: number }
  | { reason: 'key_limit'; key: string };

/** One key's standing, as the store read it. */
export interface KeyState {
  /** null: jobs with no recorded key (submitted before the type had a key limit): not limited. */
  key: string | null;
  /** Its jobs in flight now. */
  running: number;
  /** Its starts inside the key window (`keyLimit.perSeconds` before now). */
  starts: number;
  /** Its most recent start, or null when none is on record. */
  lastStartedAt: number | null;
}

export interface FlowCandidate {
  id: string;
  key: string | null;
}

export interface FlowInput {
  now: number;
  limits: FlowLimits;
  paused: boolean;
  /** The type's start times inside the rate window, any order. */
  typeStarts: readonly number[];
  /** The standing of every key among the candidates (a key missing here counts as idle). */
  keys: readonly KeyState[];
  /** Claimable jobs, in queue order. */
  candidates: readonly FlowCandidate[];
  /** Most jobs to start (the claim's limit). */
  max: number;
}

export interface FlowDecision {
  /** Ids to start, in the order they were granted. */
  start: string[];
  /** Candidates the limits refused, with why; candidates beyond `max` are in neither list. */
  held: Map<string, Hold>;
}

const NO_KEY_STATE = { running: 0, starts: 0, lastStartedAt: null } as const;

/**
 * How long a store remembers a key's last start. A key forgotten goes first, as one never
 * started: it would have anyway, since every key remembered started more recently. Bounds the
 * records of a type with ever-new keys (one per upload, per customer).
 */
export const KEY_MEMORY_MS = 60 * 60 * 1000;

export function hasLimits(limits: FlowLimits | undefined): limits is FlowLimits {
  return limits?.rateLimit !== undefined || limits?.keyLimit !== undefined;
}

/** The longest window the limits count over, in ms (0: none), for pruning start records. */
export function windowMs(limits: FlowLimits): number {
  return Math.max(limits.rateLimit?.perSeconds ?? 0, keyWindowSeconds(limits.keyLimit) ?? 0) * 1000;
}

/** The key window in seconds, when the key limit counts starts. */
export function keyWindowSeconds(k: KeyLimit | undefined): number | undefined {
  return k?.starts !== undefined ? k.perSeconds : undefined;
}

/**
 * A job's key under `keyLimit.key`: a string as it is, a number or boolean as JSON, anything else
 * (absent, null, an object) the empty key — one shared key, limited like any other.
 */
export function keyOf(
  path: string,
  job: { payload: unknown; attributes: Record<string, unknown> },
): string {
  const [root, ...fields] = path.split('.');
  let value: unknown = root === 'attributes' ? job.attributes : job.payload;
  for (const field of fields) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return '';
    value = (value as Record<string, unknown>)[field];
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  return '';
}

/** How many more starts the type's rate window allows now (Infinity: no rate limit). */
export function rateRoom(limits: FlowLimits, typeStarts: readonly number[], now: number): number {
  const r = limits.rateLimit;
  if (!r) return Infinity;
  return Math.max(0, r.starts - inWindow(typeStarts, now, r.perSeconds).length);
}

/** How many more jobs of a key may start now (Infinity: not limited). */
export function keyRoom(limits: FlowLimits, k: Omit<KeyState, 'lastStartedAt'>): number {
  const kl = limits.keyLimit;
  if (!kl || k.key === null) return Infinity;
  const running = kl.running === undefined ? Infinity : kl.running - k.running;
  const starts = kl.starts === undefined ? Infinity : kl.starts - k.starts;
  return Math.max(0, Math.min(running, starts));
}

/**
 * Keys in turn order: least recently started first, a key with no start on record before any
 * other, ties in the order given (queue order of their first job).
 */
export function fairOrder<K extends Pick<KeyState, 'lastStartedAt'>>(keys: readonly K[]): K[] {
  const at = (k: K) => k.lastStartedAt ?? -Infinity;
  return keys
    .map((k, i) => ({ k, i }))
    .sort((a, b) => at(a.k) - at(b.k) || a.i - b.i)
    .map(({ k }) => k);
}

/** Which candidates start now, and why each refused one waits. */
export function decideStarts(input: FlowInput): FlowDecision {
  const held = new Map<string, Hold>();
  if (input.paused) {
    for (const c of input.candidates) held.set(c.id, { reason: 'paused' });
    return { start: [], held };
  }
  const queues = byKey(input);
  const started: number[] = [];
  const start: string[] = [];
  let typeRoom = rateRoom(input.limits, input.typeStarts, input.now);
  // Turns: each key with room and jobs starts its next job, in fair order; the order never
  // changes, since every start here happens at `now`, after every recorded one.
  for (let progress = true; progress && start.length < input.max && typeRoom > 0;) {
    progress = false;
    for (const q of queues) {
      if (start.length >= input.max || typeRoom <= 0) break;
      if (q.next >= q.jobs.length || q.room <= 0) continue;
      start.push(q.jobs[q.next++]!.id);
      started.push(input.now);
      q.room--;
      typeRoom--;
      progress = true;
    }
  }
  const until = rateFreesAt(input, started);
  for (const q of queues) {
    for (const job of q.jobs.slice(q.next)) {
      if (q.room <= 0 && q.key !== null) held.set(job.id, { reason: 'key_limit', key: q.key });
      else if (typeRoom <= 0 && until !== null) held.set(job.id, { reason: 'rate_limit', until });
    }
  }
  return { start, held };
}

/**
 * Why a job of `key` waits now, if a limit holds it (null: no limit does): what the API tells the
 * owner of a queued job.
 */
export function holdOf(
  limits: FlowLimits,
  state: { paused: boolean; now: number; typeStarts: readonly number[]; key: KeyState | null },
): Hold | null {
  if (state.paused) return { reason: 'paused' };
  if (state.key && state.key.key !== null && keyRoom(limits, state.key) <= 0) {
    return { reason: 'key_limit', key: state.key.key };
  }
  if (rateRoom(limits, state.typeStarts, state.now) <= 0) {
    const until = rateFreesAt({ ...state, limits }, []);
    if (until !== null) return { reason: 'rate_limit', until };
  }
  return null;
}

interface KeyQueue {
  key: string | null;
  jobs: FlowCandidate[];
  next: number;
  room: number;
}

/** The candidates grouped by key (one group without a key limit), in fair turn order. */
function byKey(input: FlowInput): KeyQueue[] {
  if (!input.limits.keyLimit) {
    return [{ key: null, jobs: [...input.candidates], next: 0, room: Infinity }];
  }
  const states = new Map(input.keys.map((k) => [k.key, k]));
  const groups = new Map<string | null, FlowCandidate[]>();
  for (const c of input.candidates) {
    const jobs = groups.get(c.key);
    if (jobs) jobs.push(c);
    else groups.set(c.key, [c]);
  }
  const queues = [...groups].map(([key, jobs]) => {
    const state = { ...NO_KEY_STATE, ...states.get(key), key };
    return { key, jobs, next: 0, room: keyRoom(input.limits, state), at: state.lastStartedAt };
  });
  return fairOrder(queues.map((q) => ({ ...q, lastStartedAt: q.at })));
}

/** When the type's window frees a slot, given the starts just granted; null without a rate limit. */
function rateFreesAt(
  input: Pick<FlowInput, 'limits' | 'typeStarts' | 'now'>,
  granted: readonly number[],
): number | null {
  const r = input.limits.rateLimit;
  if (!r) return null;
  const all = [...inWindow(input.typeStarts, input.now, r.perSeconds), ...granted].sort(
    (a, b) => a - b,
  );
  if (all.length < r.starts) return input.now;
  return all[all.length - r.starts]! + r.perSeconds * 1000;
}

function inWindow(starts: readonly number[], now: number, perSeconds: number): number[] {
  return starts.filter((t) => now - t < perSeconds * 1000);
}

/**
 * For a backlog claim under a key limit: which keys' queued jobs to read, and how many of each,
 * so that the decision sees enough candidates to fill `max` fairly — the first `max` keys with
 * room in turn order (each key fills at most one slot per turn, so no later key could be reached),
 * at most `min(room, max)` jobs each. Keys at their limit are not read at all.
 */
export function fetchPlan(
  limits: FlowLimits,
  keys: readonly KeyState[],
  max: number,
): { key: string | null; take: number }[] {
  const plan: { key: string | null; take: number }[] = [];
  for (const k of fairOrder(keys)) {
    if (plan.length >= max) break;
    const room = Math.min(keyRoom(limits, k), max);
    if (room > 0) plan.push({ key: k.key, take: room });
  }
  return plan;
}
