import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ControlLoop } from './autoscaler/control-loop.ts';
import type { ResolvedConfig } from './config/load.ts';
import { diffConfig, type ReloadResult } from './config/diff.ts';
import type { ConfigReloader } from './config/watch.ts';
import type { JobTypeConfig } from './config/schema.ts';
import { systemClock, withTimers, type Clock, type TimedClock } from './domain/clock.ts';
import { GafferEvents, type WorkerInfo } from './domain/events.ts';
import type { Logger } from './domain/logger.ts';
import { createLogger } from './log/logger.ts';
import type { Broker } from './brokers/broker.ts';
import { createBroker } from './brokers/registry.ts';
import type { Job, JobResources } from './domain/job.ts';
import type { Executor, ExecutorHooks } from './executors/executor.ts';
import type * as KubeClientModule from './executors/kubernetes/client.ts';
import type * as KubeExecutorModule from './executors/kubernetes/index.ts';
import type { KubernetesExecutor } from './executors/kubernetes/index.ts';
import type * as KubeLeaseModule from './executors/kubernetes/leader-lease.ts';
import { byType } from './executors/by-type.ts';
import { createInProcessExecutor } from './executors/in-process/index.ts';
import { createLocalProcessExecutor } from './executors/local-process/index.ts';
import { storeSecrets, type NetworkTransport } from './executors/local-process/network.ts';
import {
  localRoom,
  machineCapacity,
  perWorker,
  workerShare,
  type Room,
} from './executors/local-process/capacity.ts';
import { createCatalog, type Catalog } from './jobs/catalog.ts';
import { Reconciler } from './jobs/reconciler.ts';
import { republishMissing } from './jobs/republish.ts';
import { Throughput } from './jobs/throughput.ts';
import { JobService } from './jobs/service.ts';
import { WorkerGateway } from './jobs/worker-gateway.ts';
import { createServices, type Services } from './services.ts';
import { HistorySampler, emptyWorkers, type WorkerCounts } from './history/index.ts';
import type { JobStore } from './store/job-store.ts';
import { hasLeaderLease, type LeaderLease } from './store/leader-lease.ts';
import { lockDataDir, type DataDirLock } from './store/data-dir-lock.ts';
import { openStore } from './store/open.ts';
import { createSqliteStore } from './store/sqlite/index.ts';
import type { JobHandler } from './worker/handler.ts';
import type { BrokerRef, WorkerSpec } from './worker/protocol.ts';

export interface OrchestratorOptions {
  config: ResolvedConfig;
  clock?: Clock;
  /** Run the autoscaler (default true). Tests of the API alone turn it off. */
  autoscale?: boolean;
  /** An opened store (see `Orchestrator.open`); default: the embedded SQLite file. */
  store?: JobStore;
  /**
   * The functions of the job types given in code (the library's `jobs`; `config.jobTypes` holds
   * their settings): their workers run in this process (src/executors/in-process/).
   */
  handlers?: ReadonlyMap<string, JobHandler>;
  /**
   * The embedded store's data folder lock, already taken (src/store/data-dir-lock.ts); released
   * by `close`. Absent with the SQLite store: the constructor takes it.
   */
  lock?: DataDirLock;
  /**
   * gaffer's own log (failures it survives, reloads), handed to every component. Default: the
   * core logger (src/log/logger.ts: JSON lines on stderr, level info).
   */
  log?: Logger;
}

/** What a stop did with the jobs that were running (see `Orchestrator.close`). */
export interface StopSummary {
  /** Jobs whose attempt the stop cut short, handed back to the queue (no attempt spent). */
  handedBack: readonly string[];
  /**
   * Jobs whose hand-back the store refused: still in flight in the store, the next start recovers
   * them as after a crash (an attempt is spent).
   */
  unrecorded: readonly string[];
}

/**
 * The composition root: config → store → services → executor → autoscaler. Owns their lifecycle.
 * Everything the API and the CLI's `up` need hangs off this object.
 */
