import type {
  ApiJob,
  GafferClient,
  JobPage,
  ListJobsQuery,
  RunRequest,
  Submission,
} from '../client/index.ts';

/**
 * The seam between the job commands (`submit`, `job`, `cancel`, `jobs`) and the API they talk to:
 * REST through src/client (the default), or gRPC through src/api/grpc/client.ts (`--mode grpc`,
 * grpc-jobs.ts). context.ts picks one; the commands never know which.
 */
export interface JobsApi {
  /** `created` is false when the idempotency key already existed (the same job). */
  submit(body: Submission): Promise<{ job: ApiJob; created: boolean }>;
  get(id: string): Promise<ApiJob>;
  list(query: ListJobsQuery): Promise<JobPage>;
  cancel(id: string): Promise<ApiJob>;
  /** Until the job is in a terminal state: the job then, and whether it succeeded. */
  wait(id: string): Promise<{ job: ApiJob; succeeded: boolean }>;
  /** One ad-hoc command (POST /v1/run, gRPC RunCommand). */
  run(body: RunRequest): Promise<ApiJob>;
}

export type Mode = 'rest' | 'grpc';
export const MODES: readonly Mode[] = ['rest', 'grpc'];

/** Where `--mode grpc` calls without --grpc / $GAFFER_GRPC (docs/grpc.md's `server.grpcPort`). */
export const DEFAULT_GRPC = '127.0.0.1:9090';

/**
 * The commands `--mode grpc` supports. `up`, `worker`, `gen-data` and `completion` are no clients
 * of the API and ignore the mode; every other command refuses it (a usage error).
 */
export const GRPC_COMMANDS: readonly string[] = ['submit', 'job', 'cancel', 'jobs', 'run'];
export const MODELESS_COMMANDS: readonly string[] = ['up', 'worker', 'gen-data', 'completion'];

export function restJobsApi(client: GafferClient): JobsApi {
  return {
    submit: (body) => client.jobs.submit(body),
    get: (id) => client.jobs.get(id),
    list: (query) => client.jobs.list(query),
    cancel: (id) => client.jobs.cancel(id),
    run: (body) => client.jobs.run(body),
    async wait(id) {
      const end = await client.waitFor(id, { kind: 'job' });
      if (end.kind !== 'job') throw new Error('unreachable: waited for a job');
      return { job: end.job, succeeded: end.succeeded };
    },
  };
}

/**
 * A failed gRPC call as the CLI reports it (main.ts): the catalogue code when gaffer answered
 * (`GRPC_<STATUS>` when it did not), the status's name, and the exit code it maps to.
 */
export class GrpcModeError extends Error {
  readonly code: string;
  readonly grpcStatus: string;
  readonly exitCode: number;
  readonly details: unknown;
  /** True when gaffer never answered (no connection): the message says where it called. */
  readonly unreachable: boolean;
  constructor(fields: {
    code: string;
    grpcStatus: string;
    exitCode: number;
    message: string;
    details?: unknown;
    unreachable: boolean;
  }) {
    super(fields.message);
    this.name = 'GrpcModeError';
    this.code = fields.code;
    this.grpcStatus = fields.grpcStatus;
    this.exitCode = fields.exitCode;
    this.details = fields.details;
    this.unreachable = fields.unreachable;
  }
}

/**
 * The gRPC implementation, loaded on its first call, so that REST mode never loads grpc-js. Its
 * channel is closed by `closeJobsApis` (main.ts, after every command).
 */
export function lazyGrpcJobsApi(options: { address: string; apiKey?: string }): JobsApi {
  let loaded: Promise<JobsApi & { close(): void }> | undefined;
  const api = () => {
    loaded ??= import('./grpc-jobs.ts').then(({ grpcJobsApi }) => {
      const real = grpcJobsApi(options);
      open.add(real);
      return real;
    });
    return loaded;
  };
  return {
    submit: async (body) => (await api()).submit(body),
    get: async (id) => (await api()).get(id),
    list: async (query) => (await api()).list(query),
    cancel: async (id) => (await api()).cancel(id),
    wait: async (id) => (await api()).wait(id),
    run: async (body) => (await api()).run(body),
  };
}

const open = new Set<{ close(): void }>();

/** Closes the gRPC channels the commands opened. */
export function closeJobsApis(): void {
  for (const api of open) api.close();
  open.clear();
}
