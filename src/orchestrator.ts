import { randomUUID } from 'node:crypto';
import { openDataFolder } from './data-folder.ts';
import type { ReloadResult } from './config/diff.ts';
import type { ResolvedConfig } from './config/load.ts';
import type { ConfigReloader } from './config/watch.ts';
import { systemClock, withTimers, type TimedClock } from './domain/clock.ts';
import { GafferEvents } from './domain/events.ts';
import type { Job } from './domain/job.ts';
import { withChildren, type ParentLogger } from './domain/logger.ts';
import { capability, type Executor } from './executors/executor.ts';
import * as registry from './executors/registry.ts';
import { BrokerBridge } from './jobs/broker-bridge.ts';
import { catalogOf, type Catalog } from './jobs/catalog.ts';
import { drainAll, wireEvents } from './jobs/events-wiring.ts';
import { brokerParking } from './jobs/key-parking.ts';
import { Reconciler } from './jobs/reconciler.ts';
import { applyReload, prepareReload } from './jobs/reload.ts';
import { JobService } from './jobs/service.ts';
import { Throughput } from './jobs/throughput.ts';
import { WorkerGateway } from './jobs/worker-gateway.ts';
import { WorkerAddress } from './jobs/worker-address.ts';
import { HistorySampler, readHistoryState } from './history/index.ts';
import { assembleScaling, type Scaling } from './scaling.ts';
import { createServices, type Services } from './services.ts';
import { createLogger } from './log/logger.ts';
import type { DataDirLock } from './store/data-dir-lock.ts';
import type { JobStore } from './store/job-store.ts';
import { openParts } from './orchestrator-open.ts';
import type { OrchestratorOptions, StopSummary } from './orchestrator-options.ts';

export type { OrchestratorOptions, StopSummary } from './orchestrator-options.ts';

/**
 * The composition root: config → store → services → executors → autoscaler, and their lifecycle.
 * Everything the API and the CLI's `up` need hangs off this object; the policies are the parts'
 * (ARCHITECTURE.md, "Component map").
 */
export class Orchestrator {
  /** gaffer's log; each component logs through its child, named by `component`. */
  readonly log: ParentLogger;
  readonly events: GafferEvents;
  /** The config in force: replaced by `reload` (its live sections only, see config/diff.ts). */
  #config: ResolvedConfig;
  /** Re-reads the config file and reloads (set by `gaffer up` when given a file), else null. */
  reloader: ConfigReloader | null = null;
  readonly clock: TimedClock;
  readonly store: JobStore;
  readonly service: JobService;
  readonly gateway: WorkerGateway;
  readonly loop: Scaling['loop'];
  /** Jobs finished per type over the last minute (metrics, and queued jobs' estimated start). */
  readonly throughput: Throughput;
  /** Every executor behind one, routed by job type (executors/by-type.ts). */
  readonly executor: Executor;
  /** Each executor by kind: `local`, `kubernetes`, `in-process` (executors/registry.ts). */
  readonly executors: ReadonlyMap<string, Executor>;
  /** Queue depth, throughput and workers per type over the last hour (the dashboard's charts). */
  readonly history: HistorySampler;
  /** What the front ends call besides `service`: batches, the queue view, the audit log. */
  readonly services: Services;
  /** Prefix of this process's local worker ids; leases of other prefixes are orphans on start. */
  readonly instance = `local-${randomUUID().slice(0, 8)}`;
  /** The token networked workers present at /v1/workers/connect (jobs/worker-address.ts). */
  readonly workerToken: string | undefined;
  readonly #address: WorkerAddress;
  readonly #reconciler: Reconciler;
  readonly #autoscale: boolean;
  /** The launcher's view, the control loop, the cron schedules and who leads (scaling.ts). */
  readonly #scaling: Scaling;
  readonly #bridge: BrokerBridge;
  #catalog: Catalog;
  /** One gaffer per data folder: held from before the store opens until it closes. */
  readonly #lock: DataDirLock | null;
  #stopping: Promise<void> | null = null;
  #closing: Promise<StopSummary> | null = null;

