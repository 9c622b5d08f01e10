import type { ScalingDecision, WorkerInfo } from '../domain/events.ts';
import type { Job, JobError, JobState, NewJob } from '../domain/job.ts';

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
  /** An ended job that did not succeed back to queued with fresh attempts. */
  requeue(id: string, now: number): Promise<Job | undefined>;
  /**
   * Removes queued jobs that were never accepted: their broker publish failed after the insert
   * committed, and the submitter was answered 503. Returns how many were removed.
   */
  deleteQueued(ids: readonly string[]): Promise<number>;

  appendLog(id: string, stream: 'stdout' | 'stderr', data: string, now: number): Promise<void>;
  logs(id: string, afterSeq?: number): Promise<LogLine[]>;

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
  addRejectedRows(batchId: string, rows: readonly RejectedRow[]): Promise<void>;
  rejectedRows(batchId: string): Promise<RejectedRow[]>;

  recordDecision(decision: ScalingDecision): Promise<void>;
  decisions(filter: { type?: string; limit: number }): Promise<ScalingDecision[]>;
  /** Worker lifecycle: an append-only record, so tests can prove no busy worker was stopped. */
  recordWorkerEvent(event: WorkerEvent): Promise<void>;
  workerEvents(filter: { type?: string; limit: number }): Promise<WorkerEvent[]>;

  close(): Promise<void>;
}

export interface JobFilter {
  type?: string;
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
  | { to: 'queued'; runAt: number; error: JobError }
);

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

export interface RejectedRow {
  row: number;
  raw: string;
  code: string;
  message: string;
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

export type { WorkerInfo };
