import {
  type Job,
  type JobData,
  type JobError,
  type JobResources,
  type JobState,
  type NewJob,
} from '../../domain/job.ts';
import type { SQLInputValue } from 'node:sqlite';
import { fromJson, toJson } from '../codec.ts';

/** A `jobs` row as SQLite returns it: JSON columns are text, booleans are 0/1. */
export interface JobRow {
  id: string;
  type: string;
  queue: string;
  payload: string | null;
  priority: number;
  attributes: string;
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
  cancel_requested: number;
  result: string | null;
  error: string | null;
  batch_id: string | null;
  idempotency_key: string | null;
  route_reason: string | null;
  data: string | null;
  replays: number;
  submitted_by: string;
  resources: string | null;
  /** The job's key under its type's key limit (src/domain/flow.ts); null: none recorded. */
  flow_key: string | null;
  /** Not started by this time: the job expires (null: never). */
  expires_at: number | null;
}

/** Every column of `jobs`, in the order INSERT statements list them. */
const JOB_COLUMNS = [
  'id',
  'type',
  'queue',
  'payload',
  'priority',
  'attributes',
  'state',
  'attempt',
  'max_attempts',
  'timeout_ms',
  'created_at',
  'run_at',
  'started_at',
  'finished_at',
  'lease_token',
  'lease_owner',
  'lease_expires_at',
  'cancel_requested',
  'result',
  'error',
  'batch_id',
  'idempotency_key',
  'route_reason',
  'data',
  'replays',
  'submitted_by',
  'resources',
  'flow_key',
  'expires_at',
] as const satisfies readonly (keyof JobRow)[];

/**
 * The columns whose value is the same for every new job (never claimed: queued, no attempts, no
 * lease). INSERT statements write them as SQL literals instead of binding them: 11 of 25 fewer
 * parameters per row.
 */
const NEW_JOB_CONSTANTS = {
  state: 'queued',
  attempt: 0,
  started_at: null,
  finished_at: null,
  lease_token: null,
  lease_owner: null,
  lease_expires_at: null,
  cancel_requested: 0,
  result: null,
  error: null,
  replays: 0,
} as const satisfies Partial<JobRow>;

type Constant = keyof typeof NEW_JOB_CONSTANTS;
const isConstant = (column: keyof JobRow): column is Constant => column in NEW_JOB_CONSTANTS;

/** The columns a new job binds, in JOB_COLUMNS order (the order of each row's placeholders). */
const BOUND_COLUMNS = JOB_COLUMNS.filter((column) => !isConstant(column));

/** One row of VALUES: a literal for each constant column, a placeholder for the others. */
const ROW_VALUES = `(${JOB_COLUMNS.map((column) => {
  if (!isConstant(column)) return '?';
  const value = NEW_JOB_CONSTANTS[column];
  return value === null ? 'NULL' : typeof value === 'number' ? String(value) : `'${value}'`;
}).join(', ')})`;

/**
 * An INSERT of `rows` new jobs in one statement (bind `newJobParams` of each, in order). Writes
 * every column, so the row built in JS is exactly the stored row. A job whose idempotency key is
 * taken (by a job of its type and submitter) is skipped, so a caller that needs to know which one was must insert keyed jobs one by one.
 */
export function insertJobsSql(rows: number): string {
  let sql = insertSqlBySize.get(rows);
  if (sql === undefined) insertSqlBySize.set(rows, (sql = buildInsertSql(rows)));
  return sql;
}

/** Built once per size: the same string each time, so the statement cache hashes it once. */
const insertSqlBySize = new Map<number, string>();

function buildInsertSql(rows: number): string {
  return `INSERT INTO jobs (${JOB_COLUMNS.join(', ')})
  VALUES ${new Array<string>(rows).fill(ROW_VALUES).join(',\n')}
  ON CONFLICT (idempotency_key, type, submitted_by) WHERE idempotency_key IS NOT NULL DO NOTHING`;
}

/** Where a new job's type, idempotency key and submitter are among its bound values. */
export const NEW_JOB_TYPE_AT = BOUND_COLUMNS.indexOf('type');
export const NEW_JOB_KEY_AT = BOUND_COLUMNS.indexOf('idempotency_key');
export const NEW_JOB_SUBMITTER_AT = BOUND_COLUMNS.indexOf('submitted_by');

/** Who submitted a job when the record does not say (a job from before submitters were kept). */
export const ANONYMOUS_SUBMITTER = 'anonymous';

/** Appends the values `job` binds in an insertJobsSql row to `params`. */
export function pushNewJobParams(params: SQLInputValue[], job: NewJob): void {
  const row = newJobRow(job);
  for (const column of BOUND_COLUMNS) params.push(row[column]);
}

/** The row of a job never claimed: queued, no attempts, no lease. */
export function newJobRow(job: NewJob): JobRow {
  return {
    ...NEW_JOB_CONSTANTS,
    id: job.id,
    type: job.type,
    queue: job.queue,
    payload: toJson(job.payload),
    priority: job.priority,
    attributes: toJson(job.attributes) ?? '{}',
    max_attempts: job.maxAttempts,
    timeout_ms: job.timeoutMs,
    created_at: job.createdAt,
    run_at: job.runAt,
    batch_id: job.batchId,
    idempotency_key: job.idempotencyKey,
    route_reason: job.routeReason,
    data: job.data && toJson(job.data),
    submitted_by: job.submittedBy ?? ANONYMOUS_SUBMITTER,
    resources: job.resources ? toJson(job.resources) : null,
    flow_key: job.flowKey ?? null,
    expires_at: job.expiresAt ?? null,
  };
}

export function rowToJob(row: JobRow): Job {
  return {
    id: row.id,
    type: row.type,
    queue: row.queue,
    payload: fromJson(row.payload),
    priority: row.priority,
    attributes: (fromJson(row.attributes) ?? {}) as Record<string, unknown>,
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
    cancelRequested: row.cancel_requested !== 0,
    result: fromJson(row.result),
    error: fromJson(row.error) as JobError | null,
    batchId: row.batch_id,
    idempotencyKey: row.idempotency_key,
    routeReason: row.route_reason,
    data: fromJson(row.data) as JobData | null,
    resources: fromJson(row.resources) as JobResources | null,
    replays: row.replays,
    ...(row.expires_at !== null ? { expiresAt: row.expires_at } : {}),
  };
}
