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
import {
  CHEAPEST,
  compareRanks,
  deletionRank,
  DELETION_COST,
  marked,
  unschedulable,
} from './pod-rank.ts';
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
 *   When it has stopped holding nothing, `stopped` removes exactly its pod (`remove`): marked the
 *   cheapest to delete, then the replicas lowered only once the ReplicaSet's own ranking puts that
 *   pod first (`takeOut`), so the ReplicaSet never picks another — a busy one, or a pod just
 *   created for a scale-out, whose replacement no worker would wait for.
 * - A pod that vanishes unasked: its worker's connection closes and the gateway retries its jobs;
 *   the executor only reports the exit (for a worker that had not connected yet).
 *
 * Pods no worker waits for when they appear (left by an earlier gaffer process, or replacing a
 * pod deleted by someone) stay unbound: their workers connect as workers started apart
 * (`remote-<pod>`), and when such a worker is drained its pod is removed the same way.
 */

/** Tries of a scale read-modify-write that lost a race (409) before giving up. */
const SCALE_TRIES = 5;
/**
 * How long a removal waits for the Deployment's pods to settle (or the ReplicaSet to act) before
 * it falls back to lowering the replicas and deleting the pod by name regardless: a bound on how
 * long one removal holds the type's other changes, for pods that never settle.
 */
