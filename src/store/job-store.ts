import type { ScalingDecision, WorkerInfo } from '../domain/events.ts';
import type { Job, JobError, JobState, NewJob } from '../domain/job.ts';
import type { AttemptRecord } from './attempts.ts';

/**
 * The job record, the single source of truth (invariant 1). Every method is atomic. Times are
 * store-clock ms passed in by the caller (the service owns the one clock, invariant 6).
 *
 * Writes by a worker carry the lease token it was given at claim; a write whose token is not the
 * job's current one changes nothing and reports `false` (fencing).
 */
export interface JobStore {
  /**
   * Inserts jobs in one transaction (group commit). A job whose idempotency key already exists is
   * not inserted; the existing job is returned in its place. Resolves only once committed.
   */
  insert(jobs: readonly NewJob[]): Promise<Job[]>;
  get(id: string): Promise<Job | undefined>;
  list(filter: JobFilter): Promise<JobPage>;

  /**
   * Claims up to `limit` claimable jobs of `type` (queued, runAt ≤ now, not cancel-requested),
   * highest priority first then oldest: moves them to `to`, increments `attempt`, writes a fresh
   * lease token, owner and expiry. With `jobIds`, claims only those jobs (those still claimable),
   * up to `limit`: a broker delivered them, and many are claimed in one transaction.
   */
  claim(req: ClaimRequest): Promise<Job[]>;
  /** Extends the lease; false when the token is stale or the job is not in flight. */
  heartbeat(id: string, token: number, expiresAt: number): Promise<boolean>;
  /**
   * Applies lease-fenced transitions in one transaction: each succeeds only when the job's current
   * token equals `token` and its state is in flight. Returns the jobs that changed (others were stale).
   */
  finish(updates: readonly FinishUpdate[]): Promise<Job[]>;
  /** In-flight jobs whose lease expired at `now`, or whose owner is in `owners`. */
  findExpired(now: number, owners?: readonly string[]): Promise<Job[]>;
  /** In-flight jobs whose owner starts with `prefix` (workers of a previous gaffer process). */
  findOwnedByPrefix(prefix: string, exceptPrefix: string): Promise<Job[]>;

  /** queued → cancelled; for in-flight jobs sets cancelRequested. Returns the job after. */
  cancel(id: string, now: number): Promise<Job | undefined>;
  /**
   * An ended job that did not succeed back to queued with fresh attempts (attempt 0) and
   * `replays` + 1. Any other state: the job is returned unchanged.
   */
  requeue(id: string, now: number): Promise<Job | undefined>;
  /**
   * Changes a dead-lettered job's payload, maxAttempts or priority (only the fields given), only
   * while it is `dead_lettered`. Returns the job after; a job in another state is returned
   * unchanged, so the caller decides from the state whether it worked.
   */
  editDeadLettered(id: string, patch: DeadLetterEdit): Promise<Job | undefined>;
  /**
   * Requeues the listed jobs that are still `dead_lettered`, in one transaction, as `requeue`
   * does; the others are left alone. Returns the jobs requeued.
   */
  replayDeadLettered(ids: readonly string[], now: number): Promise<Job[]>;
  /**
   * Retention: deletes up to `limit` ended jobs in `states` (and their logs and attempts) that ended before
   * `endedBefore`, or that are not among the `keepNewest` last ended of those states (by
   * finishedAt, then id). A null limit is not applied. Returns how many were deleted.
   */
  purgeEnded(req: PurgeRequest): Promise<number>;
  /**
   * Retention: cuts the log of every job that logged after `afterSeq` to its newest bytes that,
   * with a marker line in front saying earlier lines were dropped, fit in `maxBytes` (UTF-8). A log
   * entry (a chunk of lines) that straddles the cut keeps its whole lines that fit, after the
   * marker, under its own seq; older entries are deleted. Cutting a log within its limit changes
   * nothing. Returns the jobs cut and the highest seq seen (the next call's `afterSeq`).
   */
  trimLogs(maxBytes: number, afterSeq: number): Promise<{ trimmed: string[]; lastSeq: number }>;
  /**
   * Removes queued jobs that were never accepted: their broker publish failed after the insert
   * committed, and the submitter was answered 503. Returns how many were removed.
   */
  deleteQueued(ids: readonly string[]): Promise<number>;

  appendLog(id: string, stream: 'stdout' | 'stderr', data: string, now: number): Promise<void>;
  logs(id: string, afterSeq?: number): Promise<LogLine[]>;
  /**
   * The job's ended attempts, oldest first (src/store/attempts.ts): each row is written by
   * `finish` in the transaction of the state change that ended the attempt, and deleted with the
   * job. Empty for an unknown job.
   */
  attempts(jobId: string): Promise<AttemptRecord[]>;

  /** Per type: ready (claimable now), delayed, in flight, and totals per state. */
  queueStats(now: number): Promise<QueueStats[]>;
  /**
   * Queued jobs of `type` that are due (runAt ≤ `dueBy`), in claim order (priority, then oldest
   * runAt): broker mode republishes from here the jobs whose message went missing (invariant 4).
   */
  readyJobs(type: string, dueBy: number, limit: number): Promise<Job[]>;
  /**
   * How many queued jobs of the job's type are due at `now` and come before it in claim order
   * (priority, then oldest runAt, then id): its place in the line ("why am I waiting?").
   */
  queuePosition(job: Pick<Job, 'id' | 'type' | 'priority' | 'runAt'>, now: number): Promise<number>;

