import type { RetentionConfig } from '../config/schema.ts';
import type { Clock } from '../domain/clock.ts';
import { JOB_STATES, TERMINAL_STATES, type JobState } from '../domain/job.ts';
import type { JobRetention, PurgeRequest } from '../store/roles/job-retention.ts';

/**
 * Retention (`retention` in the config): how much of the past the store keeps. Ended jobs go by
 * age and by count, logs are cut to their newest bytes, results are capped when written. Every
 * limit is off unless configured. The sweep runs from the reconciler's timer but decides by
 * gaffer's clock (invariant 6), so a test moves the clock and calls it instead of waiting.
 */

const DAY_MS = 86_400_000;
/** Jobs deleted per statement: short transactions, so claims and completions are not held up. */
export const PURGE_CHUNK = 1000;
/** Every terminal state but dead-lettered, which `retention.deadLetters` governs on its own. */
const ENDED: readonly JobState[] = JOB_STATES.filter(
  (s) => TERMINAL_STATES.has(s) && s !== 'dead_lettered',
);

export interface RetentionReport {
  /** Jobs deleted (their logs with them). */
  deleted: number;
  /** Jobs whose log was cut. */
  trimmed: string[];
}

/** What the store should delete under `policy` at `now`; null when no record limit is set. */
export function purgeRequest(
  policy: Pick<RetentionConfig, 'maxAgeDays' | 'maxJobs' | 'deadLetters'>,
  now: number,
): PurgeRequest | null {
  if (policy.maxAgeDays === undefined && policy.maxJobs === undefined) return null;
  return {
    states: policy.deadLetters ? [...ENDED, 'dead_lettered'] : ENDED,
    endedBefore: policy.maxAgeDays === undefined ? null : now - policy.maxAgeDays * DAY_MS,
    keepNewest: policy.maxJobs ?? null,
    limit: PURGE_CHUNK,
  };
}

/** The result as stored: itself, or a marker when its JSON is over `limit` bytes. */
export function capResult(result: unknown, limit: number | undefined): unknown {
  if (limit === undefined) return result;
  const bytes = Buffer.byteLength(JSON.stringify(result) ?? 'null');
  return bytes > limit ? { truncated: true, bytes, limit } : result;
}

export interface RetentionOptions {
  store: JobRetention;
  clock: Clock;
  /** Read on every sweep, so a config reload takes effect at the next one. */
  policy: () => RetentionConfig;
}

export class Retention {
  readonly #o: RetentionOptions;
  #lastRun = Number.NEGATIVE_INFINITY;
  /** Logs up to this seq were checked; 0 after a start, so the first sweep checks every log. */
  #logSeq = 0;
  #running: Promise<RetentionReport> | null = null;

  constructor(options: RetentionOptions) {
    this.#o = options;
  }

  /**
   * Sweeps when `sweepMs` has passed on gaffer's clock since the last sweep; else null. A sweep in
   * progress is waited for, so a caller sees its effects when this resolves.
   */
  async sweepIfDue(): Promise<RetentionReport | null> {
    if (this.#running) return this.#running;
    if (this.#o.clock.now() - this.#lastRun < this.#o.policy().sweepMs) return null;
    return this.sweep();
  }

  /** One sweep now; a call during a sweep shares it. */
  sweep(): Promise<RetentionReport> {
    this.#running ??= this.#sweep().finally(() => (this.#running = null));
    return this.#running;
  }

  async #sweep(): Promise<RetentionReport> {
    const now = this.#o.clock.now();
    this.#lastRun = now;
    const policy = this.#o.policy();
    const deleted = await this.#purge(purgeRequest(policy, now));
    let trimmed: string[] = [];
    if (policy.logBytesPerJob !== undefined) {
      const cut = await this.#o.store.trimLogs(policy.logBytesPerJob, this.#logSeq);
      this.#logSeq = cut.lastSeq;
      trimmed = cut.trimmed;
    }
    return { deleted, trimmed };
  }

  async #purge(req: PurgeRequest | null): Promise<number> {
    if (!req) return 0;
    let total = 0;
    for (;;) {
      const n = await this.#o.store.purgeEnded(req);
      total += n;
      if (n < req.limit) return total;
    }
  }
}
