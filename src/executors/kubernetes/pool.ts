import { EventEmitter } from 'node:events';
import {
  setHeaderOptions,
  PatchStrategy,
  type ObjectCache,
  type V1Pod,
} from '@kubernetes/client-node';
import type { JobTypeConfig } from '../../config/schema.ts';
import type { ExecutorHooks, StartRequest } from '../executor.ts';
import { apiStatus, type KubeClient } from './client.ts';
import { POOL, poolManifest, poolName } from './pool-manifest.ts';

/**
 * Pool mode on Kubernetes: each pool type's workers are the pods of one Deployment
 * (`pool-manifest.ts`), whose replica count gaffer alone sets, through the scale subresource.
 *
 * - Scale out: `start` raises the replicas by one and queues the worker id gaffer registered; the
 *   next new pod of the Deployment seen by the pods informer is bound to the oldest queued id. The
 *   pod's worker connects naming itself by its pod name; `workerIdFor` turns that into the bound id,
 *   so the gateway sees the worker it started and is waiting for.
 * - Scale in: the gateway drains a worker (it takes nothing new and exits once it holds no job).
 *   When it has stopped holding nothing, `stopped` removes exactly its pod (`remove`): the
 *   ReplicaSet is never left to choose which pod goes, so it can never pick a busy one.
 * - A pod that vanishes unasked: its worker's connection closes and the gateway retries its jobs;
 *   the executor only reports the exit (for a worker that had not connected yet).
 *
 * Pods no worker waits for when they appear (left by an earlier gaffer process, or replacing a
 * pod deleted by someone) stay unbound: their workers connect as workers started apart
 * (`remote-<pod>`), and when such a worker is drained its pod is removed the same way.
 */

/** The annotation's lowest value: the ReplicaSet deletes such a pod before any other Running one. */
const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
const CHEAPEST = '-2147483648';
/** Tries of a scale read-modify-write that lost a race (409) before giving up. */
const SCALE_TRIES = 5;

export interface PoolOptions {
  client: KubeClient;
  namespace: string;
  hooks: ExecutorHooks;
  jobType(name: string): JobTypeConfig | undefined;
  gafferUrl(): Promise<string>;
  tokenSecret: { name: string; key: string };
  /** The executor's pods informer (labelled `app.kubernetes.io/managed-by=gaffer`). */
  pods: ObjectCache<V1Pod>;
}

/** What the pool does, for tests and operators: every binding, every pod gaffer removes. */
export type PoolEvents = EventEmitter<{
  bound: [pod: string, workerId: string];
  removing: [pod: string, workerId: string];
}>;

export interface PoolScaler {
  start(req: StartRequest): Promise<void>;
  /** Whether the worker is one of the pool's (waiting for a pod or bound to one). */
  owns(workerId: string): boolean;
  /** Pods informer events; false for a pod that is not a pool pod. */
  onPod(pod: V1Pod): boolean;
  onPodDeleted(pod: V1Pod): void;
  workerIdFor(connectingId: string): string | null;
  stopped(workerId: string, clean: boolean): void;
  kill(workerId: string): void;
  readonly events: PoolEvents;
}

interface Pool {
  type: string;
  deployment: string;
  /** The Deployment exists (created by this process or found); reset after a failure. */
  ensured: Promise<void> | null;
  /** Changes of this Deployment's pods, one at a time (`serial`). */
  queue: Promise<void>;
  /** Worker ids started and waiting for a pod, oldest first. */
  waiting: string[];
}

