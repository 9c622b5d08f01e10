/**
 * The job record and its state machine. Pure: no I/O, no clock.
 *
 * queued ──claim──▶ running ──▶ succeeded | failed | timed_out | cancelled | dead_lettered
 * queued ──claim (per-job mode)──▶ starting ──worker up──▶ running
 * starting ──▶ any end, as running does (a per-job worker can end before its start is seen)
 * running/starting ──failure with attempts left, or lease expired──▶ queued (a retry)
 * queued ──cancel──▶ cancelled;  failed/timed_out/dead_lettered/cancelled ──retry──▶ queued
 * queued ──not started by its expiresAt──▶ expired (never run);  expired ──retry──▶ queued
 *
 * Both stores enforce TRANSITIONS: every state a store write may start from is derived from it
 * (the named sets below, `finishFrom`), and the store contract suite drives every pair of it.
 */
export const JOB_STATES = [
  'queued',
  'starting',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'dead_lettered',
  'expired',
] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<JobState> = new Set([
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'dead_lettered',
  'expired',
]);
export const IN_FLIGHT_STATES: ReadonlySet<JobState> = new Set(['starting', 'running']);

/** Every allowed move: from a state (key) to each of the listed states. */
export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  queued: ['starting', 'running', 'cancelled', 'expired'],
  starting: ['running', 'queued', 'succeeded', 'failed', 'timed_out', 'cancelled', 'dead_lettered'],
  running: ['succeeded', 'failed', 'timed_out', 'cancelled', 'dead_lettered', 'queued'],
  succeeded: [],
  failed: ['queued'],
  timed_out: ['queued'],
  cancelled: ['queued'],
  dead_lettered: ['queued'],
  expired: ['queued'],
};

