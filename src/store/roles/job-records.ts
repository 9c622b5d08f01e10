import type { FlowLimits, Hold } from '../../domain/flow.ts';
import type { Job, JobError, NewJob } from '../../domain/job.ts';

/**
 * Role: the job rows and their lease-fenced transitions — submit, claim, heartbeat, finish, find
 * lost leases, cancel, requeue. The job service (for the API and the worker gateway) and the
 * reconciler use it.
 */
export interface JobRecords {
  /**
   * Inserts jobs in one transaction (group commit). A job whose idempotency key already exists is
   * not inserted; the existing job is returned in its place. Resolves only once committed.
   */
  insert(jobs: readonly NewJob[]): Promise<Job[]>;
  get(id: string): Promise<Job | undefined>;

  /**
   * Claims up to `limit` claimable jobs of `type` (queued, runAt ≤ now, not cancel-requested),
   * highest priority first then oldest: moves them to `to`, increments `attempt`, writes a fresh
   * lease token, owner and expiry. With `jobIds`, claims only those jobs (those still claimable),
   * up to `limit`: a broker delivered them, and many are claimed in one transaction.
   */
  claim(req: ClaimRequest): Promise<Job[]>;
  /**
   * `claim`, also saying which claimable candidates its type's flow limits held back and why (a
   * broker-delivered job held back is handed back to the broker). A paused type claims nothing.
   * With `req.flow`, the type's rate and key limits decide in the claim's transaction
   * (src/domain/flow.ts), serialised per type across every gaffer on the store, so two claimers
   * never both take a window's last slot.
   */
  claimOrHold(req: ClaimRequest): Promise<ClaimOutcome>;
  /** Extends the lease; false when the token is stale or the job is not in flight. */
  heartbeat(id: string, token: number, expiresAt: number): Promise<boolean>;
  /**
   * Applies lease-fenced transitions in one transaction: each succeeds only when the job's current
   * token equals `token` and its state is in flight. Returns the jobs that changed (others were stale).
   */
  finish(updates: readonly FinishUpdate[]): Promise<Job[]>;
  /**
   * Queue-wait expiry: up to `limit` queued jobs whose `expiresAt` ≤ `now` end as `expired` (never
   * run), in one statement. Returns them. A claim never takes a job past its expiry either.
   */
  expire(now: number, limit: number): Promise<Job[]>;
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
   * Removes queued jobs that were never accepted: their broker publish failed after the insert
   * committed, and the submitter was answered 503. Returns how many were removed.
   */
  deleteQueued(ids: readonly string[]): Promise<number>;
}

export interface ClaimRequest {
  type: string;
  owner: string;
  limit: number;
  now: number;
  leaseExpiresAt: number;
  to: 'running' | 'starting';
  jobIds?: readonly string[];
  /** The type's flow limits (config); absent: none, only the pause applies. */
  flow?: FlowLimits | undefined;
}

export interface ClaimOutcome {
  jobs: Job[];
  /** Claimable candidates the limits held back (not necessarily all of them on a backlog claim). */
  held: { id: string; hold: Hold }[];
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
