import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.ts';
import type { GrpcServer } from '../api/grpc/server.ts';
import { resolveConfig, type ResolvedConfig } from '../config/load.ts';
import { ConfigReloader, watchConfig, type ReloadStatus } from '../config/watch.ts';
import type { GafferEventMap, GafferEventName } from '../domain/events.ts';
import type { Job } from '../domain/job.ts';
import type { Submission } from '../jobs/prepare.ts';
import type { RejectedSubmission, Submitter } from '../jobs/service.ts';
import { Orchestrator } from '../orchestrator.ts';
import type { JobFilter, JobPage, LogLine, QueueStats } from '../store/job-store.ts';
import type { JobHandler } from '../worker/handler.ts';
import type {
  ConfigInput,
  GafferOptions,
  JobDefinition,
  JobDefinitions,
  JobHandle,
  ListenOptions,
  PayloadOf,
  ResultOf,
  SubmitOptions,
  WaitOptions,
} from './types.ts';
import { jobEnd, jobResult } from './wait.ts';

/**
 * gaffer as a library: the orchestrator `gaffer up` runs — store, router, autoscaler, workers,
 * and on `listen` the HTTP API, dashboard, metrics and gRPC — created in your process. Job types
 * come from the config, from code (`jobs`: functions run in this process), or both.
 *
 *   const gaffer = await createGaffer({ jobs: { add: { handler: (ctx: JobContext<{ a: number;
 *     b: number }>) => ctx.payload.a + ctx.payload.b } } });
 *   const sum = await (await gaffer.submit('add', { a: 1, b: 2 })).result(); // 3
 *   await gaffer.close();
 *
 * Resolves once gaffer has recovered what a previous run left in flight and its loops run.
 * Rejects with a `ConfigError` listing every problem of an invalid config.
 */