export class Orchestrator {
  readonly log: Logger;
  readonly events: GafferEvents;
  /** The config in force: replaced by `reload` (its live sections only, see config/diff.ts). */
  #config: ResolvedConfig;
  /** Re-reads the config file and reloads (set by `gaffer up` when given a file), else null. */
  reloader: ConfigReloader | null = null;
  readonly clock: TimedClock;
  readonly store: JobStore;
  readonly service: JobService;
  readonly gateway: WorkerGateway;
  readonly loop: ControlLoop;
  /** Jobs finished per type over the last minute (metrics, and queued jobs' estimated start). */
  readonly throughput: Throughput;
  readonly executor: Executor;
  /** Queue depth, throughput and workers per type over the last hour (the dashboard's charts). */
  readonly history: HistorySampler;
  /** What the front ends call besides `service`: batches, the queue view, the audit log. */
  readonly services: Services;
  /** Set when `executor.kind` is kubernetes (admission and readiness live there). */
  readonly kubernetes: KubernetesExecutor | null = null;
  /** Prefix of this process's local worker ids; leases of other prefixes are orphans on start. */
  readonly instance = `local-${randomUUID().slice(0, 8)}`;
  /**
   * The token networked workers present at /v1/workers/connect: `server.workerToken`, or with the
   * network transport and none configured, a random one only the workers gaffer starts are given.
   */
  readonly workerToken: string | undefined;
  /** gaffer's API address for networked workers: configured, or known once the API listens. */
  readonly #gafferUrl = Promise.withResolvers<string>();
  readonly #reconciler: Reconciler;
  readonly #autoscale: boolean;
  readonly #handlers: ReadonlyMap<string, JobHandler>;
  #catalog: Catalog;
  /** The local executor's capacity (`executor.local`). */
  #machine: Room;
  /** Per-job workers started for a job with its own resource request: worker id → the request. */
  readonly #jobResources = new Map<string, JobResources>();
  #broker: Broker | null = null;
  /** Who runs the autoscaler when several replicas do: a Kubernetes Lease, or the shared store. */
  readonly #leaderLease: LeaderLease | null;
  #leading = false;
  #leaderTimer: NodeJS.Timeout | null = null;
  #seq = 0;
  readonly #timers = new Set<NodeJS.Timeout>();
  /** One gaffer per data folder: held from before the store opens until it closes. */
  readonly #lock: DataDirLock | null;
  #stopping: Promise<void> | null = null;
  #closing: Promise<StopSummary> | null = null;

