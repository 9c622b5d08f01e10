import type { Job, JobState } from '../../domain/job.ts';

/**
 * Role: reads over the queued and stored jobs — paged listing, per-type queue counts, the due jobs
 * in claim order and a job's place in line. Never writes. The job service, the API, the autoscaler,
 * the metrics and broker-mode republishing use it.
 */
export interface JobListing {
  list(filter: JobFilter): Promise<JobPage>;
  /** Per type: ready (claimable now), delayed, in flight, and totals per state. */
  queueStats(now: number): Promise<QueueStats[]>;
  /**
   * Queued jobs of `type` that are due (runAt ≤ `dueBy`), in claim order (priority, then oldest
   * runAt): broker mode republishes from here the jobs whose message went missing (invariant 4).
   */
  readyJobs(type: string, dueBy: number, limit: number): Promise<Job[]>;
  /**
   * Queued jobs of `type` that were delayed (runAt after their createdAt: a delayed submission,
   * a retry's backoff) and fell due in the window `after` < (runAt, id) ≤ `upTo`, by (runAt, id):
   * broker mode publishes a delayed job from here when it is due (the last job of a page is the
   * next page's `after`). Served by a partial index that due-on-insert jobs never enter.
   */
  becameDue(type: string, after: DueCursor, upTo: number, limit: number): Promise<Job[]>;
  /**
   * How many queued jobs of the job's type are due at `now` and come before it in claim order
   * (priority, then oldest runAt, then id): its place in the line ("why am I waiting?").
   */
  queuePosition(job: Pick<Job, 'id' | 'type' | 'priority' | 'runAt'>, now: number): Promise<number>;
  /**
   * Queued jobs of `type`, not asked to cancel, that are delayed at `now` and fall due by `upTo`
   * (now < runAt ≤ upTo): how many, and the first one's runAt (null: none). The autoscaler starts
   * workers for them one start-up delay ahead.
   */
  dueWithin(type: string, now: number, upTo: number): Promise<DueWithin>;
}

export interface DueWithin {
  count: number;
  firstAt: number | null;
}

/** A place in (runAt, id) order; id '' is before every job of that runAt. */
export interface DueCursor {
  runAt: number;
  id: string;
}

export interface JobFilter {
  type?: string;
  /**
   * Any of these types (a scoped key's listing), when `type` is absent: each type is listed through
   * its own index and the pages are merged in the store's order, so the page is exact.
   */
  types?: readonly string[];
  state?: JobState;
  /**
   * Only jobs due after this time (runAt > dueAfter): with state `queued`, the jobs shown as
   * `delayed` (a view of queued jobs whose runAt is ahead, not a stored state).
   */
  dueAfter?: number;
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

export interface QueueStats {
  type: string;
  ready: number;
  delayed: number;
  inFlight: number;
  byState: Partial<Record<JobState, number>>;
  /** createdAt of the oldest ready job, or null. */
  oldestReadyAt: number | null;
}
