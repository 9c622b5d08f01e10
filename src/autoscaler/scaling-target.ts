import type { Clock } from '../domain/clock.ts';
import type { ScalingDecision, WorkerInfo } from '../domain/events.ts';
import { capability, type Executor } from '../executors/executor.ts';
import type { Catalog } from '../jobs/catalog.ts';
import type { JobService } from '../jobs/service.ts';
import type { WorkerGateway } from '../jobs/worker-gateway.ts';
import type { JobStore } from '../store/job-store.ts';
import type { ScalingTarget } from './control-loop.ts';
import type { FlowObservation } from './policy.ts';

/**
 * What the control loop observes and acts on, from the catalog, the gateway and the executors.
 * Invariants: only types an executor can run now are scaled (an image-only type with no
 * Kubernetes executor would be "scaled" every tick to no effect); a type's workers are the
 * gateway's plus those its executor runs that have not connected yet (`unboundWorkers`, counted
 * as starting: a restarted gaffer must not start the pool again beside its pods, past
 * `scaling.max`); `max` is capped by the executor's room on top of the workers it counts.
 */
export interface ScalingTargetDeps {
  catalog(): Pick<Catalog, 'names' | 'type'>;
  store: Pick<JobStore, 'queueStats' | 'recordDecision' | 'dueWithin'>;
  gateway: Pick<WorkerGateway, 'workers' | 'retire' | 'notify'>;
  executor: Pick<Executor, 'canRun' | 'room' | 'unboundWorkers'>;
  start(type: string, count: number): Promise<void>;
  clock: Pick<Clock, 'now'>;
  /** `autoscaler.capacity` as configured now. */
  capacity(): number | null;
  /** The types paused now (durable state, read every tick). */
  service: Pick<JobService, 'pausedTypes'>;
}

export interface ExecutorView extends ScalingTarget {
  /** Whether a worker of the type can be started here now. */
  runnable(type: string): boolean;
  /** More workers of the type the executor has room for now (null: no limit). */
  room(type: string): number | null;
  /** Workers of the type the executor has room for now, those it counts included (null: no limit). */
  resourceLimit(type: string): number | null;
}

export function scalingTarget(d: ScalingTargetDeps): ExecutorView {
  const runnable = (name: string) =>
    d.catalog().type(name) !== undefined && capability.canRun(d.executor, name);
  const room = (name: string) => capability.room(d.executor, name);
  const workers = (name: string): WorkerInfo[] => {
    const list = d.gateway.workers(name);
    const type = d.catalog().type(name);
    const known = new Set(list.map((w) => w.id));
    for (const id of capability.unboundWorkers(d.executor, name)) {
      if (known.has(id) || !type) continue;
      list.push({
        id,
        type: name,
        mode: type.mode,
        state: 'starting',
        active: 0,
        concurrency: type.concurrency,
        startedAt: d.clock.now(),
        idleSince: null,
        pid: null,
      });
    }
    return list;
  };
  return {
    types: () =>
      d
        .catalog()
        .names()
        .filter(runnable)
        .map((name) => {
          const t = d.catalog().type(name)!;
          return { name, mode: t.mode, concurrency: t.concurrency, scaling: t.scaling };
        }),
    queueStats: (now) => d.store.queueStats(now),
    dueWithin: async (type, now, upTo) => {
      const due = await d.store.dueWithin(type, now, upTo);
      return due.firstAt === null ? null : { count: due.count, firstAt: due.firstAt };
    },
    workers,
    start: (type, count) => d.start(type, count),
    retire: (id) => void d.gateway.retire(id),
    record: (decision: ScalingDecision) => d.store.recordDecision(decision),
    fellDue: (type) => d.gateway.notify(type),
    capacity: () => d.capacity(),
    flow: () => flowOf(d),
    resourceLimit(name) {
      const more = room(name);
      // Draining workers are not capacity to the policy (rules.ts countWorkers), but they hold
      // their resources until they exit, which `room` has already subtracted.
      const current = workers(name).filter((w) => w.state !== 'draining').length;
      return more === null ? null : current + more;
    },
    runnable,
    room,
  };
}

/** Per type that is paused or rate-limited: what the policy caps its demand by. */
async function flowOf(
  d: Pick<ScalingTargetDeps, 'catalog' | 'service'>,
): Promise<Map<string, FlowObservation>> {
  const paused = new Set((await d.service.pausedTypes()).map((p) => p.type));
  const flow = new Map<string, FlowObservation>();
  for (const name of d.catalog().names()) {
    const rate = d.catalog().type(name)?.rateLimit;
    if (!paused.has(name) && !rate) continue;
    const startsPerSecond = rate ? rate.starts / rate.perSeconds : null;
    flow.set(name, { paused: paused.has(name), startsPerSecond });
  }
  return flow;
}