export function canTransition(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(state: JobState): boolean {
  return TERMINAL_STATES.has(state);
}

/** The states among `among` a job may move to `to` from, in JOB_STATES order. */
export function statesInto(to: JobState, among: Iterable<JobState> = JOB_STATES): JobState[] {
  const candidates = new Set(among);
  return JOB_STATES.filter((from) => candidates.has(from) && canTransition(from, to));
}

/** Not in flight and not ended: the states a claim takes a job from. */
export const CLAIMABLE_STATES: readonly JobState[] = JOB_STATES.filter(
  (s) => !IN_FLIGHT_STATES.has(s) && !TERMINAL_STATES.has(s),
);

/** The states a cancel request acts on: at once when claimable, as a flag when in flight. */
export const CANCELLABLE_STATES: readonly JobState[] = statesInto('cancelled');

/** Ended states an operator may send back to the queue (retry, dead-letter replay). */
export const REQUEUEABLE_STATES: readonly JobState[] = statesInto('queued', TERMINAL_STATES);

/**
 * The states a lease holder's write (`finish` to `to`) may start from: the in-flight states the
 * table lets move to `to`. A claim or an operator's retry is not a lease holder's write.
 */
export function finishFrom(to: JobState): JobState[] {
  return statesInto(to, IN_FLIGHT_STATES);
}

/** Why an attempt failed; each class has its own retry policy (`retry.classes`, jobs/retry.ts). */
export type FailureClass = 'application' | 'timeout' | 'infrastructure' | 'oom';

export interface JobError {
  class: FailureClass;
  message: string;
  exitCode?: number | null;
  signal?: string | null;
  /**
   * Kubernetes: how many attempts of this job were OOMKilled so far, carried from attempt to
   * attempt; the next attempt's memory is that rung of the type's `memoryLadder`.
   */
  oomKills?: number;
  /**
   * false: this failure must not be retried, whatever attempts remain (a handler threw an error
   * marked non-retryable, or a command exited with one of `retry.nonRetryableExitCodes`). The job
   * ends after this attempt. Absent: retryable.
   */
  retryable?: boolean;
  /**
   * true: the attempt ended because the process running it died while holding it — its pool
   * worker (the gateway saw the worker exit) or its sandbox (src/worker/sandbox-runner.ts). The
   * job is a suspect: it may be what killed the process, so its next attempt runs in a sandbox
   * of its own, where a second crash takes down nothing else. Absent: not a suspect.
   */
  workerLost?: boolean;
  /**
   * true: an operator's stop of gaffer cut the attempt short (the job did not fail): the job was
   * handed back to the queue and the attempt not counted — it runs again, with all its attempts,
   * on the next start (or on another replica). Absent: not interrupted.
   */
  interrupted?: boolean;
  /**
   * The handler asked for its next attempt after this many ms (`RetryAfter`, or a command's
   * `retryAfterMs` directive), instead of the type's backoff. The attempt counts as any failure.
   */
  retryAfterMs?: number;
  /**
   * The handler snoozed the job for this many ms (`Snooze`, or a command's `snoozeMs` directive):
   * it went back to the queue, due then, and the attempt did not count.
   */
  snoozedMs?: number;
}

/**
 * A job's data by reference: objects its worker downloads before running it
 * and the place it uploads its output directory to afterwards. References are `s3://bucket/key`,
 * `s3://bucket/prefix/` (every object under the prefix), `file:///abs/path` or an absolute path.
 */
export interface JobData {
  inputs: string[];
  /** Absent: nothing is uploaded. */
  output: string | null;
}

export interface Job {
  id: string;
  type: string;
  queue: string;
  payload: unknown;
  /** Higher runs first. */
  priority: number;
  /** Routing attributes the route rules read (rows, estimated runtime, latency sensitivity, …). */
  attributes: Record<string, unknown>;
  state: JobState;
  /**
   * Number of attempts started so far (0 while never claimed). A manual retry or a dead-letter
   * replay starts the count again from 0 (a fresh run with all of maxAttempts) and adds 1 to
   * `replays`, so the attempts a job ran in all are never hidden.
   */
  attempt: number;
  /** Ceiling on attempts of any failure class; `retry.classes` may only lower it (jobs/retry.ts). */
  maxAttempts: number;
  /** Times an operator sent this ended job back to the queue (retry or dead-letter replay). */
  replays: number;
  timeoutMs: number;
  /** Store-clock ms. */
  createdAt: number;
  /**
   * Not claimable before this store-clock time: a delayed submission (`runAt`/`delay`) or a
   * retry's backoff. A queued job whose runAt is ahead is shown as `delayed` (a view, not a state).
   */
  runAt: number;
  /**
   * Not started by this store-clock time: the job ends as `expired`, never run. Absent or null:
   * it never expires.
   */
  expiresAt?: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** Fencing token of the current lease; every write by a worker must carry it. */
  leaseToken: number | null;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  cancelRequested: boolean;
  result: unknown;
  error: JobError | null;
  batchId: string | null;
  idempotencyKey: string | null;
  /** Why the router picked this type (the cost rules explain themselves). */
  routeReason: string | null;
  /** Inputs and output by reference; null when the job has none. */
  data: JobData | null;
  /** What the job asked for, within its type's declared resources; null/absent: the type's. */
  resources?: JobResources | null;
}

/**
 * A job's own resource request (`resource_requirements` on /api/jobs): cpu and memory as Kubernetes
 * quantities, GPUs as a count. Each given one replaces the type's amount for this job: its local
 * worker's share of `executor.local`, its pod's request on Kubernetes.
 */
export interface JobResources {
  cpu?: string;
  memory?: string;
  gpus?: number;
}

/** What a submitter provides; the service fills in the rest. */
export interface NewJob {
  id: string;
  type: string;
  queue: string;
  payload: unknown;
  priority: number;
  attributes: Record<string, unknown>;
  maxAttempts: number;
  timeoutMs: number;
  createdAt: number;
  runAt: number;
  /** Absent or null: never expires. */
  expiresAt?: number | null;
  batchId: string | null;
  idempotencyKey: string | null;
  /**
   * Who submitted it: the API key's id, 'anonymous' with auth off, 'library' in code. An
   * idempotency key is unique per (type, submittedBy): another submitter's or another type's key
   * is a different key. Absent: 'anonymous'.
   */
  submittedBy?: string;
  routeReason: string | null;
  /** Null: no data references. */
  data: JobData | null;
  /** Absent or null: the type's resources. */
  resources?: JobResources | null;
  /**
   * Its key under the type's `keyLimit` (src/domain/flow.ts `keyOf`), computed at submit; absent
   * or null when the type has no key limit.
   */
  flowKey?: string | null;
  /**
   * How a held idempotency key deduplicates this submission (src/domain/dedup.ts); absent: the
   * default (the key is unique for ever). Not stored: it applies at insert only.
   */
  dedup?: Dedup;
}

/**
 * How a submission under a held idempotency key is deduplicated (the decision and its contract:
 * src/domain/dedup.ts): unique while live, for a ttl, or debounced.
 */
export type Dedup =
  { mode: 'live' } | { mode: 'ttl'; ttlMs: number } | { mode: 'debounce'; debounceMs: number };

/** How a claimed attempt ended, as reported by a worker or decided by gaffer. */
export type Outcome =
  | { status: 'succeeded'; result: unknown }
  | { status: 'failed'; error: JobError }
  | { status: 'cancelled' }
  /** The handler asked to run again in `delayMs` without spending an attempt (src/jobs/delays.ts). */
  | { status: 'snoozed'; delayMs: number };

/** A job as the API shows it: the lease token is a worker's credential and never leaves gaffer. */
export type JobView = Omit<Job, 'leaseToken'>;

export function toView(job: Job): JobView {
  const { leaseToken: _token, ...view } = job;
  return view;
}