  constructor(options: OrchestratorOptions) {
    this.log = options.log ?? createLogger();
    this.events = new GafferEvents(this.log);
    this.#config = options.config;
    this.clock = withTimers(options.clock ?? systemClock);
    this.#autoscale = options.autoscale ?? true;
    this.#handlers = options.handlers ?? new Map();
    const dataDir = path.resolve(this.config.store.dataDir);
    // Before anything in the folder is read or written: its SQLite file, the scratch files, the
    // embedded broker's file.
    this.#lock =
      options.lock ?? (this.config.store.kind === 'sqlite' ? lockDataDir(dataDir, this.log) : null);
    mkdirSync(path.join(dataDir, 'scratch'), { recursive: true });
    try {
      this.store =
        options.store ??
        createSqliteStore({
          path: path.join(dataDir, 'gaffer.db'),
          synchronous: this.config.store.synchronous,
          log: this.log,
        });
    } catch (err) {
      this.#lock?.release();
      throw err;
    }
    this.#catalog = catalogOf(this.config);
    this.#machine = machineCapacity(this.config.executor.local);
    this.service = new JobService({
      store: this.store,
      clock: this.clock,
      events: this.events,
      catalog: () => this.#catalog,
      leaseTtlMs: this.config.leases.ttlMs,
      resultBytes: () => this.config.retention.resultBytes,
      log: this.log,
      ...(this.config.broker.kind === 'none' ? {} : { publish: (jobs) => this.#publish(jobs) }),
    });
    this.throughput = new Throughput(this.events, this.clock);
    this.gateway = new WorkerGateway({
      service: this.service,
      store: this.store,
      events: this.events,
      clock: this.clock,
      log: this.log,
    });
    this.workerToken =
      this.config.server.workerToken ??
      (this.config.executor.transport === 'network'
        ? randomBytes(24).toString('base64url')
        : undefined);
    this.#gafferUrl.promise.catch(() => {}); // rejected by close() when gaffer never listened
    if (this.config.executor.gafferUrl) this.#gafferUrl.resolve(this.config.executor.gafferUrl);
    const hooks: ExecutorHooks = {
      connected: (id, conn, pid) => this.gateway.connected(id, conn, pid),
      output: (id, stream, data) => this.gateway.output(id, stream, data),
      exited: (id, code, signal) => {
        // If the store refuses to record it (disk full), the jobs the worker held keep their
        // leases until the reconciler finds them expired: logged, never a crash of gaffer.
        this.gateway
          .exited(id, code, signal)
          .catch((err: unknown) =>
            this.log.error({ err, worker: id }, "recording a worker's exit failed"),
          )
          .finally(() => this.loop.poke());
      },
      waiting: (id, reason) => this.gateway.waiting(id, reason),
      retire: (id) => this.gateway.retire(id),
    };
    if (this.config.executor.kind === 'kubernetes') {
      const k = this.config.executor.kubernetes;
      const { createKubeClient, createKubernetesExecutor, createKubeLeaderLease } = kubeModules();
      const client = createKubeClient(k);
      this.kubernetes = createKubernetesExecutor({
        client,
        namespace: k.namespace,
        hooks,
        jobType: (name) => this.#catalog.type(name),
        gafferUrl: () => this.#gafferUrl.promise,
        workerSpec: (name) => {
          const type = this.#catalog.type(name);
          return type && this.#specFor(name, type);
        },
        heartbeatMs: this.#heartbeatMs(),
        maxJobs: k.maxJobs ?? null,
        admission: k.admission,
        workerTokenSecret: k.workerTokenSecret,
        log: this.log,
      });
      this.executor = this.kubernetes;
      this.#leaderLease = createKubeLeaderLease({
        kubeConfig: client.kubeConfig,
        namespace: k.namespace,
      });
    } else {
      this.executor = createLocalProcessExecutor({
        ...(this.config.executor.transport === 'network' ? { network: this.#network() } : {}),
        hooks,
      });
      this.#leaderLease = hasLeaderLease(this.store) ? this.store : null;
    }
    if (this.#handlers.size > 0) {
      const inProcess = createInProcessExecutor({
        handler: (type) => this.#handlers.get(type),
        hooks,
      });
      this.executor = byType(inProcess, this.executor, (type) => this.#handlers.has(type));
    }
    this.loop = new ControlLoop({
      target: this.#scalingTarget(),
      clock: this.clock,
      events: this.events,
      intervalMs: this.config.autoscaler.intervalMs,
      log: this.log,
    });
    this.#reconciler = new Reconciler({
      service: this.service,
      store: this.store,
      gateway: this.gateway,
      clock: this.clock,
      types: () => this.#catalog.names(),
      republish: () => this.republishMissing(),
      retention: () => this.config.retention,
      log: this.log,
    });
    this.history = new HistorySampler({
      clock: this.clock,
      events: this.events,
      read: (now) => this.#historyState(now),
      log: this.log,
    });
    this.services = createServices(this);
    this.#wire();
  }

  /** Per type: ready, in flight and workers by state, for one history sample. */
  async #historyState(now: number) {
    const stats = new Map((await this.store.queueStats(now)).map((s) => [s.type, s]));
    const out: Record<string, { ready: number; inFlight: number; workers: WorkerCounts }> = {};
    for (const type of this.#catalog.names()) {
      const workers = emptyWorkers();
      for (const w of this.gateway.workers(type)) if (w.state !== 'stopped') workers[w.state]++;
      const s = stats.get(type);
      out[type] = { ready: s?.ready ?? 0, inFlight: s?.inFlight ?? 0, workers };
    }
    return out;
  }

  /**
   * The API listens at `address`: networked workers are told to connect there, unless
   * `executor.gafferUrl` says otherwise. Workers started before this wait for it.
   */
  listening(address: string): void {
    this.#gafferUrl.resolve(address);
    this.#lock?.serving(address);
  }

