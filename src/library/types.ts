import type { ConfigOverrides } from '../config/load.ts';
import type { GafferConfig, JobTypeConfig, ScheduleConfig } from '../config/schema.ts';
import type { Clock } from '../domain/clock.ts';
import type { Job } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import type { Submission } from '../jobs/prepare.ts';
import type { RejectedSubmission } from '../jobs/service.ts';
import type { JobContext } from '../worker/handler.ts';

/** Every field optional, at every depth: a setting left out takes its default. */
export type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** gaffer's settings as a config file holds them (docs/configuration.md); defaults fill the rest. */
export type ConfigInput = DeepPartial<GafferConfig>;

/**
 * A job type given in code: its function and, optionally, the settings a config file's job type
 * has (mode, concurrency, timeoutSeconds, retry, scaling, payloadSchema, deadLetter …), checked by
 * the same schema. `worker` takes only `env`, `cwd` and `resources`: the work is `handler`.
 *
 * `P` is the payload type (from the handler's `ctx: JobContext<P>`) and `R` what it returns:
 * `submit` and `result` are typed by them.
 */
export interface JobDefinition<P = unknown, R = unknown> extends DeepPartial<
  Omit<JobTypeConfig, 'worker' | 'queue' | 'kubernetes'>
> {
  handler: (ctx: JobContext<P>) => R | Promise<R>;
  queue?: string;
  worker?: DeepPartial<Pick<JobTypeConfig['worker'], 'env' | 'cwd' | 'resources'>>;
}

/**
 * The job types given in code, by name. `any`: a handler's payload is contravariant, so only
 * `any` or `never` admits every handler, and `never` would leave a gaffer whose types are not
 * known (`Gaffer` of this) with no payload its typed `submit(type, payload)` accepts.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JobDefinitions = Record<string, JobDefinition<any>>;

/** The payload a type given in code takes. */
export type PayloadOf<D> = D extends JobDefinition<infer P, unknown> ? P : never;

/** What a job of a type given in code results in (its handler's return value, awaited). */
export type ResultOf<D> = D extends JobDefinition<never, infer R> ? Awaited<R> : never;

/** A batch submitted in code (`submitBatch`): its id, the jobs accepted, the items refused. */
export interface BatchSubmitted {
  batchId: string;
  accepted: JobHandle[];
  rejected: RejectedSubmission[];
}

/** A submission's options besides its type and payload (as in POST /v1/jobs). */
export type SubmitOptions = Omit<Submission, 'type' | 'payload'>;

export interface GafferOptions<J extends JobDefinitions = JobDefinitions> {
  /**
   * gaffer's settings: a config file's path (YAML or JSON; then `reload()` re-reads it), or the
   * settings themselves. Default: the defaults — the embedded store in `./.gaffer`, local workers.
   */
  config?: string | ConfigInput;
  /** Job types given in code (their work runs in this process): see `JobDefinition`. */
  jobs?: J;
  /**
   * Environment variables read as `gaffer up` reads them (GAFFER_PORT, GAFFER_DATA_DIR, …).
   * Default: none — an embedded gaffer's settings are its code's, not its environment's.
   */
  env?: NodeJS.ProcessEnv;
  /** Settings over everything else: what `gaffer up`'s flags set. */
  overrides?: ConfigOverrides;
  /**
   * With `config` a path: reload it whenever the file changes (as `gaffer up` does). Default
   * false.
   */
  watch?: boolean;
  /**
   * Time as gaffer reads it, and its timers when the clock has them (`after`, `every`: a manual
   * clock's sweeps and ticks run as a test advances it); a `{ now }` clock's timers are Node's.
   * Tests inject one. Default: the system clock.
   */
  clock?: Clock;
  /**
   * Where gaffer's own log goes — failures it survives (a store write, a Kubernetes call, a
   * listener that threw), config reloads: any object with pino's `debug`, `info`, `warn` and
   * `error` (a pino logger, or your application's child logger). Default: JSON lines on stderr at
   * `GAFFER_LOG_LEVEL` from `env` (unset: info). Not the request log: that is `listen.logger`.
   */
  log?: Logger;
  /**
   * Serve as well (as `listen` does), with its ports bound before the store is opened: a port that
   * is taken rejects `createGaffer` with a `StartError` before anything was read or recovered
   * (`gaffer up` starts this way). `true`: on the config's `server` host and ports.
   */
  listen?: ListenOptions | true;
}

/** A job gaffer accepted, and the way to its outcome. */
export interface JobHandle<R = unknown> {
  readonly id: string;
  /** The record as accepted. */
  readonly job: Job;
  /** False when the submission's idempotency key named a job gaffer already had (this one). */
  readonly created: boolean;
  /** Resolves with the job once it ends: succeeded, failed, timed out, cancelled, dead-lettered. */
  done(options?: WaitOptions): Promise<Job>;
  /** Resolves with its result once it succeeded; rejects with `JobFailedError` if it ended otherwise. */
  result(options?: WaitOptions): Promise<R>;
}

export interface WaitOptions {
  /** Aborting stops the wait (the job is not touched): the promise rejects with the reason. */
  signal?: AbortSignal;
}

/** Where `listen` serves the HTTP API, dashboard and metrics (and gRPC). */
export interface ListenOptions {
  /**
   * Default: `server.host` (127.0.0.1). A non-loopback host with no API key configured is refused
   * (a ConfigError) unless `allowUnauthenticated`.
   */
  host?: string;
  /**
   * Serve a non-loopback host with no API key configured, every caller being the operator of
   * every type. Default: `server.allowUnauthenticated` (false).
   */
  allowUnauthenticated?: boolean;
  /** Default: `server.port` (8080); 0 picks a free one. */
  port?: number;
  /** gRPC as well, on this port (default: `server.grpcPort`, absent = none). */
  grpcPort?: number;
  /** Log every request (pino, to stdout). */
  logger?: boolean;
}

/**
 * A cron schedule as `putSchedule` takes it: what the config's `schedules.<name>` holds, its
 * defaulted fields (missed: skip, overlap: allow, paused: false) optional.
 */
export type ScheduleInput = Omit<ScheduleConfig, 'missed' | 'overlap' | 'paused'> &
  Partial<Pick<ScheduleConfig, 'missed' | 'overlap' | 'paused'>>;
