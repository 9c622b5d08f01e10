import { capability } from './executors/executor.ts';
import { AuditService } from './jobs/audit.ts';
import { BatchService } from './jobs/batches.ts';
import { QueueView } from './jobs/queue-view.ts';
import type { MetricsSources } from './metrics/metrics.ts';
import type { Orchestrator } from './orchestrator.ts';
import { ScheduleService } from './schedules/service.ts';

/**
 * The services the front ends (HTTP, gRPC, the library) call besides `JobService`, and what they
 * read of the executor, so that none of them reaches into a store or an executor.
 */
export interface Services {
  batches: BatchService;
  queues: QueueView;
  audit: AuditService;
  /** Cron schedules: list, declare through the API, pause, resume, trigger. */
  schedules: ScheduleService;
  /** What `/metrics` reads at scrape time. */
  metrics: MetricsSources;
  /**
   * The worker id a connecting process is known by: the executor translates the name it gives
   * (a Kubernetes pool pod: its pod name); null refuses a process being removed.
   */
  workerIdFor(named: string): string | null;
}

type Parts = Pick<
  Orchestrator,
  | 'store'
  | 'service'
  | 'gateway'
  | 'loop'
  | 'throughput'
  | 'clock'
  | 'events'
  | 'catalog'
  | 'config'
  | 'room'
  | 'runnable'
  | 'executor'
>;

/** Builds the services over the orchestrator's parts; reads its catalog and config when called. */
export function createServices(orch: Parts): Services {
  const { store, clock, gateway } = orch;
  return {
    batches: new BatchService({ service: orch.service, store, clock, events: orch.events }),
    queues: new QueueView({
      store,
      gateway,
      lastDecisions: () => orch.loop.lastDecisions(),
      throughput: orch.throughput,
      catalog: () => orch.catalog,
      capacity: () => orch.config.autoscaler.capacity ?? null,
      room: (type) => orch.room(type),
      runnable: (type) => orch.runnable(type),
      clock,
      flowHold: (job) => orch.service.flowHold(job),
      pausedTypes: () => orch.service.pausedTypes(),
    }),
    audit: new AuditService({ store, clock }),
    schedules: new ScheduleService({
      store,
      jobs: orch.service,
      clock,
      configured: () => orch.config.schedules,
      catalog: () => orch.catalog,
    }),
    metrics: {
      queueStats: (now) => store.queueStats(now),
      workers: () => gateway.workers(),
      now: () => clock.now(),
      throughput: orch.throughput,
      desired: () => orch.loop.lastDecisions(),
      types: () =>
        orch.catalog.names().map((name) => ({
          name,
          timeoutSeconds: orch.catalog.type(name)!.timeoutSeconds,
        })),
      isLocal: (w) => capability.isLocal(orch.executor, w.id),
      localCapacity: capability.localCapacity(orch.executor),
    },
    workerIdFor: (named) => (orch.executor.workerIdFor ? orch.executor.workerIdFor(named) : named),
  };
}
