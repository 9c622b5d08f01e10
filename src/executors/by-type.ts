import type { Executor, StartRequest } from './executor.ts';

/**
 * Two executors behind one: types given in code run `inProcess`, every other type on `base` (the
 * configured executor). A worker stays with the executor that started it: kills and `stopped`
 * go there. `workerIdFor` is the base's (only networked workers name themselves, and in-process
 * workers never connect over the network).
 */
export function byType(
  inProcess: Executor,
  base: Executor,
  isInProcess: (type: string) => boolean,
): Executor {
  const owner = new Map<string, Executor>();
  const of = (workerId: string) => owner.get(workerId) ?? base;
  const combined: Executor = {
    name: `${base.name}+${inProcess.name}`,
    start(req: StartRequest) {
      const executor = isInProcess(req.spec.type) ? inProcess : base;
      owner.set(req.workerId, executor);
      return executor.start(req);
    },
    kill: (workerId, graceMs) => of(workerId).kill(workerId, graceMs),
    async close() {
      await Promise.all([inProcess.close(), base.close()]);
    },
    stopped(workerId, clean) {
      of(workerId).stopped?.(workerId, clean);
      owner.delete(workerId);
    },
  };
  if (base.workerIdFor) combined.workerIdFor = base.workerIdFor.bind(base);
  return combined;
}
