import {
  type Job,
  type JobData,
  type JobError,
  type JobState,
  type NewJob,
} from '../../domain/job.ts';
import { fromJson, toJson } from '../codec.ts';

/** A `jobs` row as pg returns it: jsonb already parsed, bigint as number (see db.ts). */
export interface JobRow {
  id: string;
  type: string;
  queue: string;
  payload: unknown;
  priority: number;
  attributes: Record<string, unknown> | null;
  state: JobState;
  attempt: number;
  max_attempts: number;
  timeout_ms: number;
  created_at: number;
  run_at: number;
  started_at: number | null;
  finished_at: number | null;
  lease_token: number | null;
  lease_owner: string | null;
  lease_expires_at: number | null;
  cancel_requested: boolean;
  result: unknown;
  error: JobError | null;
  batch_id: string | null;
  idempotency_key: string | null;
  route_reason: string | null;
  data: JobData | null;
  replays: number;
}

export function rowToJob(row: JobRow): Job {
  return {
    id: row.id,
    type: row.type,
    queue: row.queue,
    payload: row.payload,
    priority: row.priority,
    attributes: row.attributes ?? {},
    state: row.state,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    timeoutMs: row.timeout_ms,
    createdAt: row.created_at,
    runAt: row.run_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    leaseToken: row.lease_token,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    cancelRequested: row.cancel_requested,
    result: row.result,
    error: row.error,
    batchId: row.batch_id,
    idempotencyKey: row.idempotency_key,
    routeReason: row.route_reason,
    data: row.data,
    replays: row.replays,
  };
}

/**
 * The job as stored by an insert, built in JS rather than read back (RETURNING * would double the
 * cost of a large insert). JSON values go through the same text round trip as the stored jsonb,
 * so the result equals what `get` returns.
 */
export function newJobToJob(job: NewJob): Job {
  return {
    id: job.id,
    type: job.type,
    queue: job.queue,
    payload: fromJson(toJson(job.payload)),
    priority: job.priority,
    attributes: (fromJson(toJson(job.attributes)) ?? {}) as Record<string, unknown>,
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
    data: fromJson(toJson(job.data)) as JobData | null,
    replays: 0,
  };
}

/**
 * JSON text for a jsonb parameter, or NULL for `undefined` (which JSON cannot represent); read back
 * as null. Always passed as text: pg would send a JS string parameter unquoted, not as JSON.
 */