  createBatch(batch: BatchRecord): Promise<void>;
  updateBatch(id: string, patch: Partial<Omit<BatchRecord, 'id'>>): Promise<void>;
  getBatch(id: string): Promise<BatchSummary | undefined>;
  /** Batches newest first, keyset-paged on (createdAt, id), with their job counts. */
  listBatches(filter: { limit: number; cursor?: string }): Promise<BatchPage>;
  addRejectedRows(batchId: string, rows: readonly RejectedRow[]): Promise<void>;
  rejectedRows(batchId: string): Promise<RejectedRow[]>;

  recordDecision(decision: ScalingDecision): Promise<void>;
  decisions(filter: { type?: string; limit: number }): Promise<ScalingDecision[]>;
  /** Worker lifecycle: an append-only record, so tests can prove no busy worker was stopped. */
  recordWorkerEvent(event: WorkerEvent): Promise<void>;
  workerEvents(filter: { type?: string; limit: number }): Promise<WorkerEvent[]>;

  /** The audit log: append-only, one entry per operator action or refused attempt. */
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Newest first (by append order), keyset-paged; `actor` and `action` match exactly. */
  listAudit(filter: AuditFilter): Promise<AuditPage>;

  close(): Promise<void>;
}

export interface JobFilter {
  type?: string;
  /**
   * Any of these types (a scoped key's listing), when `type` is absent: each type is listed through
   * its own index and the pages are merged in the store's order, so the page is exact.
   */
  types?: readonly string[];
  state?: JobState;
  batchId?: string;
  /** Matches the id prefix or the payload text. */
  search?: string;
  limit: number;
  /** Opaque cursor from the previous page. */
  cursor?: string;
}

export interface JobPage {
  jobs: Job[];
  nextCursor: string | null;
}

export interface ClaimRequest {
  type: string;
  owner: string;
  limit: number;
  now: number;
  leaseExpiresAt: number;
  to: 'running' | 'starting';
  jobIds?: readonly string[];
}

export type FinishUpdate = {
  id: string;
  token: number;
  now: number;
} & (
  | { to: 'running'; leaseExpiresAt: number }
  | { to: 'succeeded'; result: unknown }
  | { to: 'failed' | 'timed_out' | 'dead_lettered'; error: JobError }
  | { to: 'cancelled'; error?: JobError }
  | {
      to: 'queued';
      runAt: number;
      error: JobError;
      /**
       * The attempt that ended does not count (`attempt` goes back by one): gaffer's stop cut it
       * short (`error.interrupted`), the job did not fail.
       */
      refund?: boolean;
    }
);

export interface DeadLetterEdit {
  payload?: unknown;
  maxAttempts?: number;
  priority?: number;
}

export interface PurgeRequest {
  /** Ended states that may be deleted (never queued or in flight). */
  states: readonly JobState[];
  endedBefore: number | null;
  keepNewest: number | null;
  limit: number;
}

/** The first line of a log `trimLogs` cut; also how readers recognise one. */
export function logTrimMarker(maxBytes: number): string {
  return `[gaffer] earlier lines of this log were dropped: it is kept to its last ${maxBytes} bytes (retention.logBytesPerJob)\n`;
}

/**
 * The text of the log entry that straddles a cut: the marker, then the entry's whole lines within
 * its last `room` bytes. Both stores use it, so they cut alike.
 */
export function cutEntry(data: Buffer, room: number, maxBytes: number): Buffer {
  const marker = Buffer.from(logTrimMarker(maxBytes), 'utf8');
  if (room <= 0) return marker;
  let from = Math.max(0, data.length - room);
  // Start at a line boundary: skip the partial line the byte cut landed in.
  if (from > 0 && data[from - 1] !== 0x0a) {
    const newline = data.indexOf(0x0a, from);
    from = newline < 0 ? data.length : newline + 1;
  }
  return Buffer.concat([marker, data.subarray(from)]);
}

export interface LogLine {
  seq: number;
  at: number;
  stream: 'stdout' | 'stderr';
  data: string;
}

export interface QueueStats {
  type: string;
  ready: number;
  delayed: number;
  inFlight: number;
  byState: Partial<Record<JobState, number>>;
  /** createdAt of the oldest ready job, or null. */
  oldestReadyAt: number | null;
}

export interface BatchRecord {
  id: string;
  createdAt: number;
  source: string;
  type: string | null;
  accepted: number;
  rejected: number;
  done: boolean;
}

export interface BatchSummary extends BatchRecord {
  byState: Partial<Record<JobState, number>>;
}

export interface BatchPage {
  batches: BatchSummary[];
  nextCursor: string | null;
}

export interface RejectedRow {
  row: number;
  raw: string;
  code: string;
  message: string;
}

/** Who did what to which target, when, and how it ended. Never holds a secret. */
export interface AuditEntry {
  /** Store-clock ms (orch.clock). */
  at: number;
  /** The key id that acted ('anonymous' with auth off). */
  actor: string;
  /** e.g. `job.cancel`, `dead-letter.replay-many`, `session.login`. */
  action: string;
  /** A job or batch id, or null (a bulk action, a login). */
  target: string | null;
  /** ok, refused (403/401), or failed (the action threw, e.g. 409). */
  outcome: 'ok' | 'refused' | 'failed';
  /** JSON-safe details (an error code, a selection, counts), or null. */
  details: unknown;
}

export interface AuditRecord extends AuditEntry {
  /** Append order; the page cursor. */
  seq: number;
}

export interface AuditFilter {
  limit: number;
  cursor?: string;
  actor?: string;
  action?: string;
}

export interface AuditPage {
  entries: AuditRecord[];
  nextCursor: string | null;
}

export interface WorkerEvent {
  at: number;
  workerId: string;
  type: string;
  event: 'started' | 'ready' | 'draining' | 'stopped' | 'crashed';
  /** Jobs the worker held at the moment of the event; for `stopped` by gaffer it must be 0. */
  active: number;
  detail: string | null;
}

export type { WorkerInfo, AttemptRecord };