  #network(): NetworkTransport {
    return {
      gafferUrl: () => this.#gafferUrl.promise,
      token: this.workerToken!,
      secrets: storeSecrets(this.config.store.url),
    };
  }

  get catalog(): Catalog {
    return this.#catalog;
  }

  get config(): ResolvedConfig {
    return this.#config;
  }

  /**
   * Applies what can change live — job types, route rules and cost, adhoc: the catalog — and
   * reports the rest as needing a restart (logged, not applied). `next` is what the loader
   * returned (schema and cross-references already checked there); here only the catalog's own
   * check (adhoc's name is free) remains. The swap is one assignment: every reader goes through
   * the `catalog` getter, so a submission sees either the old catalog or the new one, never a mix.
   *
   * Running work keeps the definition it started with: a worker got its command, env and queue in
   * its spec at start and never reads the catalog again. Pool workers of a changed or removed
   * type are retired — the same drain as a graceful stop: they take nothing new and exit once
   * their current jobs are done (never killed busy), so the autoscaler starts new workers with
   * the new definition. A removed type refuses submissions at once (GAFFER_UNKNOWN_TYPE); its
   * running jobs finish on the old definition; its queued jobs stay queued, untouched, and run
   * if the type comes back (they are not cancelled: a mistaken edit must not destroy work).
   */
  async reload(next: ResolvedConfig): Promise<ReloadResult> {
    const diff = diffConfig(this.#config, next);
    const merged: ResolvedConfig = {
      ...this.#config,
      jobTypes: next.jobTypes,
      routes: next.routes,
      adhoc: next.adhoc,
      auth: diff.keysChanged ? { ...this.#config.auth, keys: next.auth.keys } : this.#config.auth,
    };
    let catalog: Catalog;
    try {
      catalog = catalogOf(merged);
    } catch (err) {
      return {
        ok: false,
        errors: [{ path: '/adhoc/name', message: (err as Error).message }],
        ...diff,
      };
    }
    // A new queue exists before the first job of its type can be published to it.
    if (this.#broker) {
      for (const name of catalog.names()) {
        const queue = catalog.type(name)!.queue;
        if (this.#catalog.type(name)?.queue !== queue) await this.#broker.declare(queue);
      }
    }
    const previous = this.#catalog;
    this.#catalog = catalog;
    this.#config = merged;
    // Only a change to what a worker was started with (its spec) drains it: a new scaling range
    // or retry policy applies to the running workers as they are.
    const stale = (type: string) => {
      const [was, now] = [previous.type(type), catalog.type(type)];
      // On Kubernetes a pool pod is also its image and `kubernetes` section (its Deployment's
      // template, executors/kubernetes/pool.ts): a change there drains its workers too.
      const pod = (t: JobTypeConfig) => [t.worker.image, t.kubernetes];
      if (this.kubernetes && was && now && !isDeepStrictEqual(pod(was), pod(now))) return true;
      return !was || !now || !isDeepStrictEqual(this.#specFor(type, was), this.#specFor(type, now));
    };
    for (const type of [...diff.changed, ...diff.removed].filter(stale)) {
      for (const w of this.gateway.workers(type)) if (w.mode === 'pool') this.gateway.retire(w.id);
    }
    const touched = [...diff.added, ...diff.changed, ...diff.removed];
    if (touched.length > 0) this.events.emit('config:reloaded', { types: touched });
    this.log.info(
      {
        added: diff.added,
        changed: diff.changed,
        removed: diff.removed,
        ...(diff.keysChanged ? { keysChanged: true } : {}),
      },
      touched.length ? 'config reloaded' : 'config reloaded: no job type changed',
    );
    if (diff.needsRestart.length > 0) {
      this.log.warn(
        { needsRestart: diff.needsRestart },
        'config reloaded: these settings need a restart to apply (not applied)',
      );
    }
    if (this.#autoscale) this.loop.poke();
    return { ok: true, ...diff };
  }

  /**
   * Opens the configured store (SQLite or PostgreSQL), then builds the orchestrator on it. With
   * the embedded store, its data folder's lock is taken first (unless given): a folder another
   * gaffer holds is refused (a `StartError`) before its store is opened or migrated.
   */
  static async open(options: Omit<OrchestratorOptions, 'store'>): Promise<Orchestrator> {
    const { store } = options.config;
    const dataDir = path.resolve(store.dataDir);
    const log = options.log ?? createLogger();
    const lock = options.lock ?? (store.kind === 'sqlite' ? lockDataDir(dataDir, log) : undefined);
    try {
      if (options.config.executor.kind === 'kubernetes') await loadKubernetes();
      const opened = await openStore({ ...store, dataDir }, log);
      try {
        return new Orchestrator({ ...options, log, store: opened, ...(lock ? { lock } : {}) });
      } catch (err) {
        await opened.close();
        throw err;
      }
    } catch (err) {
      lock?.release();
      throw err;
    }
  }

  /**
   * Recovers jobs left in flight by a previous gaffer process, then starts the loops. With a
   * shared store, other replicas' workers are alive: their jobs are left to lease expiry, and the
   * autoscaler runs only while this replica holds the leader lease.
   */
  async start(): Promise<void> {
    await this.kubernetes?.ready();
    await this.#connectBroker();
    if (this.config.store.kind === 'sqlite') {
      await this.#reconciler.recoverOrphans('local-', this.instance);
    }
    this.#reconciler.start(this.config.leases.sweepMs);
    this.history.start();
    if (!this.#autoscale) return;
    if (this.#leaderLease) await this.#lead(this.#leaderLease);
    else this.loop.start();
  }

  /** Whether this replica runs the autoscaler now. */
  get leading(): boolean {
    return this.#leading;
  }

  /** Takes or renews the autoscaler lease every third of its TTL; starts or stops the loop to match. */
  async #lead(lease: LeaderLease): Promise<void> {
    const ttl = this.config.autoscaler.leaderTtlMs;
    const tick = async () => {
      const held = await lease
        .acquire('autoscaler', this.instance, ttl, this.clock.now())
        .catch(() => false);
      if (held && !this.#leading) this.loop.start();
      if (!held && this.#leading) this.loop.stop();
      if (held !== this.#leading) {
        this.events.emit('leader:changed', { holder: held ? this.instance : null });
      }
      this.#leading = held;
    };
    this.#leaderTimer = setInterval(() => void tick(), Math.max(50, Math.floor(ttl / 3)));
    this.#leaderTimer.unref();
    await tick();
  }

  /**
   * Broker mode, invariant 4: publishes again the due jobs that have no ready message, oldest
   * first, at most the deficit per type (jobs/republish.ts). With a shared store one replica is
   * enough: the one that leads. Returns how many were published.
   */
  async republishMissing(): Promise<number> {
    const broker = this.#broker;
    if (!broker || (this.#leaderLease && this.#autoscale && !this.#leading)) return 0;
    const deps = {
      store: this.store,
      queueOf: (type: string) => this.#catalog.type(type)?.queue,
      brokerReady: async (queue: string) => (await broker.stats(queue)).ready,
      publish: (jobs: readonly Job[]) => this.#publish(jobs),
    };
    return republishMissing(deps, this.clock.now(), this.config.broker.republishAfterMs);
  }

  /** One reconciler pass now (tests, and operators after a clock jump): expired leases retried. */
  sweep(): Promise<number> {
    return this.#reconciler.sweep();
  }

  /**
   * A graceful stop's first half: no more scaling, and every worker drained — it takes nothing
   * new and exits once its jobs are done (invariant 5). Resolves true when all have exited, false
   * after `timeoutMs` with some still busy (`close` then stops them; their jobs are retried).
   */
  async drain(timeoutMs: number): Promise<boolean> {
    this.loop.stop();
    for (const w of this.gateway.workers()) this.gateway.retire(w.id);
    const done = () => this.gateway.workers().length === 0;
    if (done()) return true;
    const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs));
    const drained = this.events.once('worker:stopped', done).then(() => true);
    return Promise.race([drained, timeout]);
  }

  /**
   * A stop's first half: no more scaling or sweeps, nothing handed out, and every
   * worker stopped now — each job's process tree gets SIGTERM, then SIGKILL after its type's
   * kill grace — resolving once every worker process is gone. The jobs they held go back to the
   * queue without spending an attempt (the operator stopped them; they did not fail), recorded
   * before `close` closes the store. The API keeps serving meanwhile (networked workers report
   * over it); `close` calls this first if it was not called.
   */
  stopWorkers(): Promise<void> {
    this.#stopping ??= (async () => {
      this.loop.stop();
      if (this.#leaderTimer) clearInterval(this.#leaderTimer);
      if (this.#leading && this.#leaderLease) {
        await this.#leaderLease.release('autoscaler', this.instance).catch(() => {});
      }
      this.#reconciler.stop();
      for (const t of this.#timers) clearTimeout(t);
      this.#gafferUrl.reject(new Error('gaffer stopped before its API listened'));
      await this.loop.idle(); // a tick may be starting workers: they are stopped with the rest
      this.gateway.stopping();
      await this.executor.close();
    })();
    return this.#stopping;
  }

  /**
   * Stops every worker (`stopWorkers`), records what became of their jobs, closes the store and
   * releases the data folder. Resolves with the jobs the stop handed back to the queue. A gaffer
   * killed before this ran (kill -9) records nothing: its next start finds those jobs left in
   * flight and retries them as after a crash (an attempt is spent).
   */
  close(): Promise<StopSummary> {
    this.#closing ??= (async () => {
      await this.stopWorkers();
      await this.history.stop();
      // Every exit's hand-back (and worker event) is written before the store closes.
      await this.gateway.recorded();
      const { handedBack, unrecorded } = this.gateway.stopped;
      this.gateway.close();
      await this.#broker?.close();
      await this.store.close();
      this.#lock?.release();
      return { handedBack: [...handedBack], unrecorded: [...unrecorded] };
    })();
    return this.#closing;
  }

  #wire(): void {
    this.events.on('job:queued', ({ jobs }) => {
      const types = new Set(jobs.map((j) => j.type));
      for (const type of types) this.gateway.notify(type);
      // A type with no worker reacts at once; others wait for the next tick, which keeps a
      // stream of submissions from turning into a stream of ticks.
      if (this.#autoscale && [...types].some((t) => this.gateway.workers(t).length === 0)) {
        this.loop.poke();
      }
    });
    this.events.on('job:retrying', ({ job }) => {
      const t = setTimeout(
        () => {
          this.#timers.delete(t);
          void this.#publish([job]).catch((err: unknown) =>
            this.log.error({ err, job: job.id }, 'republishing a retried job failed'),
          );
          this.gateway.notify(job.type);
          if (this.#autoscale) this.loop.poke();
        },
        Math.max(0, job.runAt - this.clock.now()),
      );
      t.unref();
      this.#timers.add(t);
    });
    this.events.on('job:cancelled', ({ job }) => {
      if (job.state !== 'cancelled') this.gateway.stopJob(job.id, 'cancelled by a user');
    });
    // A Kubernetes pool removes the pod of a worker that stopped holding nothing.
    this.events.on('worker:stopped', ({ worker, clean }) => {
      this.executor.stopped?.(worker.id, clean);
    });
  }

  /** The broker address workers get: embedded defaults to a file beside the store. */
  #brokerRef(queue: string): BrokerRef | null {
    const b = this.config.broker;
    if (b.kind === 'none') return null;
    return {
      kind: b.kind,
      url: b.url ?? path.resolve(this.config.store.dataDir, 'broker.db'),
      queue,
      visibilityTimeoutMs: b.visibilityTimeoutMs,
    };
  }

  /**
   * Broker mode: declares every type's queue, then publishes the jobs already queued — messages
   * lost while gaffer was down (or never published: a crash between commit and publish) are
   * replaced; a duplicate is harmless, since a claim of a job that is not queued is refused.
   */
  async #connectBroker(): Promise<void> {
    const ref = this.#brokerRef('');
    if (!ref) return;
    this.#broker = await createBroker(ref);
    for (const name of this.#catalog.names()) {
      await this.#broker.declare(this.#catalog.type(name)!.queue);
    }
    let cursor: string | undefined;
    do {
      const page = await this.store.list({
        state: 'queued',
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      await this.#publish(page.jobs);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  async #publish(jobs: readonly Job[]): Promise<void> {
    if (!this.#broker || jobs.length === 0) return;
    for (const [queue, list] of Map.groupBy(jobs, (j) => j.queue)) {
      await this.#broker.publish(
        queue,
        list.map((j) => ({ jobId: j.id, priority: j.priority })),
      );
    }
  }

  #scalingTarget() {
    return {
      // Only types this executor can run: an image-only type (as a bare type map declares) waits for the
      // Kubernetes executor instead of being "scaled" every tick to no effect.
      types: () =>
        this.#catalog
          .names()
          .filter((name) => this.runnable(name))
          .map((name) => {
            const t = this.#catalog.type(name)!;
            return { name, mode: t.mode, concurrency: t.concurrency, scaling: t.scaling };
          }),
      queueStats: (now: number) => this.store.queueStats(now),
      workers: (type: string): WorkerInfo[] => this.#scalingWorkers(type),
      start: (type: string, count: number) => this.#startWorkers(type, count),
      retire: (id: string) => void this.gateway.retire(id),
      record: (d: Parameters<JobStore['recordDecision']>[0]) => this.store.recordDecision(d),
      capacity: () => this.config.autoscaler.capacity ?? null,
      resourceLimit: (type: string) => this.resourceLimit(type),
    };
  }

  /**
   * The type's workers as the autoscaler counts them: the gateway's, and on Kubernetes each pool
   * pod no worker is bound to whose worker has not connected yet, as a starting worker. Those are
   * an earlier gaffer process's pods (a restart leaves them running: their workers reconnect as
   * `remote-<pod>`) or replacements the ReplicaSet made; uncounted, a restarted gaffer would
   * start the whole pool again beside them, past `scaling.max`, at every restart.
   */
  #scalingWorkers(typeName: string): WorkerInfo[] {
    const workers = this.gateway.workers(typeName);
    if (!this.#onKubernetes(typeName)) return workers;
    const type = this.#catalog.type(typeName);
    if (type?.mode !== 'pool') return workers;
    const known = new Set(workers.map((w) => w.id));
    for (const pod of this.kubernetes!.unboundPods(typeName)) {
      const id = `remote-${pod}`;
      if (known.has(id)) continue;
      workers.push({
        id,
        type: typeName,
        mode: 'pool',
        state: 'starting',
        active: 0,
        concurrency: type.concurrency,
        startedAt: this.clock.now(),
        idleSince: null,
        pid: null,
      });
    }
    return workers;
  }

  async #startWorkers(typeName: string, count: number): Promise<void> {
    const type = this.#catalog.type(typeName);
    if (!type || !this.runnable(typeName)) return;
    const spec = this.#specFor(typeName, type);
    const admitted = this.#onKubernetes(typeName) ? this.kubernetes!.admit(typeName, count) : count;
    // Claims go one by one (each is a store transaction); starts overlap, so a Kubernetes Job's
    // creation round trip does not serialise the others (the client's rate limit paces them).
    const starting: Promise<void>[] = [];
    for (let i = 0; i < admitted; i++) {
      const workerId = `${this.instance}-${typeName}-${++this.#seq}`;
      const worker = {
        id: workerId,
        type: typeName,
        mode: type.mode,
        concurrency: type.mode === 'pool' ? type.concurrency : 1,
      };
      if (type.mode === 'per-job') {
        const [job] = await this.service.claim(typeName, workerId, 1, 'starting');
        if (!job) break;
        if (job.resources) this.#jobResources.set(workerId, job.resources);
        this.gateway.register(worker, job);
        starting.push(this.executor.start({ workerId, spec, jobId: job.id, job }));
      } else {
        this.gateway.register(worker);
        starting.push(this.executor.start({ workerId, spec }));
      }
    }
    await Promise.all(starting);
  }

  #specFor(name: string, type: JobTypeConfig): WorkerSpec {
    return {
      type: name,
      mode: type.mode,
      concurrency: type.concurrency,
      ...(type.worker.command ? { command: type.worker.command } : {}),
      ...(type.worker.handler ? { handler: type.worker.handler } : {}),
      env: type.worker.env,
      ...(type.worker.cwd ? { cwd: type.worker.cwd } : {}),
      scratchDir: path.resolve(this.config.store.dataDir, 'scratch'),
      ...(type.mode === 'pool' && this.#brokerRef(type.queue)
        ? { broker: this.#brokerRef(type.queue)! }
        : {}),
      heartbeatMs: this.#heartbeatMs(),
      killGraceMs: 5000,
      storage: this.config.storage,
    };
  }

  #heartbeatMs(): number {
    return Math.max(50, Math.floor(this.config.leases.ttlMs / 3));
  }

  /**
   * Workers of a type the executor has room for now, those it has included (null: no limit):
   * the autoscaler's resource-aware cap. On Kubernetes, what admission and the nodes' allocatable
   * allow; locally, what `executor.local` fits of the type's `worker.resources`.
   */
  resourceLimit(typeName: string): number | null {
    const room = this.room(typeName);
    // Draining workers are not capacity to the policy (rules.ts countWorkers), but they hold
    // their resources until they exit, which `room` has already subtracted.
    const current = this.#scalingWorkers(typeName).filter((w) => w.state !== 'draining').length;
    return room === null ? null : current + room;
  }

  /** More workers of a type the executor has room for now (null: no limit). */
  room(typeName: string): number | null {
    return this.#onKubernetes(typeName)
      ? this.kubernetes!.room(typeName)
      : this.#localRoom(typeName);
  }

  /** Whether the type's workers are Kubernetes's (not local, not functions in this process). */
  #onKubernetes(typeName: string): boolean {
    return this.kubernetes !== null && !this.#handlers.has(typeName);
  }

  #localRoom(typeName: string): number | null {
    const share = (name: string) => perWorker(this.#catalog.type(name)?.worker.resources);
    const held = { cpu: 0, memory: 0 };
    const live = new Set<string>();
    for (const w of this.gateway.workers()) {
      live.add(w.id);
      // A per-job worker holds what its job asked for (workerShare), others their type's share.
      const own = this.#jobResources.get(w.id);
      const r = own
        ? workerShare(this.#catalog.type(w.type)?.worker.resources, own)
        : share(w.type);
      held.cpu += r.cpu;
      held.memory += r.memory;
    }
    for (const id of this.#jobResources.keys()) if (!live.has(id)) this.#jobResources.delete(id);
    return localRoom({ capacity: this.#machine, perWorker: share(typeName), held });
  }

  /**
   * Whether this executor can run the type: locally, a command or a handler; on Kubernetes, an
   * image (per-job: a Job per attempt; pool: a worker Deployment whose image holds `gaffer`);
   * anywhere, a function given in code. Other types are not scaled (every tick would start
   * nothing).
   */
  runnable(typeName: string): boolean {
    const type = this.#catalog.type(typeName);
    if (!type) return false;
    if (this.#handlers.has(typeName)) return true;
    if (this.kubernetes) return Boolean(type.worker.image);
    return Boolean(type.worker.command || type.worker.handler);
  }
}

/**
 * The Kubernetes executor's modules, imported only when `executor.kind` is kubernetes:
 * @kubernetes/client-node alone is ~88 MB of resident memory, which a local gaffer never uses.
 * `Orchestrator.open` loads them before constructing; the constructor takes them from here.
 */
type KubeModules = typeof KubeClientModule & typeof KubeExecutorModule & typeof KubeLeaseModule;
let kubernetesModules: KubeModules | null = null;

export async function loadKubernetes(): Promise<void> {
  const [client, executor, lease] = await Promise.all([
    import('./executors/kubernetes/client.ts'),
    import('./executors/kubernetes/index.ts'),
    import('./executors/kubernetes/leader-lease.ts'),
  ]);
  kubernetesModules ??= { ...client, ...executor, ...lease };
}

function kubeModules(): KubeModules {
  if (!kubernetesModules) {
    throw new Error(
      'the Kubernetes executor is loaded by Orchestrator.open (or await loadKubernetes() first)',
    );
  }
  return kubernetesModules;
}

export function catalogOf(config: ResolvedConfig): Catalog {
  return createCatalog({
    jobTypes: config.jobTypes,
    rules: config.routes.rules ?? [],
    cost: config.routes.cost,
    adhoc: config.adhoc,
    dataRoots: config.storage.local.roots,
    uploadType: config.routes.uploadType,
  });
}
