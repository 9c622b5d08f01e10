import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { JobTypeConfig } from '../../config/schema.ts';
import type { Outcome } from '../../domain/job.ts';
import type { Logger } from '../../domain/logger.ts';
import type { ExecutorHooks, StartRequest } from '../executor.ts';
import type { KubeApi } from './api.ts';
import type { Watched } from './informers.ts';
import { jobManifest } from './job-manifest.ts';
import type { TimedClock } from '../../domain/clock.ts';
import { createVirtualWorker, failed, type VirtualWorker } from './virtual-worker.ts';

/**
 * Per-job mode on Kubernetes: each attempt of a gaffer job is one batch/v1 Job, played as a
 * virtual worker (`virtual-worker.ts`). This keeps the attempts in flight, by Job name and by
 * worker id, routes the informers' events of their Jobs and pods to them, and heartbeats them.
 *
 * Contract: `start` connects the attempt's worker and creates its Job (`gaffer-<job id>-<attempt>`,
 * `job-manifest.ts`); an attempt is in flight from `start` until it is reported. `kill` deletes
 * the Job and reports an infrastructure failure. `close` ends every attempt as interrupted by the
 * stop (its Job deleted; the job goes back to the queue, the attempt not counted): like local
 * workers, no attempt outlives gaffer's executor.
 */
export interface PerJob {
  start(req: StartRequest): Promise<void>;
  owns(workerId: string): boolean;
  kill(workerId: string): void;
  close(): Promise<void>;
  /** Informer events: a Job, a pod (false: not the pod of an attempt's Job), a Job deleted. */
  onJob(job: V1Job): void;
  onPod(pod: V1Pod): boolean;
  onJobDeleted(job: V1Job): void;
  /** Attempts in flight: of a type, of every type, and those whose pod was not seen yet. */
  inFlight(type: string): number;
  total(): number;
  podless(): number;
}

export interface PerJobOptions {
  api: Pick<KubeApi, 'createJob' | 'deleteJob' | 'podLog' | 'throttleMs' | 'limit'>;
  namespace: string;
  hooks: ExecutorHooks;
  jobType(name: string): JobTypeConfig | undefined;
  gafferUrl(): Promise<string>;
  /** The Jobs informer's cache (a Job created before a restart is there already). */
  jobs: Pick<Watched<V1Job>, 'get'>;
  heartbeatMs: number;
  clock: TimedClock;
  log: Pick<Logger, 'error'>;
}

export function createPerJob(o: PerJobOptions): PerJob {
  const { hooks, namespace } = o;
  const runs = new Map<string, VirtualWorker>(); // by Job name
  const byWorker = new Map<string, VirtualWorker>();
  const heartbeat = o.clock.every(o.heartbeatMs, () => {
    for (const run of runs.values()) run.heartbeat();
  });
  const deps = {
    api: o.api,
    hooks,
    clock: o.clock,
    log: o.log,
    onEnd(run: VirtualWorker) {
      runs.delete(run.name);
      byWorker.delete(run.workerId);
    },
  };

  async function start(req: StartRequest): Promise<void> {
    const job = req.job;
    const type = job && o.jobType(job.type);
    if (!job || !type) {
      hooks.exited(req.workerId, null, null);
      throw new Error(`kubernetes executor: ${req.workerId} has no job or job type to run`);
    }
    const manifest = jobManifest({
      job,
      type,
      namespace,
      gafferUrl: await o.gafferUrl(),
      oomKills: job.error?.oomKills ?? 0,
    });
    const name = manifest.metadata.name;
    const run = createVirtualWorker(deps, {
      workerId: req.workerId,
      job,
      name,
      kubeJob: o.jobs.get(name, namespace),
    });
    runs.set(name, run);
    byWorker.set(req.workerId, run);
    await run.run(manifest);
  }

  function onPod(p: V1Pod): boolean {
    const name = p.metadata?.labels?.['batch.kubernetes.io/job-name'];
    const run = name ? runs.get(name) : undefined;
    run?.podChanged(p);
    return run !== undefined;
  }

  async function close(): Promise<void> {
    heartbeat.cancel();
    const stopped: Outcome = {
      status: 'failed',
      error: { class: 'infrastructure', message: 'gaffer stopped', interrupted: true },
    };
    await Promise.all([...runs.values()].map((run) => run.stop(stopped)));
  }

  return {
    start,
    owns: (workerId) => byWorker.has(workerId),
    kill(workerId) {
      void byWorker.get(workerId)?.stop(failed('infrastructure', 'the Job was stopped by gaffer'));
    },
    close,
    onJob: (j) => runs.get(j.metadata?.name ?? '')?.jobChanged(j),
    onPod,
    onJobDeleted: (j) => runs.get(j.metadata?.name ?? '')?.jobDeleted(),
    inFlight: (type) => [...runs.values()].filter((r) => r.job.type === type).length,
    total: () => runs.size,
    podless: () => [...runs.values()].filter((r) => !r.hasPod()).length,
  };
}
