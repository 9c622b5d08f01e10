import { Compile } from 'typebox/compile';
import { JOB_STATES, type Job, type JobState } from '../../domain/job.ts';
import type { Waiting } from '../../jobs/waiting.ts';
import { GafferError } from '../../errors.ts';
import type { Submission } from '../../jobs/prepare.ts';
import { parseJsonText } from '../json-body.ts';
import { JobIdParams, SubmissionBody } from '../schemas.ts';
import type * as pb from './types.ts';
import type { RunCommand } from '../run-command.ts';
import { UNKNOWN_FIELDS, type WithUnknown } from './unknown-fields.ts';

/**
 * Pure translations between the proto's messages (types.ts) and gaffer's domain. Requests are
 * checked against the HTTP API's own TypeBox schemas (src/api/schemas.ts), so both APIs accept
 * exactly the same submissions with the same limits.
 */

const submissionBody = Compile(SubmissionBody);
const jobIdParams = Compile(JobIdParams);

export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 1000;

/** A SubmitJobRequest as a Submission; throws GAFFER_BAD_JSON / GAFFER_BAD_REQUEST. */
export function toSubmission(
  req: WithUnknown<pb.SubmitJobRequest>,
  defaultType?: string,
): Submission {
  refuseUnknownNumbers(req, 'SubmitJobRequest');
  const attributes = req.attributesJson ? parseJson(req.attributesJson, 'attributes_json') : {};
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes)) {
    throw new GafferError('GAFFER_BAD_REQUEST', 'attributes_json must be a JSON object');
  }
  const inputs = req.data?.inputs ?? [];
  const output = req.data?.output || undefined;
  const body = dropUndefined({
    type: req.type || defaultType || undefined,
    payload: req.payloadJson ? parseJson(req.payloadJson, 'payload_json') : undefined,
    priority: req.priority ?? (req.priorityName || undefined),
    attributes,
    idempotencyKey: req.idempotencyKey || undefined,
    maxAttempts: req.maxAttempts,
    timeoutSeconds: req.timeoutSeconds,
    data: inputs.length > 0 || output ? dropUndefined({ inputs, output }) : undefined,
    resources: resourcesOf(req.resources),
    runAt: req.runAt || undefined,
    delay: req.delay || undefined,
    expiresAt: req.expiresAt || undefined,
    expireIn: req.expireIn || undefined,
    dedup: req.dedup ? dropUndefined({ ...req.dedup }) : undefined,
  });
  check(submissionBody, body);
  return body as Submission;
}

/** A RunCommandRequest as POST /v1/run's body; an empty command is GAFFER_BAD_REQUEST. */
export function toRunCommand(req: WithUnknown<pb.RunCommandRequest>): RunCommand {
  refuseUnknownNumbers(req, 'RunCommandRequest');
  if (!req.cmd) throw new GafferError('GAFFER_BAD_REQUEST', 'cmd must not be empty');
  const env = req.env && Object.keys(req.env).length > 0 ? req.env : undefined;
  return dropUndefined({
    cmd: req.cmd,
    image: req.image || undefined,
    timeoutSeconds: req.timeoutSeconds,
    env,
  }) as RunCommand;
}

/**
 * Refuses a message that carried fields this gaffer's proto does not define (unknown-fields.ts),
 * naming each by number: GAFFER_UNKNOWN_FIELD, as HTTP refuses a JSON field it does not know.
 */
export function refuseUnknownNumbers(message: WithUnknown<object>, type: string): void {
  const numbers = message[UNKNOWN_FIELDS];
  if (!numbers?.length) return;
  throw new GafferError(
    'GAFFER_UNKNOWN_FIELD',
    `${type} fields numbered ${numbers.join(', ')} are not in this gaffer's proto`,
    { details: { fieldNumbers: numbers } },
  );
}

/** The id of a Get/Cancel/WatchJob request; throws GAFFER_BAD_REQUEST when empty or too long. */
export function jobIdOf(req: pb.JobIdRequest): string {
  const params = { id: req.id ?? '' };
  check(jobIdParams, params);
  return params.id;
}

