import { EventEmitter } from 'node:events';
import {
  makeInformer,
  type Informer,
  type KubernetesObject,
  type ObjectCache,
  type V1Job,
  type V1Node,
  type V1Pod,
} from '@kubernetes/client-node';
import type { JobTypeConfig } from '../../config/schema.ts';
import type { StartBlock } from '../../domain/events.ts';
import type { Job, Outcome } from '../../domain/job.ts';
import type {
  GafferMessage,
  WorkerConnection,
  WorkerMessage,
  WorkerSpec,
} from '../../worker/protocol.ts';
import type { Executor, ExecutorHooks, StartRequest } from '../executor.ts';
import type { Logger } from '../../domain/logger.ts';
import { admit, type Resources } from './admission.ts';
import { freeResources, podRequests } from './capacity.ts';
import { apiStatus, type KubeClient } from './client.ts';
import { jobManifest, LABELS } from './job-manifest.ts';
import { kubeJobState } from './job-status.ts';
import { poolManifest } from './pool-manifest.ts';
import { createPool, type PoolEvents } from './pool.ts';

/**
 * The Kubernetes executor. Pool types run as the pods of worker Deployments, one per type and
 * revision of its pod template (`pool.ts`); this file is per-job mode and the informers both share.
 *
 * Per-job mode on Kubernetes: each attempt of a gaffer job is one batch/v1 Job.
 *
 * The container runs the user's image, which knows nothing of gaffer's worker protocol, so the
 * executor plays the worker's part for it: each Job is a *virtual worker* whose connection lives
 * in this process. It says hello for its job, holds the lease and heartbeats while the Job lives,
 * reports `started` when the pod runs, and `done` with the outcome `job-status.ts` reads from the
 * Job and its pod — after copying the pod's log into the job's log, before the TTL controller
 * removes it. The gateway and the store see an ordinary per-job worker: claims, fencing and
 * retries are unchanged.
 *
 * The executor watches its Jobs and their pods with informers (list, then watch from the list's
 * resourceVersion; an expired watch resumes from the last version seen, a 410 relists), and the
 * nodes for admission. API calls go through the client's QPS/burst limit.
 *
 * gaffer's timeout is enforced here from the moment the pod runs (the Job is deleted, which kills
 * the pod); the Job's activeDeadlineSeconds (timeout + slack) is the backstop for when gaffer is
 * not there to enforce it. A cancel deletes the Job.
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

/** One attempt's Job, acting as the worker that holds its lease. */
interface Run {
  workerId: string;
  job: Job;
  name: string;
  token: number | null;
  emit: (msg: WorkerMessage) => void;
  started: boolean;
  ended: boolean;
  kubeJob: V1Job | undefined;
  pod: V1Pod | undefined;
  /** Pending reason last reported (so each change is reported once). */
  reason: string | null;
  timeout: NodeJS.Timeout | undefined;
}

const RESTART_DELAY_MS = 1000;

