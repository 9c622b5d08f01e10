import { isTerminal, type JobPage, type ListJobsQuery } from '../client/index.ts';

/**
 * Follows the run's accepted jobs to their end, for the report's completion counts and times.
 *
 * Not through GET /v1/events: that stream coalesces job changes into one event per 250 ms with a
 * sample of 20 ids (src/api/routes/events.ts), so past 80 changes a second most completions are
 * never named. Not one GET per job either. Instead a sweep lists the run's type newest first
 * (GET /v1/jobs?type=…, pages of 1000, keyset-paged so pages never shift) down to the oldest job
 * still pending, and every job of ours it sees in a terminal state is done. A sweep thus costs
 * about one request per 1000 jobs of backlog, however many jobs the run has.
 *
 * The completion time is the job's own record, `finishedAt − createdAt` on gaffer's clock, so it
 * is exact to the millisecond however seldom the sweeps run.
 */

export type ListJobs = (query: ListJobsQuery) => Promise<JobPage>;

interface Pending {
  /** The job's type as gaffer answered it; null: not known (a batch without --type). */
  type: string | null;
  /** gaffer's clock; null until the submit answer or a sweep tells. */
  createdAt: number | null;
  /** The last state a sweep saw. */
  state: string;
}

export const PAGE_SIZE = 1000;

export class CompletionTracker {
  readonly #list: ListJobs;
  readonly #pending = new Map<string, Pending>();
  /** The oldest createdAt of any job of the run: no sweep reads past it. */
  #floor = Infinity;
  /** Submit-to-end times (ms) of the ended jobs. */
  readonly completionMs: number[] = [];
  /** Ended jobs by terminal state. */
  readonly endedByState: Record<string, number> = {};
  completed = 0;
  sweeps = 0;
  requests = 0;

  constructor(list: ListJobs) {
    this.#list = list;
  }

  add(id: string, type: string | null, createdAt: number | null): void {
    this.#pending.set(id, { type, createdAt, state: 'queued' });
    if (createdAt !== null) this.#floor = Math.min(this.#floor, createdAt);
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** The pending jobs by the state last seen (queued until a sweep sees them). */
  pendingByState(): Record<string, number> {
    const by: Record<string, number> = {};
    for (const p of this.#pending.values()) by[p.state] = (by[p.state] ?? 0) + 1;
    return by;
  }

  /** One pass over the pending jobs; a job of unknown type sweeps every type. */
  async sweep(): Promise<void> {
    this.sweeps++;
    const byType = new Map<string | null, Set<string>>();
    for (const [id, p] of this.#pending) {
      const key = p.type;
      if (!byType.has(key)) byType.set(key, new Set());
      byType.get(key)!.add(id);
    }
    if (byType.has(null)) {
      // One unfiltered pass covers every type.
      const all = new Set(this.#pending.keys());
      byType.clear();
      byType.set(null, all);
    }
    for (const [type, ids] of byType) await this.#sweepType(type, ids);
  }

  async #sweepType(type: string | null, unseen: Set<string>): Promise<void> {
    const floor = this.#floorOf(unseen);
    let cursor: string | undefined;
    for (;;) {
      this.requests++;
      const page = await this.#list({
        limit: PAGE_SIZE,
        ...(type !== null ? { type } : {}),
        ...(cursor ? { cursor } : {}),
      });
      for (const job of page.jobs) {
        const p = this.#pending.get(job.id);
        if (!p) continue;
        unseen.delete(job.id);
        p.createdAt = job.createdAt;
        this.#floor = Math.min(this.#floor, job.createdAt);
        if (isTerminal(job.state)) this.#ended(job.id, job.state, job.createdAt, job.finishedAt);
        else p.state = job.state;
      }
      const oldest = page.jobs.at(-1)?.createdAt ?? -Infinity;
      if (unseen.size === 0 || !page.nextCursor || oldest < floor) return;
      cursor = page.nextCursor;
    }
  }

  /** Where a sweep may stop: the oldest known createdAt of the jobs it looks for. */
  #floorOf(ids: Set<string>): number {
    let floor = Infinity;
    for (const id of ids) {
      const at = this.#pending.get(id)?.createdAt ?? null;
      // A job not seen yet was created during the run: the run's floor bounds it.
      floor = Math.min(floor, at ?? this.#floor);
    }
    return floor === Infinity ? -Infinity : floor;
  }

  #ended(id: string, state: string, createdAt: number, finishedAt: number | null): void {
    this.#pending.delete(id);
    this.completed++;
    this.endedByState[state] = (this.endedByState[state] ?? 0) + 1;
    if (finishedAt !== null) this.completionMs.push(Math.max(0, finishedAt - createdAt));
  }
}