export async function createGaffer<J extends JobDefinitions = JobDefinitions>(
  options: GafferOptions<J> = {},
): Promise<Gaffer<J>> {
  const jobs: JobDefinitions = options.jobs ?? {};
  const handlers = new Map<string, JobHandler>();
  const inCode: Record<string, Record<string, unknown>> = {};
  for (const [name, { handler, ...settings }] of Object.entries(jobs)) {
    if (typeof handler !== 'function') {
      throw new TypeError(`jobs.${name}.handler must be a function`);
    }
    handlers.set(name, handler as JobHandler);
    inCode[name] = settings;
  }
  let source = options.config ?? {};
  const load = (): Promise<ResolvedConfig> =>
    resolveConfig({
      ...(typeof source === 'string' ? { file: source } : { raw: source }),
      env: options.env ?? {},
      overrides: options.overrides ?? {},
      inCode,
    });
  const orch = await Orchestrator.open({
    config: await load(),
    handlers,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  await orch.start();
  const reloader = new ConfigReloader({
    load,
    apply: (next) => orch.reload(next),
    now: () => orch.clock.now(),
  });
  // POST /v1/config/reload and `gaffer config reload` re-read a config file; given as an object,
  // the config changes only through `reload(config)`.
  if (typeof source === 'string') orch.reloader = reloader;
  const watcher =
    typeof source === 'string' && options.watch ? watchConfig(source, reloader) : null;
  return new Gaffer<J>(orch, {
    // A refused config is not kept as the source: the next `reload()` reads the one in force.
    reload: async (next) => {
      const before = source;
      if (next !== undefined) source = next;
      const status = await reloader.reload();
      if (!status.ok) source = before;
      return status;
    },
    close: () => watcher?.close(),
  });
}

/**
 * A job type given in code, as `jobs` takes it; the identity, for its typing: the payload and
 * result come from the handler, and the settings are checked exactly — a misspelt setting is a
 * type error here, where inside `jobs` directly it is only the `ConfigError` at start.
 */
export function defineJob<P, R>(definition: JobDefinition<P, R>): JobDefinition<P, R> {
  return definition;
}

/**
 * Submissions made in code: the audit log's actor, and their own scope of idempotency keys
 * (per job type), apart from any API key's.
 */
const LIBRARY: Submitter = { id: 'library', via: 'library' };

interface Source {
  reload(next: string | ConfigInput | undefined): Promise<ReloadStatus>;
  close(): void;
}

/** A running gaffer (see `createGaffer`). `J`: the job types given in code, for typed submits. */
export class Gaffer<J extends JobDefinitions = JobDefinitions> {
  readonly #orch: Orchestrator;
  readonly #source: Source;
  #app: FastifyInstance | null = null;
  #grpc: GrpcServer | null = null;
  #url: string | null = null;
  #closed: Promise<void> | null = null;
  /**
   * Keeps the process alive until `close`, as an open server or pool would: gaffer's own timers
   * do not (unref'd), and in-process workers have no child process to, so a script awaiting a
   * result would otherwise exit with it unsettled.
   */
  readonly #keepAlive = setInterval(() => {}, 2 ** 31 - 1);

  /** Made by `createGaffer`. */
  constructor(orch: Orchestrator, source: Source) {
    this.#orch = orch;
    this.#source = source;
  }

  /** The effective configuration (defaults filled in), as `GET /v1/config` shows it unredacted. */
  get config(): ResolvedConfig {
    return this.#orch.config;
  }

  /** Where `listen` serves, once it does; null before. */
  get url(): string | null {
    return this.#url;
  }

  /** The names of every job type: the config's and those given in code. */
  get types(): string[] {
    return this.#orch.catalog.names();
  }

  /**
   * Submits one job. With a type given in code, its payload and result are typed by its
   * handler; any other type (or none: the route rules pick one) through a `Submission`.
   * Rejects with a `GafferError` (its `code` from the catalogue) when gaffer refuses it.
   */
  submit<K extends keyof J & string>(
    type: K,
    payload: PayloadOf<J[K]>,
    options?: SubmitOptions,
  ): Promise<JobHandle<ResultOf<J[K]>>>;
  submit(submission: Submission): Promise<JobHandle>;
  async submit(
    first: string | Submission,
    payload?: unknown,
    options: SubmitOptions = {},
  ): Promise<JobHandle<unknown>> {
    const sub = typeof first === 'string' ? { ...options, type: first, payload } : first;
    const { job, created } = await this.#orch.service.submit(sub, LIBRARY);
    return this.#handle(job, created);
  }

  /**
   * Submits many jobs in one transaction: every valid one is accepted, each invalid one is
   * reported by its index with a stable code (nothing is accepted twice on a retry that carries
   * idempotency keys).
   */
  async submitMany(
    submissions: readonly Submission[],
  ): Promise<{ accepted: JobHandle[]; rejected: RejectedSubmission[] }> {
    const { accepted, rejected } = await this.#orch.service.submitMany(
      submissions,
      null,
      0,
      LIBRARY,
    );
    return { accepted: accepted.map((job) => this.#handle(job, true)), rejected };
  }

  /** A job's record now. Rejects with GAFFER_JOB_NOT_FOUND for an unknown id. */
  job(id: string): Promise<Job> {
    return this.#orch.service.get(id);
  }

  /** Jobs, newest first, filtered by type, state or batch; `nextCursor` pages on (50 a page). */
  jobs(filter: Partial<JobFilter> = {}): Promise<JobPage> {
    return this.#orch.service.list({ limit: 50, ...filter });
  }

  /** A job's log lines (stdout and stderr, and its handler's `ctx.log`), after `afterSeq`. */
  logs(id: string, afterSeq?: number): Promise<LogLine[]> {
    return this.#orch.service.logs(id, afterSeq);
  }

  /** Resolves with the job once it has ended, however it ended. */
  wait(id: string, options?: WaitOptions): Promise<Job> {
    return jobEnd(this.#orch.events, (i) => this.job(i), id, options);
  }

  /** Cancels a queued job at once, a running one through its worker. */
  cancel(id: string): Promise<Job> {
    return this.#orch.service.cancel(id);
  }

  /** Queues an ended job (failed, timed out, cancelled, dead-lettered) again. */
  retry(id: string): Promise<Job> {
    return this.#orch.service.retry(id);
  }

  /** Per type: ready, delayed, in flight, counts by state, the oldest ready job's age. */
  queues(): Promise<QueueStats[]> {
    return this.#orch.store.queueStats(this.#orch.clock.now());
  }

  /** Calls `fn` with every event of that name until the returned function is called. */
  on<K extends GafferEventName>(name: K, fn: (payload: GafferEventMap[K]) => void): () => void {
    return this.#orch.events.on(name, fn);
  }

  /** The next event of that name (matching `match`, if given). */
  once<K extends GafferEventName>(
    name: K,
    match?: (payload: GafferEventMap[K]) => boolean,
  ): Promise<GafferEventMap[K]> {
    return this.#orch.events.once(name, match);
  }

  /**
   * Applies a changed config without a restart: `config` given, that one; else the config file
   * again. Job types, route rules and ad-hoc settings change live (running jobs keep the
   * definition they started with); other sections are reported in `needsRestart`. An invalid
   * config is refused with every problem, and the running one stays. Types given in code stay.
   */
  reload(config?: string | ConfigInput): Promise<ReloadStatus> {
    return this.#source.reload(config);
  }

  /**
   * Serves the HTTP API, the dashboard and `/metrics` (and gRPC with `grpcPort`); resolves with
   * the address. Workers connecting over the network (executor.transport: network) connect here.
   */
  async listen(options: ListenOptions = {}): Promise<string> {
    if (this.#url) throw new Error(`gaffer already listens at ${this.#url}`);
    const server = this.config.server;
    const host = options.host ?? server.host;
    this.#app = await buildApp(this.#orch, { logger: Boolean(options.logger) });
    this.#url = await this.#app.listen({ host, port: options.port ?? server.port });
    this.#orch.listening(this.#url);
    const grpcPort = options.grpcPort ?? server.grpcPort;
    if (grpcPort !== undefined) {
      // Loaded only when served: gRPC and protobuf are ~15 MB of a gaffer at rest.
      const { startGrpcServer } = await import('../api/grpc/server.ts');
      this.#grpc = await startGrpcServer(this.#orch, { host, port: grpcPort });
    }
    return this.#url;
  }

  /** The port gRPC serves on, once `listen` started it; null otherwise. */
  get grpcPort(): number | null {
    return this.#grpc?.port ?? null;
  }

  /**
   * A graceful stop's first half: no more scaling, and every worker drains — takes nothing new,
   * finishes what it runs. True once all have exited; false after `timeoutMs` with some busy.
   */
  drain(timeoutMs: number): Promise<boolean> {
    return this.#orch.drain(timeoutMs);
  }

  /**
   * Stops serving, stops every worker and closes the store. Jobs still running are not lost:
   * they run again on the next start on the same store (call `drain` first to let them finish).
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#source.close();
      clearInterval(this.#keepAlive);
      await this.#grpc?.close();
      await this.#app?.close();
      await this.#orch.close();
    })();
    return this.#closed;
  }

  #handle<R>(job: Job, created: boolean): JobHandle<R> {
    const done = (options?: WaitOptions) => this.wait(job.id, options);
    return { id: job.id, job, created, done, result: (options) => jobResult<R>(done(options)) };
  }
}
