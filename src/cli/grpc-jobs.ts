import { status } from '@grpc/grpc-js';
import { createGrpcClient, GrpcCallError } from '../api/grpc/client.ts';
import { JOB_STATE_NAMES, type JobStateName } from '../api/grpc/types.ts';
import type * as pb from '../api/grpc/types.ts';
import {
  isTerminal,
  type ApiJob,
  type JobError,
  type JobState,
  type Submission,
} from '../client/index.ts';
import { UsageError } from './context.ts';
import { EXIT } from './exit.ts';
import { GrpcModeError, type JobsApi } from './jobs-api.ts';

/**
 * `--mode grpc`: the job commands' API (jobs-api.ts) over gaffer's gRPC service. Answers are
 * mapped to the REST shapes, so the commands print the same, human or `--json`; failures become
 * GrpcModeError with the exit code REST would give.
 */
export function grpcJobsApi(options: {
  address: string;
  apiKey?: string;
}): JobsApi & { close(): void } {
  const client = createGrpcClient(options);
  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw err instanceof GrpcCallError ? toModeError(err, options.address) : err;
    }
  };
  return {
    submit: (body) =>
      call(async () => {
        const res = await client.submitJob(toSubmitRequest(body));
        return { job: fromGrpcJob(res.job), created: res.created };
      }),
    get: (id) => call(async () => fromGrpcJob(await client.getJob(id))),
    run: (body) => call(async () => fromGrpcJob((await client.runCommand(body)).job)),
    cancel: (id) => call(async () => fromGrpcJob(await client.cancelJob(id))),
    list: (query) =>
      call(async () => {
        for (const unsupported of ['batch', 'search'] as const) {
          if (query[unsupported] !== undefined) {
            throw new UsageError(`jobs --${unsupported} is not supported in grpc mode`);
          }
        }
        const res = await client.listJobs({
          ...(query.type ? { type: query.type } : {}),
          ...(query.state === 'delayed'
            ? { delayed: true }
            : query.state
              ? { state: stateName(query.state) }
              : {}),
          ...(query.cursor ? { cursor: query.cursor } : {}),
          ...(query.limit ? { limit: query.limit } : {}),
        });
        return { jobs: res.jobs.map(fromGrpcJob), nextCursor: res.nextCursor || null };
      }),
    wait: (id) =>
      call(async () => {
        let last: pb.Job | undefined;
        for await (const job of client.watchJob(id)) {
          last = job;
          if (isTerminal(stateOf(job.state))) break;
        }
        // The stream ends after a terminal state; should it end early, the job as it is now.
        const job = fromGrpcJob(
          last && isTerminal(stateOf(last.state)) ? last : await client.getJob(id),
        );
        if (!isTerminal(job.state)) throw new Error(`the watch of ${id} ended before the job did`);
        return { job, succeeded: job.state === 'succeeded' };
      }),
    close: () => client.close(),
  };
}

/** `JOB_STATE_TIMED_OUT` → `timed_out`. */
function stateOf(name: JobStateName): JobState {
  return name.replace(/^JOB_STATE_/, '').toLowerCase() as JobState;
}

/** `timed_out` → `JOB_STATE_TIMED_OUT`; a usage error for a state the proto does not have. */
function stateName(state: string): JobStateName {
  const name = `JOB_STATE_${state.toUpperCase()}`;
  if (state === 'unspecified' || !(JOB_STATE_NAMES as readonly string[]).includes(name)) {
    const known = [...JOB_STATE_NAMES.slice(1).map(stateOf), 'delayed'].join(', ');
    throw new UsageError(`--state must be one of ${known}`);
  }
  return name as JobStateName;
}

/**
 * A gRPC Job message as the REST API shows the job (`ApiJob`): JSON text parsed, times without
 * their `Ms`, proto3's empty strings and absent optionals as null. GetJob's `waiting` is left out:
 * the CLI prints a job alike in both modes, and REST's `waiting` (an estimate made at each read)
 * is not read twice alike.
 */