export function createPool(options: PoolOptions): PoolScaler {
  const { client, namespace, hooks } = options;
  const pools = new Map<string, Pool>();
  const workerOf = new Map<string, string>(); // pod name → worker id
  const podOf = new Map<string, string>(); // worker id → pod name
  /** Pods already considered for binding: each pod is bound once, when first seen. */
  const seen = new Set<string>();
  /** Pods gaffer is removing: a worker restarting in one is refused (it is going away). */
  const removing = new Set<string>();
  const events: PoolEvents = new EventEmitter();

  function poolOf(type: string): Pool {
    let pool = pools.get(type);
    if (!pool) {
      pool = {
        type,
        deployment: poolName(type),
        ensured: null,
        queue: Promise.resolve(),
        waiting: [],
      };
      pools.set(type, pool);
    }
    return pool;
  }

  /** Creates the type's Deployment (0 replicas) unless it exists; an existing one is used as is. */
  function ensure(pool: Pool, req: StartRequest): Promise<void> {
    pool.ensured ??= (async () => {
      const type = options.jobType(pool.type);
      if (!type) throw new Error(`unknown job type ${pool.type}`);
      const broker = req.spec.broker;
      const body = poolManifest({
        typeName: pool.type,
        type,
        namespace,
        gafferUrl: await options.gafferUrl(),
        tokenSecret: options.tokenSecret,
        // An embedded broker is a file on gaffer's machine: pods long-poll gaffer instead.
        brokerUrl: broker && broker.kind !== 'embedded' ? broker.url : undefined,
      });
      try {
        await client.apps.createNamespacedDeployment({ namespace, body });
      } catch (err) {
        if (apiStatus(err) !== 409) throw err; // 409: it exists (an earlier gaffer created it)
      }
    })().catch((err: unknown) => {
      pool.ensured = null; // the next start tries again
      throw err;
    });
    return pool.ensured;
  }

  /**
   * Runs `fn` once the pool's earlier changes are done. A removal must run alone: were two idle
   * pods marked cheapest at once, the ReplicaSet could take the second for the first's lower
   * count, and the first's delete by name would then make it create a replacement.
   */
  function serial(pool: Pool, fn: () => Promise<void>): Promise<void> {
    const next = pool.queue.then(fn, fn);
    pool.queue = next.catch(() => {});
    return next;
  }

  /**
   * Changes the replicas by `by` through the scale subresource: read, then a merge patch carrying
   * the read's resourceVersion (a precondition), so a concurrent change (another writer, the
   * controller's status updates) is a 409 and a re-read, never a lost update. Callers run it in
   * `serial`.
   */
  async function scale(pool: Pool, by: number): Promise<void> {
    const ref = { name: pool.deployment, namespace };
    for (let tries = 1; ; tries++) {
      const current = await client.apps.readNamespacedDeploymentScale(ref);
      const replicas = Math.max(0, (current.spec?.replicas ?? 0) + by);
      try {
        const resourceVersion = current.metadata?.resourceVersion;
        await client.apps.patchNamespacedDeploymentScale(
          { ...ref, body: { metadata: { resourceVersion }, spec: { replicas } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return;
      } catch (err) {
        if (apiStatus(err) !== 409 || tries >= SCALE_TRIES) throw err;
      }
    }
  }

  async function start(req: StartRequest): Promise<void> {
    const pool = poolOf(req.spec.type);
    pool.waiting.push(req.workerId);
    try {
      await ensure(pool, req);
      await serial(pool, () => scale(pool, +1));
    } catch (err) {
      pool.waiting = pool.waiting.filter((id) => id !== req.workerId);
      console.error(`kubernetes: starting a ${pool.type} pod failed`, err);
      hooks.exited(req.workerId, null, null);
    }
  }

  function typeOf(pod: V1Pod): string | undefined {
    return pod.metadata?.annotations?.[POOL.typeAnnotation];
  }

  /** A pod is bound when first seen, to the oldest worker waiting for its type (if any). */
  function onPod(pod: V1Pod): boolean {
    const type = typeOf(pod);
    const name = pod.metadata?.name;
    if (!type || !pod.metadata?.labels?.[POOL.label] || !name) return false;
    if (seen.has(name)) return true;
    seen.add(name);
    if (pod.metadata.deletionTimestamp) return true;
    const workerId = pools.get(type)?.waiting.shift();
    if (!workerId) return true;
    workerOf.set(name, workerId);
    podOf.set(workerId, name);
    events.emit('bound', name, workerId);
    return true;
  }

  function onPodDeleted(pod: V1Pod): void {
    const name = pod.metadata?.name ?? '';
    const workerId = workerOf.get(name);
    seen.delete(name);
    removing.delete(name);
    unbind(name);
    // Usually the worker is gone already (its connection closed, or gaffer removed an idle pod);
    // a pod deleted before its worker connected would otherwise leave it `starting` for ever.
    if (workerId) hooks.exited(workerId, null, 'pod deleted');
  }

  function unbind(pod: string): void {
    const workerId = workerOf.get(pod);
    workerOf.delete(pod);
    if (workerId) podOf.delete(workerId);
  }

  /** A connecting pod's worker id: the bound one, or its own name; null while gaffer removes it. */
  function workerIdFor(connectingId: string): string | null {
    if (removing.has(connectingId)) return null;
    return workerOf.get(connectingId) ?? connectingId;
  }

  /** The pod of a worker: bound, or an unbound pool pod that connected as `remote-<pod>`. */
  function podOfWorker(workerId: string): V1Pod | undefined {
    const name =
      podOf.get(workerId) ?? (workerId.startsWith('remote-') ? workerId.slice(7) : undefined);
    const pod = name ? options.pods.get(name, namespace) : undefined;
    if (!pod || !typeOf(pod)) return undefined;
    if (!podOf.has(workerId) && workerOf.has(name!)) return undefined; // bound to another worker
    return pod;
  }

  /**
   * A worker stopped. Holding nothing (drained by scale-in), its pod is removed; otherwise the pod
   * is left as it is (a crash: the container restarts and its worker connects as one started
   * apart; a vanished pod: nothing left to remove).
   */
  function stopped(workerId: string, clean: boolean): void {
    const pod = podOfWorker(workerId);
    if (!pod) return;
    const name = pod.metadata!.name!;
    unbind(name);
    if (clean) void remove(typeOf(pod)!, name, workerId);
  }

  /** Removes exactly this pod, never another; logs rather than throws (nothing awaits it). */
  async function remove(type: string, pod: string, workerId: string): Promise<void> {
    if (removing.has(pod)) return;
    removing.add(pod);
    events.emit('removing', pod, workerId);
    const pool = poolOf(type);
    await serial(pool, () => removeNow(pool, pod)).catch((err: unknown) =>
      console.error(`kubernetes: removing the idle pod ${pod} failed`, err),
    );
  }

  async function removeNow(pool: Pool, pod: string): Promise<void> {
    const ref = { name: pod, namespace };
    // 1. The lowest deletion cost: when step 2 lowers the replicas, the ReplicaSet deletes this
    //    idle pod rather than any other Running one (busy pods keep the default cost, 0).
    try {
      await client.core.patchNamespacedPod(
        { ...ref, body: { metadata: { annotations: { [DELETION_COST]: CHEAPEST } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      // 404: the pod is gone already and the ReplicaSet has replaced it; lowering the replicas
      // now would let it choose among pods none of which gaffer marked, so stop here.
      if (apiStatus(err) === 404) return;
      throw err;
    }
    // 2. One pod fewer wanted: without it, the ReplicaSet would replace the pod step 3 deletes.
    await scale(pool, -1);
    // 3. Delete the pod by name. The ReplicaSet has usually deleted it in step 2, but it ranks a
    //    Pending pod (never busy: its worker has not connected) before any Running one and may
    //    have taken that instead; deleting by name makes the chosen idle pod the one that goes.
    //    (That Pending pod's worker then reports an exit and the autoscaler starts another.)
    try {
      await client.core.deleteNamespacedPod(ref);
    } catch (err) {
      if (apiStatus(err) !== 404) throw err; // 404: the ReplicaSet deleted it in step 2
    }
  }

  /** Kills a pool worker: its pod is removed, busy or not (as kill does to a process). */
  function kill(workerId: string): void {
    const pod = podOfWorker(workerId);
    if (!pod) return;
    const name = pod.metadata!.name!;
    unbind(name);
    void remove(typeOf(pod)!, name, workerId);
  }

  function owns(workerId: string): boolean {
    return podOf.has(workerId) || [...pools.values()].some((p) => p.waiting.includes(workerId));
  }

  return { start, owns, onPod, onPodDeleted, workerIdFor, stopped, kill, events };
}
