import type { ResolvedConfig } from '../config/load.ts';
import type { Executor } from '../executors/executor.ts';
import type { Catalog } from './catalog.ts';
import type { JobService } from './service.ts';
import type { WorkerGateway } from './worker-gateway.ts';
import { workerSpec } from './worker-spec.ts';

/**
 * Starts workers of a type on the autoscaler's word. Invariants: a worker is registered with the
 * gateway before its process starts, so its hello finds it; a per-job worker is started only for
 * a job already claimed for it (`starting`), one claim per worker, and no more are started than
 * the executor admits or jobs are ready. Worker ids are `<instance>-<type>-<n>`: the instance
 * prefix tells a later process which leases were this one's (orphans).
 */
export interface WorkerLauncherDeps {
  instance: string;
  catalog(): Pick<Catalog, 'type'>;
  config(): Pick<ResolvedConfig, 'store' | 'broker' | 'leases' | 'storage'>;
  service: Pick<JobService, 'claim'>;
  gateway: Pick<WorkerGateway, 'register'>;
  executor: Pick<Executor, 'start' | 'admit' | 'canRun'>;
}

export class WorkerLauncher {
  readonly #d: WorkerLauncherDeps;
  #seq = 0;

  constructor(deps: WorkerLauncherDeps) {
    this.#d = deps;
  }

  async start(typeName: string, count: number): Promise<void> {
    const { catalog, service, gateway, executor } = this.#d;
    const type = catalog().type(typeName);
    if (!type || executor.canRun?.(typeName) === false) return;
    const spec = workerSpec(this.#d.config(), typeName, type);
    const admitted = executor.admit?.(typeName, count) ?? count;
    // Claims go one by one (each is a store transaction); starts overlap, so one start's round
    // trip (a Kubernetes Job's creation) does not serialise the others.
    const starting: Promise<void>[] = [];
    for (let i = 0; i < admitted; i++) {
      const workerId = `${this.#d.instance}-${typeName}-${++this.#seq}`;
      const concurrency = type.mode === 'pool' ? type.concurrency : 1;
      const worker = { id: workerId, type: typeName, mode: type.mode, concurrency };
      if (type.mode === 'per-job') {
        const [job] = await service.claim(typeName, workerId, 1, 'starting');
        if (!job) break;
        gateway.register(worker, job);
        starting.push(executor.start({ workerId, spec, jobId: job.id, job }));
      } else {
        gateway.register(worker);
        starting.push(executor.start({ workerId, spec }));
      }
    }
    await Promise.all(starting);
  }
}
