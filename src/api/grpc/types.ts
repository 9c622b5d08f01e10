/**
 * The messages of proto/gaffer/v1/gaffer.proto as @grpc/proto-loader presents them with
 * `LOADER_OPTIONS` (definition.ts): camelCase fields, enums as their names, int64 as numbers.
 * Hand-written to mirror the proto, because the proto is loaded at runtime (no codegen step);
 * test/e2e/grpc.test.ts checks every message's fields against the loaded definition, so the two
 * cannot drift apart unnoticed.
 *
 * Requests are what a caller sends: every field may be left out (proto3). Responses are what the
 * loader decodes: scalars are always present (their zero value when unset), `optional` fields and
 * message fields only when set (a message field decodes as null when unset).
 */

export const JOB_STATE_NAMES = [
  'JOB_STATE_UNSPECIFIED',
  'JOB_STATE_QUEUED',
  'JOB_STATE_STARTING',
  'JOB_STATE_RUNNING',
  'JOB_STATE_SUCCEEDED',
  'JOB_STATE_FAILED',
  'JOB_STATE_TIMED_OUT',
  'JOB_STATE_CANCELLED',
  'JOB_STATE_DEAD_LETTERED',
  'JOB_STATE_EXPIRED',
] as const;
export type JobStateName = (typeof JOB_STATE_NAMES)[number];

export interface DataRefs {
  inputs: string[];
  /** Empty: nothing is uploaded. */
  output: string;
}

export interface SubmitJobRequest {
  /** Empty: the route rules pick the type. */
  type?: string;
  /** JSON text; empty: null. */
  payloadJson?: string;
  /** One of `priority` and `priorityName` (a oneof); neither: the type's default. */
  priority?: number;
  /** "low" / "normal" / "high", or a number as text. */
  priorityName?: string;
  idempotencyKey?: string;
  /** A JSON object as text; empty: {}. */
  attributesJson?: string;
  maxAttempts?: number;
  timeoutSeconds?: number;
  data?: Partial<DataRefs> | null;
  resources?: Partial<Resources> | null;
  /** ISO 8601 with a zone, or epoch ms as text; '': now. */
  runAt?: string;
  /** Seconds or a duration ("30s"); '': none. */
  delay?: string;
  expiresAt?: string;
  expireIn?: string;
  /** Unset (null): the default dedup (the key is unique for ever). */
  dedup?: Partial<DedupMode> | null;
}

/** A submission's dedup mode (src/jobs/dedup.ts). */
export interface DedupMode {
  mode: string;
  ttlSeconds?: number;
  debounceSeconds?: number;
}

/** A job's resource request; '' or 0: the type's own. */
export interface Resources {
  cpu: string;
  memory: string;
  gpus: number;
}

export interface RunCommandRequest {
  cmd?: string;
  /** Empty: `adhoc.image`. */
  image?: string;
  timeoutSeconds?: number;
  env?: Record<string, string>;
}

export interface RunCommandResponse {
  job: Job;
}

export interface SubmitJobResponse {
  job: Job;
  /** false: the idempotency key was known; `job` is the job submitted first. */
  created: boolean;
}

export interface SubmitJobsRequest {
  /** The type of items that name none. */
  type?: string;
  jobs?: SubmitJobRequest[];
}

export interface RejectedItem {
  index: number;
  /** A catalogue code (src/errors.ts). */
  code: string;
  message: string;
}

export interface SubmitJobsResponse {
  /** Accepted jobs' ids, in the order of their items. */
  jobIds: string[];
  rejected: RejectedItem[];
  /** The batch the jobs were recorded in (GET /v1/batches/:id). */
  batchId: string;
}

export interface JobIdRequest {
  id?: string;
}
export type GetJobRequest = JobIdRequest;
export type CancelJobRequest = JobIdRequest;
export type WatchJobRequest = JobIdRequest;

export interface ListJobsRequest {
  type?: string;
  state?: JobStateName;
  cursor?: string;
  /** 1 to 1000; 0 or unset: 50. */
  limit?: number;
  /** Only queued jobs not yet due (HTTP's `state=delayed`); `state` unset or QUEUED only. */
  delayed?: boolean;
}

export interface ListJobsResponse {
  jobs: Job[];
  /** Empty on the last page. */
  nextCursor: string;
}

export interface JobError {
  class: string;
  message: string;
  exitCode?: number;
  signal: string;
  nonRetryable: boolean;
  workerLost: boolean;
  oomKills: number;
}

export interface Job {
  id: string;
  type: string;
  queue: string;
  state: JobStateName;
  payloadJson: string;
  priority: number;
  attributesJson: string;
  attempt: number;
  maxAttempts: number;
  replays: number;
  timeoutMs: number;
  createdAtMs: number;
  runAtMs: number;
  /** Absent: never expires. */
  expiresAtMs?: number;
  startedAtMs?: number;
  finishedAtMs?: number;
  cancelRequested: boolean;
  resultJson: string;
  error: JobError | null;
  batchId: string;
  idempotencyKey: string;
  routeReason: string;
  data: DataRefs | null;
  /** The worker holding the lease while in flight; empty otherwise. */
  leaseOwner: string;
  leaseExpiresAtMs?: number;
  /** Unset (null): the type's resources. */
  resources?: Resources | null;
  /** Why it has not started yet: GetJob only, while queued or starting; else unset (null). */
  waiting?: Waiting | null;
}

export interface Waiting {
  /** `delayed`, `paused`, `rate_limit`, `key_limit`, `no_worker`, … (src/jobs/waiting.ts). */
  reason: string;
  message: string;
  position: number;
  /** Unset when unknown. */
  estimatedStartAtMs?: number;
}

export interface TypeRequest {
  type?: string;
}

export interface TypeStatus {
  type: string;
  paused: boolean;
}

export type ListSchedulesRequest = Record<string, never>;

export interface ListSchedulesResponse {
  schedules: Schedule[];
}

export interface Schedule {
  name: string;
  /** "config" or "api". */
  source: string;
  cron: string;
  /** Empty: UTC. */
  timezone: string;
  type: string;
  paused: boolean;
  /** Unset: it never fires again. */
  nextRunAtMs?: number;
  /** Unset before the first tick fired. */
  lastRunAtMs?: number;
  lastJobId: string;
  definitionJson: string;
}

export interface TriggerScheduleRequest {
  name?: string;
}

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface HealthCheckRequest {
  service?: string;
}

export interface HealthCheckResponse {
  status: ServingStatus;
}
