import { ControlLoop } from './autoscaler/control-loop.ts';
import { scalingTarget, type ExecutorView } from './autoscaler/scaling-target.ts';
import type { ResolvedConfig } from './config/load.ts';
import type { TimedClock } from './domain/clock.ts';
import type { GafferEvents } from './domain/events.ts';
import type { Logger } from './domain/logger.ts';
import type { Executor } from './executors/executor.ts';
import * as registry from './executors/registry.ts';
import type { Catalog } from './jobs/catalog.ts';
import { executorHooks } from './jobs/events-wiring.ts';
import { chooseLeaderLease, Leadership } from './jobs/leadership.ts';
import type { JobService } from './jobs/service.ts';
import type { WorkerAddress } from './jobs/worker-address.ts';
import type { WorkerGateway } from './jobs/worker-gateway.ts';
import { WorkerLauncher } from './jobs/worker-launcher.ts';
import { heartbeatMs, workerSpec } from './jobs/worker-spec.ts';
import { ScheduleRunner } from './schedules/runner.ts';
import type { JobStore } from './store/job-store.ts';
import type { JobHandler } from './worker/handler.ts';

/**
 * What starts, stops and schedules work, wired over the services: the executors (one per kind,
 * routed by job type), the launcher, the autoscaler's view of them and its control loop, and the
 * leader's duties — the control loop (when autoscaling) and the cron schedules — with who does
 * them. Wiring only: each part keeps its own policy, and the composition root its lifecycle.
 */
export interface ScalingDeps {
  /** The config at start: executors are built once from it. */
  config: ResolvedConfig;
  /** The config in force now (a reload replaces it). */
  current: () => ResolvedConfig;
  catalog: () => Catalog;
  store: JobStore;
  service: JobService;
  gateway: WorkerGateway;
  events: GafferEvents;
  clock: TimedClock;
  /** The logger child of a component, by name. */
  log: (component: string) => Logger;
  /** This process's worker id prefix, and its holder name for the leader lease. */
  instance: string;
  /** Whether the control loop runs (one of the leader's duties). */
  autoscale: boolean;
  address: WorkerAddress;
  factories: registry.ExecutorFactories;
  handlers: ReadonlyMap<string, JobHandler>;
}

export interface Scaling {
  executor: Executor;
  executors: ReadonlyMap<string, Executor>;
  view: ExecutorView;
  loop: ControlLoop;
  schedules: ScheduleRunner;
  leadership: Leadership;
}

export function assembleScaling(d: ScalingDeps): Scaling {
  const { config, catalog, store, service, gateway, clock, events } = d;
  const jobType = (name: string) => catalog().type(name);
  const built = registry.createExecutors(
    config,
    {
      ...{ config, jobType, clock, workerToken: d.address.token },
      log: d.log('executor'),
      hooks: executorHooks(gateway, d.log('executor'), () => loop.poke()),
      workerSpec: (name) => jobType(name) && workerSpec(d.current(), name, jobType(name)!),
      heartbeatMs: heartbeatMs(config),
      gafferUrl: () => d.address.url(),
    },
    d.factories,
    d.handlers,
  );
  const { executor } = built;
  const launcher = new WorkerLauncher({
    ...{ instance: d.instance, catalog, service, gateway, executor },
    config: d.current,
  });
  const view = scalingTarget({
    ...{ catalog, store, gateway, executor, clock, service },
    start: (type, count) => launcher.start(type, count),
    capacity: () => d.current().autoscaler.capacity ?? null,
  });
  const { intervalMs, leaderTtlMs: ttlMs } = config.autoscaler;
  const loop = new ControlLoop({
    target: view,
    clock,
    events,
    intervalMs,
    log: d.log('autoscaler'),
  });
  const schedules = new ScheduleRunner({
    ...{ store, clock, jobs: service, log: d.log('schedules') },
    configured: () => d.current().schedules,
  });
  const leadership = new Leadership({
    ...{ ttlMs, clock, events, holder: d.instance },
    lease: chooseLeaderLease(built.leaderLease, store),
    duties: [
      ...(d.autoscale ? [loop] : []),
      { start: () => schedules.lead(), stop: () => schedules.follow() },
    ],
  });
  return { executor, executors: built.executors, view, loop, schedules, leadership };
}
