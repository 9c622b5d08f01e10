import type { Dedup, Job, JobState } from './job.ts';
import { isTerminal } from './job.ts';

/**
 * Deduplication modes: what a submission whose scoped idempotency key (key, type, submitter) is
 * already held does. Pure: the decision; the stores apply the
 * decision atomically, inside the insert's transaction (src/store/sqlite/insert.ts,
 * src/store/postgres/dedup.ts; parsed by src/jobs/dedup.ts).
 *
 * - none (the default): the key is unique for ever; an equal submission returns the first job, a
 *   different one is refused (GAFFER_IDEMPOTENCY_CONFLICT).
 * - `live`: unique while the job is not ended (queued, starting, running): a second submission
 *   returns it, whatever it carries; once it ended, a new submission makes a new job.
 * - `ttl`: unique for `ttlMs` from the first job's creation: within it a submission returns that
 *   job; after it, a new job.
 * - `debounce`: a submission while the job has not started replaces its payload and pushes its
 *   start back to now + `debounceMs`; once it started (or ended), a new job.
 *
 * A new job under a held key takes the key: the earlier job keeps its record but no longer its key.
 */

export type DedupDecision =
  /** Return the job holding the key, unchanged. */
  | { action: 'existing'; reason: string }
  /** Take the key from the job holding it and insert the new job. */
  | { action: 'create'; reason: string }
  /** Replace the holder's payload; it becomes due at `runAt`. */
  | { action: 'replace'; runAt: number; reason: string }
  /** Refuse: GAFFER_IDEMPOTENCY_CONFLICT. */
  | { action: 'conflict'; reason: string };

/** The states of a job that has not started (a retry's queued state has: its attempt is > 0). */
const NOT_STARTED: ReadonlySet<string> = new Set<JobState | 'delayed'>(['queued', 'delayed']);

/**
 * What a submission under a held key does. `existing`: the job holding the key; `dedup`: the
 * submission's mode (null: none); `equal`: whether the submission equals the holder's (read only
 * without a mode); `now`: the submission's time.
 */
export function decideDedup(input: {
  existing: Pick<Job, 'state' | 'createdAt' | 'attempt'>;
  dedup: Dedup | null;
  equal: boolean;
  now: number;
}): DedupDecision {
  const { existing, dedup, now } = input;
  if (dedup === null) {
    return input.equal
      ? { action: 'existing', reason: 'key held by an equal submission' }
      : { action: 'conflict', reason: 'key held by a different submission' };
  }
  switch (dedup.mode) {
    case 'live':
      return isTerminal(existing.state)
        ? { action: 'create', reason: `key held by a job that ended (${existing.state})` }
        : { action: 'existing', reason: `key held by a live job (${existing.state})` };
    case 'ttl':
      return now < existing.createdAt + dedup.ttlMs
        ? { action: 'existing', reason: 'key held within its ttl' }
        : { action: 'create', reason: 'key held, its ttl passed' };
    case 'debounce':
      return NOT_STARTED.has(existing.state) && existing.attempt === 0
        ? {
            action: 'replace',
            runAt: now + dedup.debounceMs,
            reason: 'key held by a job not started',
          }
        : { action: 'create', reason: `key held by a job that started (${existing.state})` };
  }
}
