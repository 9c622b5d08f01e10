import type { Clock } from '../domain/clock.ts';
import type { Job } from '../domain/job.ts';
import { GafferError } from '../errors.ts';
import type { DeadLetterEdit, DeadLetterWrites } from '../store/roles/dead-letter-writes.ts';
import type { JobListing, JobPage } from '../store/roles/job-listing.ts';
import type { JobRecords } from '../store/roles/job-records.ts';
import { unknownType, type Catalog } from './catalog.ts';

export interface DeadLetterOptions {
  store: Pick<JobRecords, 'get'> & Pick<JobListing, 'list'> & DeadLetterWrites;
  clock: Clock;
  catalog: () => Catalog;
  /** Announces requeued jobs: publishes them (broker mode) and emits `job:queued`. */
  requeued: (jobs: Job[]) => Promise<void>;
}

export interface DeadLetterFilter {
  type?: string;
  /** Any of these types, as JobFilter's. */
  types?: readonly string[];
  search?: string;
  limit: number;
  cursor?: string;
}

/** Which dead-lettered jobs a bulk replay takes: by id, or by type and search, or all. */
export interface ReplaySelection {
  ids?: readonly string[];
  type?: string;
  search?: string;
  /** Required to replay with no other filter, so an empty body never replays everything. */
  all?: boolean;
  /** At most this many in one call. */
  limit: number;
}

export interface ReplayReport {
  replayed: Job[];
  /** Jobs named or found that were not replayed, with why. */
  skipped: { id: string; code: string; message: string }[];
}

/** Jobs read per page of a bulk replay (and requeued per store transaction). */
const PAGE = 500;

/**
 * The dead-letter queue: jobs that used up their attempts (or failed non-retryably) on a type with
 * `deadLetter: true`. An operator inspects them, may fix a payload (checked against the type's
 * schema) or raise maxAttempts, and replays them. A replay is a fresh run: attempt back to 0 with
 * all of maxAttempts, `replays` + 1 on the record, the last error cleared. Every change is a
 * compare-and-set on the `dead_lettered` state, so a job replayed twice at once runs once.
 */
export class DeadLetterQueue {
  readonly #o: DeadLetterOptions;

  constructor(options: DeadLetterOptions) {
    this.#o = options;
  }

  list(filter: DeadLetterFilter): Promise<JobPage> {
    return this.#o.store.list({ ...filter, state: 'dead_lettered' });
  }

  async get(id: string): Promise<Job> {
    const job = await this.#o.store.get(id);
    if (!job) throw new GafferError('GAFFER_JOB_NOT_FOUND', id);
    if (job.state !== 'dead_lettered') throw new GafferError('GAFFER_NOT_DEAD_LETTERED', job.state);
    return job;
  }

