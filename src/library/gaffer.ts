import type { FastifyInstance } from 'fastify';
import { buildApp } from '../api/app.ts';
import { assertExposureAllowed } from '../api/auth/exposure.ts';
import { httpServerOptions } from '../api/timeouts.ts';
import type { GrpcServer } from '../api/grpc/server.ts';
import { resolveConfig, type ResolvedConfig } from '../config/load.ts';
import { ConfigReloader, watchConfig, type ReloadStatus } from '../config/watch.ts';
import type { GafferEventMap, GafferEventName } from '../domain/events.ts';
import type { Job } from '../domain/job.ts';
import type { Submission } from '../jobs/prepare.ts';
import type { ListFilter, RejectedSubmission, Submitter } from '../jobs/service.ts';
import type { Waiting } from '../jobs/waiting.ts';
import { Orchestrator, type StopSummary } from '../orchestrator.ts';
import { withChildren } from '../domain/logger.ts';
import { loggerFromEnv } from '../log/logger.ts';
import { lockDataDir } from '../store/data-dir-lock.ts';
import { bindPorts, type BindRequest, type BoundPorts } from './ports.ts';
import type {
  BatchPage,
  BatchSummary,
  JobPage,
  LogLine,
  QueueStats,
  RejectedRow,
} from '../store/job-store.ts';
import type { RetryFailedReport } from '../jobs/batches.ts';
import type { ScheduleDetail, ScheduleView } from '../schedules/service.ts';
import type { JobHandler } from '../worker/handler.ts';
import type {
  BatchSubmitted,
  ConfigInput,
  ScheduleInput,
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
  const log = withChildren(options.log ?? loggerFromEnv(options.env ?? {}));
  let source = options.config ?? {};
  const load = (): Promise<ResolvedConfig> =>
    resolveConfig({
      ...(typeof source === 'string' ? { file: source } : { raw: source }),
      env: options.env ?? {},
      overrides: options.overrides ?? {},
      inCode,
    });
  const config = await load();
  // In this order: where to serve (with `listen`: an unauthenticated non-loopback host is refused
  // before anything is touched), the data folder's lock (a folder another gaffer holds is refused,
  // naming it), then the ports (one taken is refused), and only then the store is opened and what
  // a previous run left in flight recovered. A refusal leaves nothing behind.
  const request = options.listen ? bindRequest(config, listenOptions(options.listen)) : null;
  const lock =
    config.store.kind === 'sqlite'
      ? lockDataDir(config.store.dataDir, log.child({ component: 'data-dir-lock' }))
      : undefined;
  let ports: BoundPorts | null = null;
  let orch: Orchestrator;
  try {
    if (request) ports = await bindPorts(request);
    orch = await Orchestrator.open({
      config,
      handlers,
      log,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(lock ? { lock } : {}),
    });
  } catch (err) {
    await ports?.close(0);
    lock?.release();
    throw err;
  }
  try {
    await orch.start();
  } catch (err) {
    await ports?.close(0);
    await orch.close().catch(() => {});
    throw err;
  }
  const reloader = new ConfigReloader({
    load,
    apply: (next) => orch.reload(next),
    now: () => orch.clock.now(),
    log: log.child({ component: 'config-reload' }),
  });
  // POST /v1/config/reload and `gaffer config reload` re-read a config file; given as an object,
  // the config changes only through `reload(config)`.
  if (typeof source === 'string') orch.reloader = reloader;
  const watcher =
    typeof source === 'string' && options.watch
      ? watchConfig(source, reloader, { log: log.child({ component: 'config-watch' }) })
      : null;
  const gaffer = new Gaffer<J>(
    orch,
    {
      // A refused config is not kept as the source: the next `reload()` reads the one in force.
      reload: async (next) => {
        const before = source;
        if (next !== undefined) source = next;
        const status = await reloader.reload();
        if (!status.ok) source = before;
        return status;
      },
      close: () => watcher?.close(),
    },
    ports,
  );
  if (options.listen) {
    try {
      await gaffer.listen(listenOptions(options.listen));
    } catch (err) {
      await gaffer.close().catch(() => {});
      throw err;
    }
  }
  return gaffer;
}

function listenOptions(listen: ListenOptions | true): ListenOptions {
  return listen === true ? {} : listen;
}

/**
 * Where to serve: the options given, else the config's `server` section. Throws an
 * UnauthenticatedExposureError for a non-loopback host while no API key is configured, unless
 * `allowUnauthenticated` (src/api/auth/exposure.ts).
 */