/** A ListJobsRequest's filter (the caller adds the type scope). */
export function listFilterOf(req: pb.ListJobsRequest): {
  type?: string;
  state?: JobState | 'delayed';
  cursor?: string;
  limit: number;
} {
  const limit = req.limit || LIST_LIMIT_DEFAULT;
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX) {
    throw new GafferError('GAFFER_BAD_REQUEST', `limit must be 1 to ${LIST_LIMIT_MAX}`);
  }
  const stored =
    req.state && req.state !== 'JOB_STATE_UNSPECIFIED' ? stateFromProto(req.state) : undefined;
  if (req.delayed && stored !== undefined && stored !== 'queued') {
    throw new GafferError(
      'GAFFER_BAD_REQUEST',
      `delayed lists queued jobs not yet due: not with state ${req.state}`,
    );
  }
  const state = req.delayed ? 'delayed' : stored;
  return dropUndefined({
    limit,
    type: req.type || undefined,
    state,
    cursor: req.cursor || undefined,
  });
}

export function stateToProto(state: JobState): pb.JobStateName {
  return `JOB_STATE_${state.toUpperCase()}` as pb.JobStateName;
}

/** Throws GAFFER_BAD_REQUEST for UNSPECIFIED or a value this gaffer does not know. */
export function stateFromProto(name: string): JobState {
  const state = String(name)
    .replace(/^JOB_STATE_/, '')
    .toLowerCase();
  if (!(JOB_STATES as readonly string[]).includes(state)) {
    throw new GafferError('GAFFER_BAD_REQUEST', `unknown job state ${name}`);
  }
  return state as JobState;
}

/** Why a job waits, as the proto's Waiting message. */
export function toWaitingMessage(w: Waiting): pb.Waiting {
  return {
    reason: w.reason,
    message: w.message,
    position: w.position,
    ...(w.estimatedStartAt === null ? {} : { estimatedStartAtMs: w.estimatedStartAt }),
  };
}

/** A job as the proto's Job message: the HTTP API's view (no lease token), JSON fields as text. */
export function toJobMessage(job: Omit<Job, 'leaseToken'>): pb.Job {
  const e = job.error;
  return {
    id: job.id,
    type: job.type,
    queue: job.queue,
    state: stateToProto(job.state),
    payloadJson: JSON.stringify(job.payload ?? null),
    priority: job.priority,
    attributesJson: JSON.stringify(job.attributes ?? {}),
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    replays: job.replays,
    timeoutMs: job.timeoutMs,
    createdAtMs: job.createdAt,
    runAtMs: job.runAt,
    ...(job.expiresAt != null ? { expiresAtMs: job.expiresAt } : {}),
    ...(job.startedAt === null ? {} : { startedAtMs: job.startedAt }),
    ...(job.finishedAt === null ? {} : { finishedAtMs: job.finishedAt }),
    cancelRequested: job.cancelRequested,
    resultJson: JSON.stringify(job.result ?? null),
    error: e
      ? {
          class: e.class,
          message: e.message,
          ...(e.exitCode == null ? {} : { exitCode: e.exitCode }),
          signal: e.signal ?? '',
          nonRetryable: e.retryable === false,
          workerLost: e.workerLost === true,
          oomKills: e.oomKills ?? 0,
        }
      : null,
    batchId: job.batchId ?? '',
    idempotencyKey: job.idempotencyKey ?? '',
    routeReason: job.routeReason ?? '',
    data: job.data ? { inputs: job.data.inputs, output: job.data.output ?? '' } : null,
    leaseOwner: job.leaseOwner ?? '',
    ...(job.leaseExpiresAt === null ? {} : { leaseExpiresAtMs: job.leaseExpiresAt }),
    resources: job.resources
      ? {
          cpu: job.resources.cpu ?? '',
          memory: job.resources.memory ?? '',
          gpus: job.resources.gpus ?? 0,
        }
      : null,
  };
}

/** A request's Resources as a submission's `resources`: '' and 0 mean the type's own. */
function resourcesOf(r: Partial<pb.Resources> | null | undefined) {
  const given = dropUndefined({
    cpu: r?.cpu || undefined,
    memory: r?.memory || undefined,
    gpus: r?.gpus || undefined,
  });
  return Object.keys(given).length > 0 ? given : undefined;
}

/** The HTTP body's guards (depth, prototype keys), then a parse: api/json-body.ts. */
const parseJson = parseJsonText;

function check(
  validator: { Check(v: unknown): boolean; Errors(v: unknown): unknown[] },
  value: unknown,
) {
  if (validator.Check(value)) return;
  const [first] = validator.Errors(value) as { instancePath: string; message: string }[];
  const where = first?.instancePath.replace(/^\//, '').replaceAll('/', '.') || 'request';
  throw new GafferError('GAFFER_BAD_REQUEST', `${where} ${first?.message ?? 'is invalid'}`);
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