const SETTLE_MS = 30_000;
/** A re-check while waiting, in case a pod event is missed (a relist reports no unchanged pod). */
const RECHECK_MS = 1_000;

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
  /** Called at each event of one of the type's pods (a removal waiting for them to settle). */
  changed: Set<() => void>;
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
        changed: new Set(),
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
    changed(type);
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
    const asked = removing.delete(name);
    seen.delete(name);
    unbind(name);
    changed(typeOf(pod));
    // Usually the worker is gone already (its connection closed, or gaffer removed an idle pod);
    // a pod deleted before its worker connected would otherwise leave it `starting` for ever.
    // Still bound and removed by gaffer, it is a pod that never found a node (`takeOut`): its
    // worker stopped as asked (exit 0), it did not crash.
    if (workerId) hooks.exited(workerId, asked ? 0 : null, asked ? null : 'pod deleted');
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
    // The lowest deletion cost: the ReplicaSet takes this idle pod before any other Running and
    // Ready one (busy pods keep the default cost, 0). 404: the pod is gone already and the
    // ReplicaSet has replaced it; lowering the replicas now would let it choose among pods none
    // of which gaffer marked, so stop here.
    if (await markCheapest(pod)) await takeOut(pool, pod);
  }

  /** Sets the pod's deletion cost to the lowest; false if the pod does not exist. */
  function markCheapest(pod: string): Promise<boolean> {
    return setCost(pod, CHEAPEST);
  }

  /** Sets (null: removes) the pod's deletion cost; false if the pod does not exist. */
  async function setCost(pod: string, cost: string | null): Promise<boolean> {
    try {
      await client.core.patchNamespacedPod(
        {
          name: pod,
          namespace,
          body: { metadata: { annotations: { [DELETION_COST]: cost } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return true;
    } catch (err) {
      if (apiStatus(err) === 404) return false;
      throw err;
    }
  }

  /**
   * Makes the ReplicaSet delete exactly `name` (marked cheapest), by lowering the replicas only
   * when its ranking puts that pod first and it has no pod to create or delete of its own; until
   * then, waits for the pods informer. Otherwise it would take a pod that ranks before the marked
   * one: one unassigned, Pending or not Ready — such as the pod a scale-out has just created —
   * and a delete by name of the marked pod would then make it create a replacement no worker is
   * waiting for (it would join as `remote-<pod>`). Scale-outs of the type wait meanwhile (`serial`),
   * so pods in transit settle and no new ones appear.
   *
   * A pod the scheduler found no node for will not settle (it may wait for the very node room
   * this removal frees): it is taken out first the same way; its worker never connected, so it
   * holds nothing. The worker bound to it stops (exit 0, not a crash: `onPodDeleted`), and the
   * autoscaler starts another if still wanted. Resolves once the pod is being deleted.
   */
  async function takeOut(pool: Pool, name: string): Promise<void> {
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      const now = standing(pool, name);
      if (!now.chosen) return; // deleted by someone else already: nothing left to choose
      const { blockers } = now;
      if (blockers.length > 0 && blockers.every(unschedulable)) {
        await takeOutUnscheduled(pool, blockers[0]!);
        continue;
      }
      // A mark left by an earlier gaffer killed mid-removal ties with ours: cleared.
      const stale = blockers.filter((b) => marked(b) && !removing.has(b.metadata!.name!));
      if (stale.length > 0) {
        await Promise.all(stale.map((b) => setCost(b.metadata!.name!, null)));
        continue;
      }
      // Pods gaffer removes anyway (marked, or refused and crash-looping: not Ready) may go in
      // this one's stead: any of them is a right choice for the ReplicaSet.
      if (
        blockers.every((b) => removing.has(b.metadata!.name!)) &&
        (await lowerFrom(pool, now.live))
      ) {
        if (blockers.length === 0) return awaitDeletion(pool, name, now.live - 1);
        await untilLive(pool, now.live - 1, deadline);
        continue;
      }
      if (Date.now() > deadline) return fallBack(pool, name, 'its pods did not settle');
      await nextChange(pool);
    }
  }

  /** Resolves once the pool has at most `count` live pods, or at the deadline. */
  async function untilLive(pool: Pool, count: number, deadline: number): Promise<void> {
    while (standing(pool, '').live > count && Date.now() <= deadline) await nextChange(pool);
  }

  /** Gaffer's choice of a pod the scheduler placed nowhere: announced, marked, taken out. */
  async function takeOutUnscheduled(pool: Pool, pod: V1Pod): Promise<void> {
    const name = pod.metadata!.name!;
    removing.add(name);
    events.emit('removing', name, workerOf.get(name) ?? `remote-${name}`);
    if (await markCheapest(name)) await takeOut(pool, name);
  }

  /**
   * The replicas lowered by one if they still equal `live`, the pods the informer shows: else the
   * ReplicaSet has pods to create (a scale-out not seen yet) or to delete, and the caller waits.
   * A concurrent change of the Deployment (409) is also a wait and a re-check.
   */
  async function lowerFrom(pool: Pool, live: number): Promise<boolean> {
    const ref = { name: pool.deployment, namespace };
    const current = await client.apps.readNamespacedDeploymentScale(ref);
    if ((current.spec?.replicas ?? 0) !== live) return false;
    try {
      const resourceVersion = current.metadata?.resourceVersion;
      await client.apps.patchNamespacedDeploymentScale(
        { ...ref, body: { metadata: { resourceVersion }, spec: { replicas: live - 1 } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return true;
    } catch (err) {
      if (apiStatus(err) === 409) return false;
      throw err;
    }
  }

  /**
   * Waits for the ReplicaSet to delete `name`. Should it have taken another pod (its view lagging
   * gaffer's), or not act in time, the chosen pod is deleted by name: gaffer's choice goes.
   */
  async function awaitDeletion(pool: Pool, name: string, expected: number): Promise<void> {
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      const now = standing(pool, name);
      if (!now.chosen) return;
      if (now.live <= expected) {
        console.error(`kubernetes: the ReplicaSet deleted another pod than ${name}`);
        return deleteByName(name);
      }
      if (Date.now() > deadline) return deleteByName(name);
      await nextChange(pool);
    }
  }

  /** The earlier way, for pods that never settle: one fewer wanted, then this pod deleted. */
  async function fallBack(pool: Pool, name: string, why: string): Promise<void> {
    console.error(`kubernetes: removing ${name} while ${why}; the ReplicaSet may choose another`);
    await scale(pool, -1);
    await deleteByName(name);
  }

  async function deleteByName(name: string): Promise<void> {
    try {
      await client.core.deleteNamespacedPod({ name, namespace });
    } catch (err) {
      if (apiStatus(err) !== 404) throw err; // 404: the ReplicaSet deleted it
    }
  }

  /**
   * The pool's live pods (those the ReplicaSet counts: not being deleted, not ended), whether
   * `name` is one, and which others rank before it or tie with it in the ReplicaSet's order.
   */
  function standing(pool: Pool, name: string) {
    const live = options.pods
      .list(namespace)
      .filter(
        (p) =>
          typeOf(p) === pool.type &&
          p.metadata?.labels?.[POOL.label] &&
          !p.metadata.deletionTimestamp &&
          p.status?.phase !== 'Succeeded' &&
          p.status?.phase !== 'Failed',
      );
    const chosen = live.find((p) => p.metadata?.name === name);
    const key = chosen && deletionRank(chosen);
    const blockers = key
      ? live.filter((p) => p !== chosen && compareRanks(deletionRank(p), key) <= 0)
      : [];
    return { live: live.length, chosen, blockers };
  }

  /** Resolves at the next event of one of the pool's pods, or after RECHECK_MS. */
  function nextChange(pool: Pool): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pool.changed.delete(done);
        resolve();
      };
      const timer = setTimeout(done, RECHECK_MS);
      timer.unref();
      pool.changed.add(done);
    });
  }

  function changed(type: string | undefined): void {
    const pool = type ? pools.get(type) : undefined;
    for (const fn of [...(pool?.changed ?? [])]) fn();
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