  /** A new payload must match the type's payload schema as it is now. */
  async edit(id: string, patch: DeadLetterEdit): Promise<Job> {
    const before = await this.get(id);
    if ('payload' in patch) {
      this.#knownType(before);
      const problem = this.#o.catalog().checkPayload(before.type, patch.payload ?? null);
      if (problem) throw new GafferError('GAFFER_PAYLOAD_INVALID', problem);
    }
    const after = await this.#o.store.editDeadLettered(id, {
      ...patch,
      ...('payload' in patch ? { payload: patch.payload ?? null } : {}),
    });
    return this.#stillDeadLettered(id, after);
  }

  async replay(id: string): Promise<Job> {
    this.#knownType(await this.get(id));
    const [job] = await this.#o.store.replayDeadLettered([id], this.#o.clock.now());
    if (!job) return this.#stillDeadLettered(id, await this.#o.store.get(id));
    await this.#o.requeued([job]);
    return job;
  }

  /**
   * Replays the selection page by page. Pages walk backwards by (createdAt, id), so a job that
   * fails again during the call and is dead-lettered anew is not replayed a second time.
   * `scope` (the caller's job types; absent: all) limits a selection to those types, and a named
   * job of another type is skipped as unknown (GAFFER_JOB_NOT_FOUND); the caller refuses a `type` outside it.
   */
  async replayMany(
    sel: ReplaySelection,
    scope?: ReadonlySet<string> | null,
  ): Promise<ReplayReport> {
    if (!sel.ids?.length && !sel.type && !sel.search && !sel.all) {
      throw new GafferError('GAFFER_BAD_REQUEST', 'name ids, a type or a search, or set all');
    }
    const report: ReplayReport = { replayed: [], skipped: [] };
    if (sel.ids?.length) {
      for (let i = 0; i < sel.ids.length && report.replayed.length < sel.limit; i += PAGE) {
        const ids = sel.ids.slice(i, i + PAGE);
        const found = (await this.#found(ids, report)).filter((job) => {
          if (!scope || scope.has(job.type)) return true;
          // As an unknown id: a scoped caller cannot tell which ids of other types exist.
          report.skipped.push(skip(job.id, new GafferError('GAFFER_JOB_NOT_FOUND', job.id)));
          return false;
        });
        await this.#replayBatch(found, sel.limit, report);
      }
      return report;
    }
    const types = sel.type || !scope ? [sel.type] : [...scope].sort();
    for (const type of types) {
      if (report.replayed.length >= sel.limit) break;
      await this.#replaySelected({ ...sel, ...(type ? { type } : {}) }, report);
    }
    return report;
  }

  async #replaySelected(sel: ReplaySelection, report: ReplayReport): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await this.list({
        limit: Math.min(PAGE, sel.limit - report.replayed.length),
        ...(sel.type ? { type: sel.type } : {}),
        ...(sel.search ? { search: sel.search } : {}),
        ...(cursor ? { cursor } : {}),
      });
      await this.#replayBatch(page.jobs, sel.limit, report);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && report.replayed.length < sel.limit);
  }

  async #found(ids: readonly string[], report: ReplayReport): Promise<Job[]> {
    const found: Job[] = [];
    for (const id of ids) {
      const job = await this.#o.store.get(id);
      if (job) found.push(job);
      else report.skipped.push(skip(id, new GafferError('GAFFER_JOB_NOT_FOUND', id)));
    }
    return found;
  }

  /** Requeues the dead-lettered jobs of a known type among `jobs`; reports the rest. */
  async #replayBatch(jobs: readonly Job[], limit: number, report: ReplayReport): Promise<void> {
    const ready: string[] = [];
    for (const job of jobs) {
      if (ready.length + report.replayed.length >= limit) break;
      if (job.state !== 'dead_lettered') {
        report.skipped.push(skip(job.id, new GafferError('GAFFER_NOT_DEAD_LETTERED', job.state)));
      } else if (!this.#o.catalog().type(job.type)) {
        report.skipped.push(skip(job.id, new GafferError('GAFFER_UNKNOWN_TYPE', job.type)));
      } else {
        ready.push(job.id);
      }
    }
    const replayed = await this.#o.store.replayDeadLettered(ready, this.#o.clock.now());
    const done = new Set(replayed.map((j) => j.id));
    for (const id of ready.filter((i) => !done.has(i))) {
      // Replayed by someone else between the read and the update.
      report.skipped.push(
        skip(id, new GafferError('GAFFER_NOT_DEAD_LETTERED', 'changed meanwhile')),
      );
    }
    if (replayed.length > 0) await this.#o.requeued(replayed);
    report.replayed.push(...replayed);
  }

  /** A job of a type no longer configured would wait in `queued` forever: refused. */
  #knownType(job: Job): void {
    if (!this.#o.catalog().type(job.type)) throw unknownType(this.#o.catalog(), job.type);
  }

  /** After a compare-and-set: the job, or why it no longer was dead-lettered. */
  #stillDeadLettered(id: string, job: Job | undefined): Job {
    if (!job) throw new GafferError('GAFFER_JOB_NOT_FOUND', id);
    if (job.state !== 'dead_lettered') throw new GafferError('GAFFER_NOT_DEAD_LETTERED', job.state);
    return job;
  }
}

function skip(id: string, err: GafferError): ReplayReport['skipped'][number] {
  return { id, code: err.code, message: err.message };
}
