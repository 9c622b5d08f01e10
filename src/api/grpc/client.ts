import {
  Client,
  credentials as grpcCredentials,
  Metadata,
  type status,
  type CallOptions,
  type ChannelCredentials,
  type MethodDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  ERROR_CODE_KEY,
  ERROR_DETAILS_KEY,
  GAFFER_SERVICE,
  HEALTH_SERVICE,
  serviceDefinition,
} from './definition.ts';
import type * as pb from './types.ts';

export interface GrpcClientOptions {
  /** host:port of gaffer's gRPC server (`server.grpcPort`). */
  address: string;
  /** Sent as `authorization: Bearer <key>` on every call. */
  apiKey?: string;
  /** Default: plaintext, as gaffer serves it. */
  credentials?: ChannelCredentials;
  /** Deadline of each unary call (default 30 s); WatchJob has none. */
  timeoutMs?: number;
}

/** A failed call: its gRPC status and, when gaffer answered it, the catalogue code. */
export class GrpcCallError extends Error {
  readonly code: status;
  /** GAFFER_… from the `gaffer-error-code` trailer; undefined when gaffer did not answer. */
  readonly gafferCode: string | undefined;
  readonly details: unknown;
  constructor(err: ServiceError) {
    super(err.details || err.message, { cause: err });
    this.name = 'GrpcCallError';
    this.code = err.code;
    const [code] = err.metadata?.get(ERROR_CODE_KEY) ?? [];
    this.gafferCode = code === undefined ? undefined : String(code);
    const [details] = err.metadata?.get(ERROR_DETAILS_KEY) ?? [];
    this.details = details === undefined ? undefined : JSON.parse(String(details));
  }
}

export interface GrpcClient {
  submitJob(req: pb.SubmitJobRequest): Promise<pb.SubmitJobResponse>;
  submitJobs(req: pb.SubmitJobsRequest): Promise<pb.SubmitJobsResponse>;
  getJob(id: string): Promise<pb.Job>;
  listJobs(req?: pb.ListJobsRequest): Promise<pb.ListJobsResponse>;
  cancelJob(id: string): Promise<pb.Job>;
  runCommand(req: pb.RunCommandRequest): Promise<pb.RunCommandResponse>;
  pauseType(type: string): Promise<pb.TypeStatus>;
  resumeType(type: string): Promise<pb.TypeStatus>;
  listSchedules(): Promise<pb.ListSchedulesResponse>;
  triggerSchedule(name: string): Promise<pb.Job>;
  /** The job now, then at each state change, until a terminal state; `break` cancels the call. */
  watchJob(id: string): AsyncGenerator<pb.Job, void, undefined>;
  /** grpc.health.v1 Check ('' : the server as a whole). */
  health(service?: string): Promise<pb.ServingStatus>;
  close(): void;
}

type Method = MethodDefinition<unknown, unknown>;

/** A typed client of gaffer.v1.Gaffer (for the CLI's `--mode grpc`). Errors are GrpcCallError. */
export function createGrpcClient(options: GrpcClientOptions): GrpcClient {
  const client = new Client(
    options.address,
    options.credentials ?? grpcCredentials.createInsecure(),
  );
  const gaffer = serviceDefinition(GAFFER_SERVICE) as unknown as Record<string, Method>;
  const health = serviceDefinition(HEALTH_SERVICE) as unknown as Record<string, Method>;
  const metadata = () => {
    const md = new Metadata();
    if (options.apiKey) md.set('authorization', `Bearer ${options.apiKey}`);
    return md;
  };
  const callOptions = (): CallOptions => ({
    deadline: Date.now() + (options.timeoutMs ?? 30_000),
  });

  const unary = <Res>(method: Method, req: unknown): Promise<Res> =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        req,
        metadata(),
        callOptions(),
        (err, res) => (err ? reject(new GrpcCallError(err)) : resolve(res as Res)),
      );
    });

  return {
    submitJob: (req) => unary(gaffer['SubmitJob']!, req),
    submitJobs: (req) => unary(gaffer['SubmitJobs']!, req),
    getJob: (id) => unary(gaffer['GetJob']!, { id }),
    listJobs: (req = {}) => unary(gaffer['ListJobs']!, req),
    cancelJob: (id) => unary(gaffer['CancelJob']!, { id }),
    runCommand: (req) => unary(gaffer['RunCommand']!, req),
    pauseType: (type) => unary(gaffer['PauseType']!, { type }),
    resumeType: (type) => unary(gaffer['ResumeType']!, { type }),
    listSchedules: () => unary(gaffer['ListSchedules']!, {}),
    triggerSchedule: (name) => unary(gaffer['TriggerSchedule']!, { name }),
    async *watchJob(id) {
      const method = gaffer['WatchJob']!;
      const stream = client.makeServerStreamRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        { id },
        metadata(),
      );
      try {
        for await (const job of stream) yield job as pb.Job;
      } catch (err) {
        throw isServiceError(err) ? new GrpcCallError(err) : err;
      } finally {
        stream.cancel();
      }
    },
    health: async (service = '') =>
      (await unary<pb.HealthCheckResponse>(health['Check']!, { service })).status,
    close: () => client.close(),
  };
}

function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'number';
}
