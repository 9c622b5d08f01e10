import { isDeepStrictEqual } from 'node:util';
import type { JobTypeConfig } from '../config/schema.ts';
import type { Executor } from './executor.ts';
import { createKubeClient } from './kubernetes/client.ts';
import { createKubernetesExecutor, type KubernetesExecutor } from './kubernetes/index.ts';
import { createKubeLeaderLease } from './kubernetes/leader-lease.ts';
import type { BuiltExecutor, ExecutorDeps } from './registry.ts';

/**
 * The Kubernetes executor as the registry builds it: the executor (src/executors/kubernetes/)
 * with the capabilities it answers in its own terms mapped onto the Executor's, and its Lease as
 * the replicas' leader lease. Imported only when a kind in use is kubernetes (registry.ts).
 */
export interface KubernetesAdapter extends Executor {
  /** The executor itself: its informers' and pool's events (tests, diagnostics). */
  readonly kubernetes: KubernetesExecutor;
}

export function createKubernetes(d: ExecutorDeps): BuiltExecutor {
  const k = d.config.executor.kubernetes;
  const client = createKubeClient(k);
  const kube = createKubernetesExecutor({
    client,
    namespace: k.namespace,
    hooks: d.hooks,
    jobType: d.jobType,
    gafferUrl: d.gafferUrl,
    workerSpec: d.workerSpec,
    heartbeatMs: d.heartbeatMs,
    maxJobs: k.maxJobs ?? null,
    admission: k.admission,
    workerTokenSecret: k.workerTokenSecret,
    clock: d.clock,
    log: d.log,
  });
  return {
    executor: withCapabilities(kube, d.jobType),
    leaderLease: createKubeLeaderLease({ kubeConfig: client.kubeConfig, namespace: k.namespace }),
  };
}

/** What a pool pod is besides its worker spec: its Deployment's template (kubernetes/pool.ts). */
const pod = (t: JobTypeConfig) => [t.worker.image, t.kubernetes];

export function withCapabilities(
  kube: KubernetesExecutor,
  jobType: (name: string) => JobTypeConfig | undefined,
): KubernetesAdapter {
  return {
    name: kube.name,
    kubernetes: kube,
    start: (req) => kube.start(req),
    kill: (workerId, graceMs) => kube.kill(workerId, graceMs),
    close: () => kube.close(),
    workerIdFor: (connectingId) => kube.workerIdFor(connectingId),
    stopped: (workerId, clean) => kube.stopped(workerId, clean),
    ready: () => kube.ready(),
    admit: (type, wanted) => kube.admit(type, wanted),
    room: (type) => kube.room(type),
    // An image: per-job, a Job per attempt; pool, a worker Deployment whose image holds gaffer.
    canRun: (type) => Boolean(jobType(type)?.worker.image),
    // Pool pods bound to no worker yet connect as `remote-<pod>` (kubernetes/pool.ts).
    unboundWorkers: (type) =>
      jobType(type)?.mode === 'pool' ? kube.unboundPods(type).map((p) => `remote-${p}`) : [],
    replacesWorkers: (_type, was, now) => !isDeepStrictEqual(pod(was), pod(now)),
    isLocal: () => false,
  };
}