function bindRequest(config: ResolvedConfig, options: ListenOptions): BindRequest {
  const grpcPort = options.grpcPort ?? config.server.grpcPort;
  const host = options.host ?? config.server.host;
  assertExposureAllowed(
    config,
    host,
    options.allowUnauthenticated ?? config.server.allowUnauthenticated,
  );
  return {
    host,
    port: options.port ?? config.server.port,
    ...(grpcPort !== undefined ? { grpcPort } : {}),
    grpcMaxMessageBytes: config.server.bodyLimitBytes,
    http: httpServerOptions(config.server),
  };
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
  #ports: BoundPorts | null = null;
  /** Bound before the store was opened (createGaffer's `listen`), not served yet. */
  #bound: BoundPorts | null;
  #grpc: GrpcServer | null = null;
  #url: string | null = null;
  #closed: Promise<StopSummary> | null = null;
  /**
   * Keeps the process alive until `close`, as an open server or pool would: gaffer's own timers
   * do not (unref'd), and in-process workers have no child process to, so a script awaiting a
   * result would otherwise exit with it unsettled.
   */
  readonly #keepAlive = setInterval(() => {}, 2 ** 31 - 1);

  /** Made by `createGaffer` (`bound`: the ports its `listen` option bound, served by `listen`). */
  constructor(orch: Orchestrator, source: Source, bound: BoundPorts | null = null) {
    this.#orch = orch;
    this.#source = source;
    this.#bound = bound;
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

  /**
   * Submits many jobs as one batch, recorded as `POST /v1/jobs/batch` and gRPC `SubmitJobs`
   * record theirs: valid ones committed together, each invalid one reported by its index, the
   * counts kept under `batchId` (`batch`, `batches`). `type`: every submission's type unless it
   * names its own, and the batch's label.
   */
  async submitBatch(
    submissions: readonly Submission[],
    options: { type?: string } = {},
  ): Promise<BatchSubmitted> {
    const { type } = options;
    const { batchId, accepted, rejected } = await this.#orch.services.batches.submit(
      type === undefined ? submissions : submissions.map((s) => ({ ...s, type: s.type ?? type })),
      { source: 'library', type: type ?? null, by: LIBRARY },
    );
    return { batchId, accepted: accepted.map((job) => this.#handle(job, true)), rejected };
  }

  /** A batch with its counts. Rejects with GAFFER_BATCH_NOT_FOUND for an unknown id. */
  batch(id: string): Promise<BatchSummary> {
    return this.#orch.services.batches.get(id);
  }

  /** Batches (JSON, uploads, the library's), newest first; `nextCursor` pages on (50 a page). */
  batches(filter: { limit?: number; cursor?: string } = {}): Promise<BatchPage> {
    return this.#orch.services.batches.list({ limit: 50, ...filter });
  }

  /** A batch's rows that could not be jobs, by line (uploads keep them). */
  rejectedRows(id: string): Promise<RejectedRow[]> {
    return this.#orch.services.batches.rejectedRows(id);
  }

  /**
   * "Retry failed rows": the batch's failed and timed-out jobs queued again, its dead-lettered
   * ones replayed, as `POST /v1/batches/:id/retry-failed`.
   */
  retryFailed(id: string): Promise<RetryFailedReport> {
    return this.#orch.services.batches.retryFailed(id);
  }

  /** A job's record now. Rejects with GAFFER_JOB_NOT_FOUND for an unknown id. */
  job(id: string): Promise<Job> {
    return this.#orch.service.get(id);
  }

  /**
   * Jobs, newest first, filtered by type, state or batch; `nextCursor` pages on (50 a page).
   * State `delayed`: the queued jobs not yet due (a view, as `GET /v1/jobs?state=delayed`).
   */
  jobs(filter: Partial<ListFilter> = {}): Promise<JobPage> {
    return this.#orch.service.list({ limit: 50, ...filter });
  }

  /**
   * Why a job not started yet waits, as `GET /v1/jobs/:id` answers it: `delayed` (with its due
   * time), `paused`, `rate_limit` (with an estimate), `key_limit` (naming the key), no worker yet,
   * … (docs/http-api.md). Null once the job has started. Rejects with GAFFER_JOB_NOT_FOUND.
   */
  async waiting(id: string): Promise<Waiting | null> {
    return this.#orch.services.queues.waiting(await this.job(id));
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
    return this.#orch.services.queues.stats();
  }

  /**
   * Pauses a job type (audited as `type.pause`, actor `library`): it still takes submissions, but
   * starts none of its jobs until `resume`; jobs running finish. Durable: a restart keeps it.
   * Rejects with GAFFER_UNKNOWN_TYPE for a type gaffer does not know.
   */
  pause(type: string): Promise<void> {
    return this.#orch.service.pause(type, LIBRARY);
  }

  /** Resumes a paused type: its waiting jobs start again (audited as `type.resume`). */
  resume(type: string): Promise<void> {
    return this.#orch.service.resume(type, LIBRARY);
  }

  /** Every cron schedule, the config's and the API's, with its next and last run. */
  schedules(): Promise<ScheduleView[]> {
    return this.#orch.services.schedules.list(LIBRARY);
  }

  /** One schedule and the jobs of its recent runs; GAFFER_SCHEDULE_NOT_FOUND when unknown. */
  schedule(name: string): Promise<ScheduleDetail> {
    return this.#orch.services.schedules.get(name, LIBRARY);
  }

  /**
   * Declares or replaces a schedule outside the config (stored, so every replica runs it), checked
   * as the config's are (GAFFER_SCHEDULE_INVALID); a config schedule's name is refused
   * (GAFFER_SCHEDULE_CONFIGURED).
   */
  async putSchedule(
    name: string,
    definition: ScheduleInput,
  ): Promise<{ schedule: ScheduleView; created: boolean }> {
    return this.#orch.services.schedules.put(name, definition, LIBRARY);
  }

  /** Deletes a schedule `putSchedule` declared, and its state. */
  deleteSchedule(name: string): Promise<void> {
    return this.#orch.services.schedules.delete(name, LIBRARY);
  }

  /** Pauses a schedule (any: the config's too): its ticks pass without firing. Durable. */
  pauseSchedule(name: string): Promise<ScheduleView> {
    return this.#orch.services.schedules.pause(name, LIBRARY);
  }

  /** Resumes a schedule: its next tick fires (ticks passed while paused are not caught up). */
  resumeSchedule(name: string): Promise<ScheduleView> {
    return this.#orch.services.schedules.resume(name, LIBRARY);
  }

  /** Submits a schedule's job now, outside its cron; the cron's last and next runs stay. */
  triggerSchedule(name: string): Promise<Job> {
    return this.#orch.services.schedules.trigger(name, LIBRARY);
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
   * A port that is taken rejects with a `StartError` (GAFFER_PORT_IN_USE), leaving nothing bound:
   * this gaffer runs on unserved, and `listen` may be called again. (`createGaffer({ listen })`
   * binds the ports before it opens the store, as `gaffer up` does.) A non-loopback host while no
   * API key is configured rejects with a ConfigError, listening nowhere, unless
   * `allowUnauthenticated`.
   */
  async listen(options: ListenOptions = {}): Promise<string> {
    if (this.#url || this.#ports) throw new Error(`gaffer already listens at ${this.#url}`);
    if (this.#closed) throw new Error('gaffer is closed');
    const ports = this.#bound ?? (await bindPorts(bindRequest(this.config, options)));
    this.#bound = null;
    await this.#serve(ports, options);
    return this.#url!;
  }

  /** Serves on bound ports; on failure they are closed again and nothing is left half served. */
  async #serve(ports: BoundPorts, options: ListenOptions): Promise<void> {
    this.#ports = ports;
    try {
      this.#app = await buildApp(this.#orch, {
        logger: Boolean(options.logger),
        serverFactory: (handler) => ports.serverFactory(handler),
      });
      await this.#app.ready();
      if (ports.grpc) {
        const { startGrpcServer } = await import('../api/grpc/server.ts');
        this.#grpc = await startGrpcServer(this.#orch, {
          host: options.host ?? this.config.server.host,
          port: ports.grpc.port,
          bound: ports.grpc,
        });
      }
    } catch (err) {
      await this.#grpc?.close();
      await this.#app?.close();
      await ports.close(0);
      [this.#app, this.#grpc, this.#ports] = [null, null, null];
      throw err;
    }
    ports.open();
    this.#url = ports.url;
    this.#orch.listening(this.#url);
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
   * Stops every worker, stops serving and closes the store. Jobs still running are stopped — a
   * command's whole process tree: SIGTERM, then SIGKILL after the type's kill grace — and handed
   * back to the queue without spending an attempt (they did not fail: gaffer was stopped); they
   * run again on the next start on the same store (call `drain` first to let them finish).
   * Resolves with the jobs handed back (see `StopSummary`).
   */
  close(): Promise<StopSummary> {
    this.#closed ??= (async () => {
      this.#source.close();
      clearInterval(this.#keepAlive);
      // Workers first, while the API serves: networked workers report their last jobs over it.
      await this.#orch.stopWorkers();
      await this.#grpc?.close();
      await this.#app?.close();
      await this.#ports?.close();
      await this.#bound?.close(0);
      return this.#orch.close();
    })();
    return this.#closed;
  }

  #handle<R>(job: Job, created: boolean): JobHandle<R> {
    const done = (options?: WaitOptions) => this.wait(job.id, options);
    return { id: job.id, job, created, done, result: (options) => jobResult<R>(done(options)) };
  }
}