export function createKubernetesExecutor(options: KubernetesExecutorOptions): KubernetesExecutor {
  const { client, namespace, hooks, log } = options;
  const runs = new Map<string, Run>(); // by Job name
  const byWorker = new Map<string, Run>();
  const watchEvents = new EventEmitter<{ relist: [resource: string] }>();
  let closed = false;

  const selector = `${LABELS.managedBy}=gaffer`;
  const jobs = informer<V1Job>(
    'jobs',
    `/apis/batch/v1/namespaces/${namespace}/jobs`,
    () => client.batch.listNamespacedJob({ namespace, labelSelector: selector }),
    selector,
  );
  const pods = informer<V1Pod>(
    'pods',
    `/api/v1/namespaces/${namespace}/pods`,
    () => client.core.listNamespacedPod({ namespace, labelSelector: selector }),
    selector,
  );
  const nodes = options.admission.nodes
    ? informer<V1Node>('nodes', '/api/v1/nodes', () => client.core.listNode())
    : null;

  jobs.on('add', onJob);
  jobs.on('update', onJob);
  jobs.on('delete', (j) => {
    const run = runs.get(j.metadata?.name ?? '');
    if (run && !run.ended) {
      finish(run, failed('infrastructure', `the Job ${run.name} was deleted before it ended`));
    }
  });
  const pool = createPool({
    client,
    namespace,
    hooks,
    jobType: options.jobType,
    gafferUrl: options.gafferUrl,
    workerSpec: options.workerSpec,
    tokenSecret: options.workerTokenSecret,
    pods,
    log,
  });
  pods.on('add', onPod);
  pods.on('update', onPod);
  pods.on('delete', (p) => pool.onPodDeleted(p));

  const heartbeat = setInterval(() => {
    for (const run of runs.values()) {
      if (run.token !== null && !run.ended) {
        run.emit({ t: 'heartbeat', leases: [{ id: run.job.id, token: run.token }] });
      }
    }
  }, options.heartbeatMs);
  heartbeat.unref();

  const readyPromise = Promise.all([jobs.start(), pods.start(), nodes?.start()]).then(() => {});
  readyPromise.catch(() => {}); // start() callers see it through ready()

  /** An informer that restarts itself after an error, and reports each relist. */
  function informer<T extends KubernetesObject>(
    resource: string,
    path: string,
    list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
    labelSelector?: string,
  ): Informer<T> & ObjectCache<T> {
    let lists = 0;
    const listed = () => {
      if (++lists > 1) watchEvents.emit('relist', resource);
      return list() as ReturnType<typeof list> & Promise<never>;
    };
    const inf = makeInformer<T>(client.kubeConfig, path, listed, labelSelector);
    inf.on('error', (err) => {
      if (closed) return;
      log.warn({ resource, error: String(err) }, 'kubernetes: a watch failed; restarting it');
      setTimeout(() => void inf.start().catch(() => {}), RESTART_DELAY_MS).unref();
    });
    return inf;
  }

  function onJob(j: V1Job): void {
    const run = runs.get(j.metadata?.name ?? '');
    if (!run || run.ended) return;
    run.kubeJob = j;
    update(run);
  }

  function onPod(p: V1Pod): void {
    if (pool.onPod(p)) return;
    const name = p.metadata?.labels?.['batch.kubernetes.io/job-name'];
    const run = name ? runs.get(name) : undefined;
    if (!run || run.ended) return;
    run.pod = p;
    update(run);
  }

  /** The Job or its pod changed: report what it means to the gateway, once per change. */
  function update(run: Run): void {
    if (!run.kubeJob) return;
    const state = kubeJobState(run.kubeJob, run.pod);
    if (state.phase === 'pending') {
      if (state.block.message !== run.reason) {
        run.reason = state.block.message;
        hooks.output(run.workerId, 'stderr', `[gaffer] pod pending: ${run.reason}`);
        hooks.waiting?.(run.workerId, state.block);
      }
    } else if (state.phase === 'running') {
      if (!run.started && run.token !== null) {
        run.started = true;
        run.emit({ t: 'started', id: run.job.id, token: run.token });
        run.timeout = setTimeout(() => void timedOut(run), run.job.timeoutMs);
        run.timeout.unref();
      }
    } else {
      void finishWithLogs(run, state.outcome);
    }
  }

  /** gaffer's timeout: the Job is deleted (its pod with it), then the attempt reported. */
  async function timedOut(run: Run): Promise<void> {
    await stop(run, failed('timeout', `timed out after ${run.job.timeoutMs / 1000} s`));
  }

  /** Deletes the attempt's Job, then reports `outcome`; the Job's deletion event is ignored. */
  async function stop(run: Run, outcome: Outcome): Promise<void> {
    if (run.ended) return;
    run.ended = true;
    await deleteJob(run.name);
    report(run, outcome);
  }

  /** Copies the pod's log into the job's log, then reports the outcome. */
  async function finishWithLogs(run: Run, outcome: Outcome): Promise<void> {
    if (run.ended) return;
    run.ended = true; // a cancel or timeout while the log is read changes nothing now
    const podName = run.pod?.metadata?.name;
    if (podName && run.token !== null) {
      const token = run.token;
      try {
        const log = await client.core.readNamespacedPodLog({ name: podName, namespace });
        for (const data of log.split('\n').filter(Boolean)) {
          run.emit({ t: 'log', id: run.job.id, token, stream: 'stdout', data });
        }
      } catch (err) {
        hooks.output(run.workerId, 'stderr', `[gaffer] pod log unavailable: ${String(err)}`);
      }
    }
    report(run, outcome);
  }

  function finish(run: Run, outcome: Outcome): void {
    if (run.ended) return;
    run.ended = true;
    report(run, outcome);
  }

  /** Reports the attempt's outcome and the virtual worker's exit; later events are ignored. */
  function report(run: Run, outcome: Outcome): void {
    clearTimeout(run.timeout);
    if (run.token !== null) {
      run.emit({
        t: 'done',
        id: run.job.id,
        token: run.token,
        outcome: withOomCount(run, outcome),
      });
    }
    runs.delete(run.name);
    byWorker.delete(run.workerId);
    hooks.exited(run.workerId, 0, null);
  }

  /** Carries the job's count of OOMKilled attempts forward: the next attempt's memory rung. */
  function withOomCount(run: Run, outcome: Outcome): Outcome {
    if (outcome.status !== 'failed') return outcome;
    const before = run.job.error?.oomKills ?? 0;
    const oomKills = before + (outcome.error.class === 'oom' ? 1 : 0);
    return { ...outcome, error: { ...outcome.error, oomKills } };
  }

  async function deleteJob(name: string): Promise<void> {
    try {
      await client.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' });
    } catch (err) {
      if (apiStatus(err) === 404) return; // gone already: what the delete wanted
      log.error({ err, job: name }, 'kubernetes: deleting a Job failed');
    }
  }

  /** The gateway's messages to the virtual worker. */
  function fromGaffer(run: Run, msg: GafferMessage): void {
    if (msg.t === 'jobs') {
      run.token = msg.jobs[0]?.token ?? null;
      if (run.kubeJob) update(run);
    } else if (msg.t === 'cancel') {
      void stop(run, { status: 'cancelled' });
    } // 'drain': a per-job worker ends with its job anyway
  }

  async function start(req: StartRequest): Promise<void> {
    if (req.spec.mode === 'pool') return pool.start(req);
    const job = req.job;
    const type = job && options.jobType(job.type);
    if (!job || !type) {
      hooks.exited(req.workerId, null, null);
      throw new Error(`kubernetes executor: ${req.workerId} has no job or job type to run`);
    }
    const manifest = jobManifest({
      job,
      type,
      namespace,
      gafferUrl: await options.gafferUrl(),
      oomKills: job.error?.oomKills ?? 0,
    });
    const name = manifest.metadata.name;
    let emit: (msg: WorkerMessage) => void = () => {};
    const run: Run = {
      workerId: req.workerId,
      job,
      name,
      token: null,
      emit: (msg) => emit(msg),
      started: false,
      ended: false,
      kubeJob: jobs.get(name, namespace),
      pod: undefined,
      reason: null,
      timeout: undefined,
    };
    runs.set(name, run);
    byWorker.set(req.workerId, run);
    const conn: WorkerConnection = {
      send: (msg) => fromGaffer(run, msg),
      onMessage: (fn) => (emit = fn),
      onClose: () => {},
    };
    hooks.connected(req.workerId, conn, null);
    run.emit({ t: 'hello', workerId: req.workerId, type: job.type, pid: 0, jobId: job.id });
    const throttled = client.throttleMs();
    if (throttled > 0) hooks.waiting?.(req.workerId, rateLimited(client, throttled));
    try {
      run.kubeJob = await client.batch.createNamespacedJob({ namespace, body: manifest });
      update(run);
    } catch (err) {
      // 409: this attempt's Job exists already (created before a restart); its events follow.
      if (apiStatus(err) === 409) return;
      finish(run, failed('infrastructure', `creating the Job ${name} failed: ${String(err)}`));
    }
  }

  function admitJobs(typeName: string, wanted: number): number {
    const type = options.jobType(typeName);
    if (!type) return 0;
    // A pool's pods are bounded by its `scaling.max`; one that does not fit waits Pending, bound
    // to its worker, which counts as capacity on the way (so no more are started for it).
    if (type.mode === 'pool') return wanted;
    const inFlight = [...runs.values()].filter((r) => r.job.type === typeName).length;
    const perJob = podRequests(
      jobManifest({
        job: { id: 'x', type: typeName, attempt: 1, timeoutMs: 1000, data: null },
        type,
        namespace,
        gafferUrl: '',
      }).spec.template,
    );
    return admit({
      free: freeNow(perJob),
      unscheduled: pods.list(namespace).filter(unscheduled).length + podless(),
      maxUnscheduled: options.admission.maxUnscheduled,
      perJob,
      waiting: wanted,
      inFlight,
      typeCap: null, // the autoscaler's `scaling.max` already bounds a type's workers
      totalInFlight: runs.size,
      totalCap: options.maxJobs,
    });
  }

  /**
   * More workers of a type the cluster has room for now (the autoscaler's resource limit):
   * per-job, the Jobs admission would let through; pool, the pool pods the nodes' free
   * allocatable fits — known only with node admission (else null, as for no limit at all).
   */
  function room(typeName: string): number | null {
    const type = options.jobType(typeName);
    if (!type) return 0;
    if (type.mode === 'per-job') {
      const n = admitJobs(typeName, Number.MAX_SAFE_INTEGER);
      return n === Number.MAX_SAFE_INTEGER ? null : n;
    }
    const perPod = podRequests(
      poolManifest({
        typeName,
        type,
        namespace,
        gafferUrl: '',
        tokenSecret: options.workerTokenSecret,
      }).spec.template,
    );
    const free = freeNow(perPod);
    if (!free) return null;
    let fits = Infinity;
    for (const k of ['cpu', 'memory', 'gpus', 'pods'] as const) {
      if (perPod[k] > 0) fits = Math.min(fits, Math.floor(free[k] / perPod[k]));
    }
    return fits === Infinity ? null : Math.max(0, fits);
  }

  /** Jobs created whose pod the informer has not seen yet (they will take their requests). */
  function podless(): number {
    return [...runs.values()].filter((r) => !r.pod).length;
  }

  /**
   * The nodes' free allocatable after gaffer's pods — podless Jobs counted at `perPod`, or a
   * burst of starts would overshoot before any pod shows up. null without node admission.
   */
  function freeNow(perPod: Resources): Resources | null {
    if (!nodes) return null;
    const free = freeResources(nodes.list(), pods.list(namespace));
    const n = podless();
    for (const k of ['cpu', 'memory', 'gpus', 'pods'] as const) free[k] -= n * perPod[k];
    return free;
  }

  function kill(workerId: string): void {
    if (pool.owns(workerId)) return pool.kill(workerId);
    const run = byWorker.get(workerId);
    if (run) void stop(run, failed('infrastructure', 'the Job was stopped by gaffer'));
  }

  async function close(): Promise<void> {
    closed = true;
    clearInterval(heartbeat);
    // Like local workers, no attempt outlives gaffer's executor: each Job is deleted and its job
    // handed back to the queue as interrupted by the stop (the attempt not counted).
    // Pool pods are left running: their workers reconnect to the next gaffer as workers started
    // apart, and are scaled in from there.
    const stopped: Outcome = {
      status: 'failed',
      error: { class: 'infrastructure', message: 'gaffer stopped', interrupted: true },
    };
    await Promise.all([...runs.values()].map((run) => stop(run, stopped)));
    await Promise.all([jobs.stop(), pods.stop(), nodes?.stop()]);
  }

  return {
    name: 'kubernetes',
    start,
    kill,
    close,
    ready: () => readyPromise,
    admit: admitJobs,
    room,
    watchEvents,
    poolEvents: pool.events,
    workerIdFor: pool.workerIdFor,
    stopped: pool.stopped,
    unboundPods: pool.unboundPods,
  };
}

function failed(cls: 'infrastructure' | 'timeout', message: string): Outcome {
  return { status: 'failed', error: { class: cls, message } };
}

/** A Job whose creation waits `ms` for a token of the client's rate limit. */
function rateLimited(client: KubeClient, ms: number): StartBlock {
  const { qps, burst } = client.limit;
  const message = `creating its Job waits ${Math.ceil(ms / 1000)} s for the Kubernetes API rate limit (qps ${qps}, burst ${burst})`;
  return { reason: 'rate_limit', message };
}

/** A pod of a Job waiting for a node (pool pods are bounded by `scaling.max` instead). */
function unscheduled(pod: V1Pod): boolean {
  return (
    !pod.spec?.nodeName &&
    pod.status?.phase === 'Pending' &&
    Boolean(pod.metadata?.labels?.['batch.kubernetes.io/job-name'])
  );
}