  constructor(options: OrchestratorOptions) {
    const root = withChildren(options.log ?? createLogger());
    const log = (component: string) => root.child({ component });
    this.log = root;
    this.events = new GafferEvents(log('events'));
    const { events } = this;
    const config = (this.#config = options.config);
    const clock = (this.clock = withTimers(options.clock ?? systemClock));
    this.#autoscale = options.autoscale ?? true;
    const folder = openDataFolder(config, log('data-folder'), options);
    this.#lock = folder.lock;
    const store = (this.store = folder.store);
    this.#catalog = catalogOf(config);
    const catalog = () => this.#catalog;
    const poke = () => void (this.#autoscale && this.loop.poke());
    const due = (type: string) => (this.gateway.notify(type), poke());
    const parking = brokerParking({
      config,
      keyLimit: (type) => this.#catalog.type(type)?.keyLimit,
      jobs: store,
      publish: (jobs) => bridge.publish(jobs),
      log: log('broker'),
    });
    const startable = parking
      ? (type: string, jobs: readonly Job[]) =>
          parking.startable(type, jobs, (job) => this.service.flowHold(job))
      : undefined;
    const bridge = new BrokerBridge({
      ...{ config, store, catalog, clock, log: log('broker'), due },
      ...(startable ? { startable } : {}),
    });
    this.#bridge = bridge;
    const service = new JobService({
      ...{ store, clock, events, catalog, leaseTtlMs: config.leases.ttlMs },
      log: log('service'),
      resultBytes: () => this.config.retention.resultBytes,
      ...(config.broker.kind === 'none' ? {} : { publish: (jobs) => bridge.publish(jobs) }),
    });
    const gateway = new WorkerGateway({
      ...{ service, store, events, clock, log: log('gateway') },
      ...(parking ? { parking } : {}),
    });
    const address = new WorkerAddress(config);
    this.service = service;
    this.gateway = gateway;
    this.#address = address;
    this.throughput = new Throughput(events, clock);
    this.workerToken = address.token;
    const scaling = (this.#scaling = assembleScaling({
      ...{ config, store, service, gateway, events, clock, log, address },
      ...{ instance: this.instance, autoscale: this.#autoscale, catalog },
      current: () => this.config,
      factories: options.executorFactories ?? registry.LOCAL_ONLY,
      handlers: options.handlers ?? new Map(),
    }));
    const { executor } = scaling;
    [this.executor, this.executors, this.loop] = [executor, scaling.executors, scaling.loop];
    this.#reconciler = new Reconciler({
      ...{ service, store, gateway, clock, log: log('reconciler') },
      types: () => this.#catalog.names(),
      republish: () => this.republishMissing(),
      retention: () => this.config.retention,
    });
    const types = () => this.#catalog.names();
    const read = readHistoryState({ store, types, workers: (t) => gateway.workers(t) });
    this.history = new HistorySampler({ clock, events, read, log: log('history') });
    this.services = createServices(this);
    wireEvents({ events, gateway, executor, bridge, poke, ...(parking ? { parking } : {}) });
  }

  /** The API listens at `address`: networked workers connect there (jobs/worker-address.ts). */
  listening(address: string): void {
    this.#address.listening(address);
    this.#lock?.serving(address);
  }

  get catalog(): Catalog {
    return this.#catalog;
  }

  get config(): ResolvedConfig {
    return this.#config;
  }

  /**
   * Applies what can change live and reports the rest (jobs/reload.ts). The swap is one
   * assignment: readers go through the getters, so a submission sees the old catalog or the new.
   */
  async reload(next: ResolvedConfig): Promise<ReloadResult> {
    const prepared = await prepareReload(this.#bridge, this, next);
    if (!prepared.ok) return prepared.result;
    const previous = this.#catalog;
    [this.#catalog, this.#config] = [prepared.catalog, prepared.config];
    applyReload(this, previous, prepared);
    if (this.#autoscale) this.loop.poke();
    return prepared.result;
  }

  /** Builds on the executors and store the config uses, opened first (orchestrator-open.ts). */
  static async open(options: Omit<OrchestratorOptions, 'store'>): Promise<Orchestrator> {
    const opened = await openParts(options);
    try {
      return new Orchestrator(opened.options);
    } catch (err) {
      await opened.close();
      throw err;
    }
  }

  /**
   * Recovers what a previous process left in flight (not with a shared store: other replicas'
   * workers live; lease expiry covers them), then starts the loops; the autoscaler's, when leading.
   */
  async start(): Promise<void> {
    await capability.ready(this.executor);
    await this.#bridge.connect();
    if (this.config.store.kind === 'sqlite') {
      await this.#reconciler.recoverOrphans('local-', this.instance);
    }
    this.#reconciler.start(this.config.leases.sweepMs);
    this.history.start();
    await this.#scaling.leadership.start();
  }

  /** Whether this replica runs the autoscaler now (false without a leader lease). */
  get leading(): boolean {
    return this.#scaling.leadership.leading;
  }

  /** Broker mode: republishes missing messages (jobs/broker-bridge.ts); only the leader does. */
  async republishMissing(): Promise<number> {
    if (this.#scaling.leadership.shared && this.#autoscale && !this.leading) return 0;
    return this.#bridge.republishMissing();
  }

  /** One reconciler pass now (tests, and operators after a clock jump): expired leases retried. */
  sweep(): Promise<number> {
    return this.#reconciler.sweep();
  }

  /**
   * A graceful stop's first half: no more scaling, every worker drained (invariant 5). True once
   * all have exited; false after `timeoutMs` with some busy (`close` stops them, jobs retried).
   */
  drain(timeoutMs: number): Promise<boolean> {
    this.loop.stop();
    return drainAll(this, timeoutMs);
  }

  /**
   * A stop's first half: no more scaling or sweeps, nothing handed out, every worker stopped now
   * (each job's tree SIGTERM, then SIGKILL after its kill grace), resolving once all are gone.
   * Their jobs go back to the queue, no attempt spent, recorded before `close` closes the store.
   * The API keeps serving meanwhile (networked workers report over it).
   */
  stopWorkers(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#scaling.leadership.stop(); // the autoscaler and the schedules stop with it
      this.loop.stop();
      await this.#scaling.schedules.stop(); // a pass under way submits before the store closes
      this.#reconciler.stop();
      this.#bridge.stop();
      this.#address.stop();
      await this.loop.idle(); // a tick may be starting workers: they are stopped with the rest
      this.gateway.stopping();
      await this.executor.close();
    })();
    return this.#stopping;
  }

  /**
   * Stops every worker (`stopWorkers`), records what became of their jobs, closes the store and
   * releases the data folder; resolves with the jobs handed back. After a kill -9 nothing is
   * recorded: the next start retries those jobs as after a crash (an attempt is spent).
   */
  close(): Promise<StopSummary> {
    this.#closing ??= (async () => {
      await this.stopWorkers();
      await this.history.stop();
      // Every exit's hand-back (and worker event) is written before the store closes.
      await this.gateway.recorded();
      const { handedBack, unrecorded } = this.gateway.stopped;
      this.gateway.close();
      await this.#bridge.close();
      await this.store.close();
      this.#lock?.release();
      return { handedBack: [...handedBack], unrecorded: [...unrecorded] };
    })();
    return this.#closing;
  }

  /** More workers of the type its executor has room for now (null: no limit). */
  room = (type: string): number | null => this.#scaling.view.room(type);
  /** Whether an executor here can run the type as configured now (else it is not scaled). */
  runnable = (type: string): boolean => this.#scaling.view.runnable(type);
}
