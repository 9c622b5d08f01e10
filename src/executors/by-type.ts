import type { Executor, StartRequest } from './executor.ts';

/**
 * Several executors behind one, routed by job type: `kindOf(type)` names the executor that runs
 * the type's workers (types given in code: in-process; the others: their `executor`, else
 * `executor.kind`). The type's capabilities — canRun, room, admit, unboundWorkers,
 * replacesWorkers — are that executor's; a type whose executor is not running here cannot run.
 *
 * A worker stays with the executor that started it: kills, `stopped` and `isLocal` go there. A
 * worker no executor started here (a pool pod that reconnected after a restart) is offered to
 * each: kills and `stopped` ignore ids they do not know. A connection's worker id is the first
 * executor's translation that differs from the id it gave; ready/close wait for all.
 */
export function byType(
  executors: ReadonlyMap<string, Executor>,
  kindOf: (type: string) => string,
): Executor {
  const all = [...executors.values()];
  const owner = new Map<string, Executor>();
  const forType = (type: string) => executors.get(kindOf(type));
  const owners = (workerId: string) => {
    const e = owner.get(workerId);
    return e ? [e] : all;
  };
  const combined: Executor = {
    name: [...executors.values()].map((e) => e.name).join('+'),
    start(req: StartRequest) {
      const executor = forType(req.spec.type);
      if (!executor) return Promise.reject(new Error(`no executor runs type ${req.spec.type}`));
      owner.set(req.workerId, executor);
      return executor.start(req);
    },
    kill: (workerId, graceMs) => {
      for (const e of owners(workerId)) e.kill(workerId, graceMs);
    },
    async close() {
      await Promise.all(all.map((e) => e.close()));
    },
    stopped(workerId, clean) {
      for (const e of owners(workerId)) e.stopped?.(workerId, clean);
      owner.delete(workerId);
    },
    async ready() {
      await Promise.all(all.map((e) => e.ready?.()));
    },
    canRun: (type) => {
      const e = forType(type);
      return e !== undefined && (e.canRun?.(type) ?? true);
    },
    room: (type) => forType(type)?.room?.(type) ?? null,
    admit: (type, wanted) => {
      const e = forType(type);
      return e ? (e.admit?.(type, wanted) ?? wanted) : 0;
    },
    unboundWorkers: (type) => forType(type)?.unboundWorkers?.(type) ?? [],
    replacesWorkers: (type, was, now) => forType(type)?.replacesWorkers?.(type, was, now) ?? false,
    isLocal: (workerId) => owner.get(workerId)?.isLocal?.(workerId) ?? false,
    localCapacity: () => {
      for (const e of all) {
        const capacity = e.localCapacity?.();
        if (capacity) return capacity;
      }
      return null;
    },
  };
  if (all.some((e) => e.workerIdFor)) {
    combined.workerIdFor = (connectingId) => {
      for (const e of all) {
        if (!e.workerIdFor) continue;
        const id = e.workerIdFor(connectingId);
        if (id !== connectingId) return id;
      }
      return connectingId;
    };
  }
  return combined;
}
