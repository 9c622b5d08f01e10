import {
  type Job,
  type JobData,
  type JobError,
  type JobResources,
  type JobState,
  type NewJob,
} from '../../domain/job.ts';
import { fromJson, insertedJob, toJson } from '../codec.ts';

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
  submitted_by: string;
  route_reason: string | null;
  data: JobData | null;
  resources: JobResources | null;
  /** Not started by this time: the job expires (null: never). */
  expires_at: number | null;
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
    resources: row.resources,
    replays: row.replays,
    ...(row.expires_at != null ? { expiresAt: Number(row.expires_at) } : {}),
  };
}

/** The job as an insert stored it (`insertedJob`), its JSON values as jsonb gives them back. */
export function newJobToJob(job: NewJob): Job {
  return insertedJob({
    ...job,
    payload: fromJson(toJson(job.payload)),
    attributes: (fromJson(toJson(job.attributes)) ?? {}) as Record<string, unknown>,
    data: fromJson(toJson(job.data)) as JobData | null,
    resources: fromJson(toJson(job.resources ?? null)) as JobResources | null,
  });
}

/**
 * JSON text for a jsonb parameter, or NULL for `undefined` (which JSON cannot represent); read back
 * as null. Always passed as text: pg would send a JS string parameter unquoted, not as JSON.
 */
