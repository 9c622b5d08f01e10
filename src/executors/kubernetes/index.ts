import type { EventEmitter } from 'node:events';
import type { JobTypeConfig } from '../../config/schema.ts';
import type { Logger } from '../../domain/logger.ts';
import type { WorkerSpec } from '../../worker/protocol.ts';
import type { Executor, ExecutorHooks } from '../executor.ts';
import { createKubeApi } from './api.ts';
import type { KubeClient } from './client.ts';
import { createInformers } from './informers.ts';
import { createPerJob } from './per-job.ts';
import { createPool, type PoolEvents } from './pool.ts';
import { createRoom } from './room.ts';
import { systemClock, type TimedClock } from '../../domain/clock.ts';

/**
 * The Kubernetes executor: wiring only. Per-job types run each attempt as a batch/v1 Job played
 * as a virtual worker (`per-job.ts`, `virtual-worker.ts`); pool types as the pods of worker
 * Deployments, one per type and revision of its pod template (`pool.ts`). Both read the same
 * informers (`informers.ts`) and call the API through one narrow wrapper (`api.ts`), rate-limited
 * by the client (`client.ts`); `room.ts` answers admission and the autoscaler's resource limit.
 * Time and timers come from the injected clock (`TimedClock`, domain/clock.ts).
 *
 * Pods informer events go to the pool first (its pods), then to the attempts' Jobs.
 */

export interface KubernetesExecutorOptions {
  client: KubeClient;
  namespace: string;
  hooks: ExecutorHooks;
  /** A job type's definition (the manifest is built from it). */
  jobType(name: string): JobTypeConfig | undefined;
  /** Where pods reach gaffer's API (GAFFER_URL in their environment). */
  gafferUrl(): Promise<string>;
  /** Pool mode: the spec a worker of the type would be started with now (its current revision). */
  workerSpec(type: string): WorkerSpec | undefined;
  heartbeatMs: number;
  /** Jobs of every type in flight at once; null: no cap. */
  maxJobs: number | null;
  /** Admission (admission.ts): the scheduler's signal, and the nodes' free allocatable or not. */
  admission: { maxUnscheduled: number | null; nodes: boolean };
  /** Pool mode: the Secret and key worker pods read the worker token from. */
  workerTokenSecret: { name: string; key: string };
  /** API calls that failed and are retried or left to a backstop (a restarted watch, a delete). */
  log: Pick<Logger, 'warn' | 'error'>;
  /** Deadlines and timers (gaffer's timeouts, heartbeats, removal waits); real time by default. */
  clock?: TimedClock;
}

export interface KubernetesExecutor extends Executor {
  /** Informers listed and watching. */
  ready(): Promise<void>;
  /** How many of `wanted` more Jobs of a type may be created now (caps, then free capacity). */
  admit(type: string, wanted: number): number;
  room(type: string): number | null;
  /** Relists of a watch since the start (a 410 Gone, or a watch that failed and restarted). */
  readonly watchEvents: EventEmitter<{ relist: [resource: string] }>;
  /** Pool mode: pods bound to workers, idle pods removed. */
  readonly poolEvents: PoolEvents;
  workerIdFor(connectingId: string): string | null;
  stopped(workerId: string, clean: boolean): void;
  /** Pool mode: the type's pods no worker is bound to yet (see PoolScaler.unboundPods). */
  unboundPods(type: string): string[];
}

export function createKubernetesExecutor(options: KubernetesExecutorOptions): KubernetesExecutor {
  const { namespace, hooks, log } = options;
  const clock = options.clock ?? systemClock;
  const api = createKubeApi(options.client, namespace);
  const informers = createInformers({
    api,
    namespace,
    nodes: options.admission.nodes,
    clock,
    log,
  });
  const { jobs, pods } = informers;
  const perJob = createPerJob({
    api,
    namespace,
    hooks,
    jobType: options.jobType,
    gafferUrl: options.gafferUrl,
    jobs,
    heartbeatMs: options.heartbeatMs,
    clock,
    log,
  });
  const pool = createPool({
    api,
    namespace,
    hooks,
    jobType: options.jobType,
    gafferUrl: options.gafferUrl,
    workerSpec: options.workerSpec,
    tokenSecret: options.workerTokenSecret,
    pods,
    clock,
    log,
  });
  const room = createRoom({
    namespace,
    jobType: options.jobType,
    maxJobs: options.maxJobs,
    maxUnscheduled: options.admission.maxUnscheduled,
    tokenSecret: options.workerTokenSecret,
    pods,
    nodes: informers.nodes,
    runs: perJob,
  });

  jobs.on('add', perJob.onJob);
  jobs.on('update', perJob.onJob);
  jobs.on('delete', perJob.onJobDeleted);
  pods.on('add', (p) => void (pool.onPod(p) || perJob.onPod(p)));
  pods.on('update', (p) => void (pool.onPod(p) || perJob.onPod(p)));
  pods.on('delete', (p) => pool.onPodDeleted(p));

  const readyPromise = informers.start();
  readyPromise.catch(() => {}); // start() callers see it through ready()

  return {
    name: 'kubernetes',
    start: (req) => (req.spec.mode === 'pool' ? pool.start(req) : perJob.start(req)),
    kill(workerId) {
      if (pool.owns(workerId)) pool.kill(workerId);
      else perJob.kill(workerId);
    },
    async close() {
      // Like local workers, no attempt outlives gaffer's executor (`per-job.ts`). Pool pods are
      // left running: their workers reconnect to the next gaffer as workers started apart, and
      // are scaled in from there.
      await perJob.close();
      await informers.stop();
    },
    ready: () => readyPromise,
    admit: room.admit,
    room: room.room,
    watchEvents: informers.watchEvents,
    poolEvents: pool.events,
    workerIdFor: pool.workerIdFor,
    stopped: pool.stopped,
    unboundPods: pool.unboundPods,
  };
}