export function fromGrpcJob(m: pb.Job): ApiJob {
  return {
    id: m.id,
    type: m.type,
    queue: m.queue,
    payload: parseJson(m.payloadJson, null),
    priority: m.priority,
    attributes: parseJson(m.attributesJson, {}) as Record<string, unknown>,
    state: stateOf(m.state),
    attempt: m.attempt,
    maxAttempts: m.maxAttempts,
    replays: m.replays,
    timeoutMs: m.timeoutMs,
    createdAt: m.createdAtMs,
    runAt: m.runAtMs,
    ...(m.expiresAtMs !== undefined ? { expiresAt: m.expiresAtMs } : {}),
    startedAt: m.startedAtMs ?? null,
    finishedAt: m.finishedAtMs ?? null,
    leaseOwner: m.leaseOwner || null,
    leaseExpiresAt: m.leaseExpiresAtMs ?? null,
    cancelRequested: m.cancelRequested,
    result: parseJson(m.resultJson, null),
    error: m.error ? fromGrpcError(m.error) : null,
    batchId: m.batchId || null,
    idempotencyKey: m.idempotencyKey || null,
    routeReason: m.routeReason || null,
    data: m.data ? { inputs: m.data.inputs, output: m.data.output || null } : null,
    resources: m.resources
      ? {
          ...(m.resources.cpu ? { cpu: m.resources.cpu } : {}),
          ...(m.resources.memory ? { memory: m.resources.memory } : {}),
          ...(m.resources.gpus ? { gpus: m.resources.gpus } : {}),
        }
      : null,
  };
}

function fromGrpcError(e: pb.JobError): JobError {
  return {
    class: e.class as JobError['class'],
    message: e.message,
    ...(e.exitCode !== undefined ? { exitCode: e.exitCode } : {}),
    ...(e.signal ? { signal: e.signal } : {}),
    ...(e.oomKills ? { oomKills: e.oomKills } : {}),
    ...(e.nonRetryable ? { retryable: false } : {}),
    ...(e.workerLost ? { workerLost: true } : {}),
  };
}

/** A submission's due time and expiry as the proto's text fields (each set one only). */
function timingText(body: Submission): Partial<pb.SubmitJobRequest> {
  const out: Partial<pb.SubmitJobRequest> = {};
  for (const k of ['runAt', 'delay', 'expiresAt', 'expireIn'] as const) {
    const v = body[k];
    if (v !== undefined) out[k] = String(v);
  }
  return out;
}

function parseJson(text: string, empty: unknown): unknown {
  return text ? (JSON.parse(text) as unknown) : empty;
}

/** A REST submission as a SubmitJobRequest (a word priority goes as `priority_name`). */
export function toSubmitRequest(body: Submission): pb.SubmitJobRequest {
  const { type, payload, priority, attributes, idempotencyKey, maxAttempts, timeoutSeconds, data } =
    body;
  const resources = body.resources;
  return {
    ...(type ? { type } : {}),
    payloadJson: JSON.stringify(payload ?? null),
    ...(typeof priority === 'number' ? { priority } : {}),
    ...(typeof priority === 'string' ? { priorityName: priority } : {}),
    ...(attributes ? { attributesJson: JSON.stringify(attributes) } : {}),
    ...(idempotencyKey ? { idempotencyKey } : {}),
    ...(body.dedup ? { dedup: body.dedup } : {}),
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(data ? { data: { inputs: data.inputs ?? [], output: data.output ?? '' } } : {}),
    ...timingText(body),
    ...(resources
      ? {
          resources: {
            cpu: resources.cpu === undefined ? '' : String(resources.cpu),
            memory: resources.memory ?? '',
            gpus: resources.gpus ?? 0,
          },
        }
      : {}),
  };
}

/** The exit code of a failed call, as REST's for the same refusal (src/cli/exit.ts). */
export function grpcExitCode(code: status): number {
  if (code === status.UNAUTHENTICATED || code === status.PERMISSION_DENIED) return EXIT.auth;
  if (code === status.UNAVAILABLE) return EXIT.connect;
  return EXIT.api;
}

function toModeError(err: GrpcCallError, address: string): GrpcModeError {
  const name = status[err.code] ?? String(err.code);
  const unreachable = err.gafferCode === undefined && err.code === status.UNAVAILABLE;
  return new GrpcModeError({
    code: err.gafferCode ?? `GRPC_${name}`,
    grpcStatus: name,
    exitCode: grpcExitCode(err.code),
    message: unreachable ? `cannot connect to ${address} (gRPC): ${err.message}` : err.message,
    details: err.details,
    unreachable,
  });
}
