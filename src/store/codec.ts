import { JOB_STATES, type Job, type JobState, type NewJob } from '../domain/job.ts';

/** Row encoding both stores share. */

/** JSON text, or NULL for `undefined` (which JSON cannot represent); read back as null. */
export function toJson(value: unknown): string | null {
  return JSON.stringify(value) ?? null;
}

export function fromJson(text: string | null): unknown {
  return text === null ? null : JSON.parse(text);
}

/** Job counts per state, keyed in the domain's state order. */
export function countByState(
  rows: readonly { state: JobState; n: number }[],
): Partial<Record<JobState, number>> {
  const out: Partial<Record<JobState, number>> = {};
  for (const state of JOB_STATES) {
    const row = rows.find((r) => r.state === state);
    if (row) out[state] = row.n;
  }
  return out;
}

/** Column of each patchable batch field; SET clauses are built only from these names, never input. */
export const BATCH_COLUMNS = {
  createdAt: 'created_at',
  source: 'source',
  type: 'type',
  accepted: 'accepted',
  rejected: 'rejected',
  done: 'done',
} as const;

/**
 * The record of a job just inserted — queued, never claimed — built from what the caller holds
 * rather than read back (a read after a large insert would double its cost). Each store passes its
 * JSON values as they would read back: SQLite as given (they came from JSON or CSV), PostgreSQL
 * through jsonb's text round trip.
 */
export function insertedJob(job: NewJob): Job {
  return {
    id: job.id,
    type: job.type,
    queue: job.queue,
    payload: job.payload === undefined ? null : job.payload, // undefined is stored as NULL
    priority: job.priority,
    attributes: job.attributes ?? {},
    state: 'queued',
    attempt: 0,
    maxAttempts: job.maxAttempts,
    timeoutMs: job.timeoutMs,
    createdAt: job.createdAt,
    runAt: job.runAt,
    startedAt: null,
    finishedAt: null,
    leaseToken: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    cancelRequested: false,
    result: null,
    error: null,
    batchId: job.batchId,
    idempotencyKey: job.idempotencyKey,
    routeReason: job.routeReason,
    data: job.data ?? null,
    resources: job.resources ?? null,
    replays: 0,
    ...(job.expiresAt != null ? { expiresAt: job.expiresAt } : {}),
  };
}
