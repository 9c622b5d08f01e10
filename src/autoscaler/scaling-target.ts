import type { Clock } from '../domain/clock.ts';
import type { ScalingDecision, WorkerInfo } from '../domain/events.ts';
import type { Executor } from '../executors/executor.ts';
import type { Catalog } from '../jobs/catalog.ts';
import type { WorkerGateway } from '../jobs/worker-gateway.ts';
import type { JobStore } from '../store/job-store.ts';
import type { ScalingTarget } from './control-loop.ts';

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
  store: Pick<JobStore, 'queueStats' | 'recordDecision'>;
  gateway: Pick<WorkerGateway, 'workers' | 'retire'>;
  executor: Pick<Executor, 'canRun' | 'room' | 'unboundWorkers'>;
  start(type: string, count: number): Promise<void>;
  clock: Pick<Clock, 'now'>;
  /** `autoscaler.capacity` as configured now. */
  capacity(): number | null;
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
    d.catalog().type(name) !== undefined && (d.executor.canRun?.(name) ?? true);
  const room = (name: string) => d.executor.room?.(name) ?? null;
  const workers = (name: string): WorkerInfo[] => {
    const list = d.gateway.workers(name);
    const type = d.catalog().type(name);
    const known = new Set(list.map((w) => w.id));
    for (const id of d.executor.unboundWorkers?.(name) ?? []) {
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
    workers,
    start: (type, count) => d.start(type, count),
    retire: (id) => void d.gateway.retire(id),
    record: (decision: ScalingDecision) => d.store.recordDecision(decision),
    capacity: () => d.capacity(),
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
