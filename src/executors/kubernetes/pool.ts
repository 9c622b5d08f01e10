import { EventEmitter } from 'node:events';
import {
  setHeaderOptions,
  PatchStrategy,
  type ObjectCache,
  type V1Pod,
} from '@kubernetes/client-node';
import type { JobTypeConfig } from '../../config/schema.ts';
import type { WorkerSpec } from '../../worker/protocol.ts';
import type { ExecutorHooks, StartRequest } from '../executor.ts';
import { apiStatus, type KubeClient } from './client.ts';
import { LABELS, labelValue } from './job-manifest.ts';
import {
  CHEAPEST,
  compareRanks,
  deletionRank,
  DELETION_COST,
  marked,
  unschedulable,
} from './pod-rank.ts';
import { POOL, poolManifest, poolName, revisionName } from './pool-manifest.ts';
import { createStalePods } from './pool-stale.ts';
import type { Logger } from '../../domain/logger.ts';

/**
 * Pool mode on Kubernetes: each pool type's workers are the pods of its worker Deployments
 * (`pool-manifest.ts`), one per revision of the pod template, whose replica counts gaffer alone
 * sets, through the scale subresource. Each Deployment is a unit of its own below (`Revision`):
 * its pods, its ReplicaSet's ranking, its changes one at a time.
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
 * (`remote-<pod>`), and when such a worker is drained its pod is removed the same way. One of a
 * revision other than its type's definition now (gaffer restarted onto a new config) is drained
 * as soon as it connects (`pool-stale.ts`).
 *
 * A changed definition (config reload) — the contract: `start` renders the type's Deployment from
 * its definition now; a different template is a different revision, so a new Deployment, which
 * becomes the type's current one: new workers go there only. A Deployment's template is never
 * changed, so the Deployment controller never rolls (kills) a pod. The pods of older revisions,
 * busy or not, are left to gaffer: drained (the reload retires them) and removed one by one when
 * idle like any scale-in, lowering their own Deployment's replicas; an older revision's Deployment
 * is deleted once at 0 replicas. At a type's first start in a process, its Deployments already in
 * the cluster (an earlier gaffer's, or one of before revisions, `poolName(type)`) are adopted the
 * same way. An older revision's Deployment is one that is neither the revision this process last
 * started a worker on nor, once gaffer knows its own URL, the one its definition renders now
 * (`revisionNow`): so a process that restarted onto a new definition deletes the old Deployments
 * it empties without having started a worker of the type.
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
  /**
   * The spec gaffer would start a worker of the type with now (undefined: no such type): with
   * `gafferUrl`, what renders the type's current revision without starting a worker.
   */
  workerSpec(type: string): WorkerSpec | undefined;
  tokenSecret: { name: string; key: string };
  /** The executor's pods informer (labelled `app.kubernetes.io/managed-by=gaffer`). */
  pods: ObjectCache<V1Pod>;
  log: Pick<Logger, 'warn' | 'error'>;
}

/** What the pool does, for tests and operators: every binding, every pod gaffer removes. */
export type PoolEvents = EventEmitter<{
  bound: [pod: string, workerId: string];
  removing: [pod: string, workerId: string];
  /** The worker of a pod of an older revision is drained (`pool-stale.ts`). */
  draining: [pod: string, workerId: string];
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
  /**
   * The type's live pods no worker is bound to and gaffer is not removing: left by an earlier
   * gaffer process (their workers reconnect as `remote-<pod>`), or a ReplicaSet's replacement of
   * a pod deleted or a container restarted. Capacity on its way, as a started worker's pod is.
   */
  unboundPods(type: string): string[];
  readonly events: PoolEvents;
}

/** One worker Deployment: a revision of a type's pod template. */
interface Revision {
  type: string;
  deployment: string;
  /** The Deployment exists (created by this process or found); reset after a failure or delete. */
  ensured: Promise<void> | null;
  /** Changes of this Deployment's pods, one at a time (`serial`). */
  queue: Promise<void>;
  /** Worker ids started and waiting for a pod, oldest first. */
  waiting: string[];
  /** Called at each event of one of its pods (a removal waiting for them to settle). */
  changed: Set<() => void>;
}

interface TypeState {
  /** The Deployment new workers go to: the revision this process last started one on. */
  current: string | null;
  /** The type's Deployments found in the cluster, listed once (at its first start). */
  adopted: Promise<void> | null;
}

export function createPool(options: PoolOptions): PoolScaler {
  const { client, namespace, hooks, log } = options;
  /** By Deployment name; kept once known (a dropped revision may become current again). */
  const revisions = new Map<string, Revision>();
  const types = new Map<string, TypeState>();
  const workerOf = new Map<string, string>(); // pod name → worker id
  const podOf = new Map<string, string>(); // worker id → pod name
  /** Pods already considered for binding: each pod is bound once, when first seen. */
  const seen = new Set<string>();
  /** Pods gaffer is removing: a worker restarting in one is refused (it is going away). */
  const removing = new Set<string>();
  const events: PoolEvents = new EventEmitter();
  const stale = createStalePods({
    pod: (name) => options.pods.get(name, namespace),
    placeOf: (pod) => {
      const [type, deployment] = [typeOf(pod), deploymentOf(pod)];
      return type && deployment ? { type, deployment } : undefined;
    },
    revisionNow,
    retire: (pod, workerId) => {
      if (hooks.retire?.(workerId)) events.emit('draining', pod, workerId);
    },
  });

  function revisionOf(type: string, deployment: string): Revision {
    let rev = revisions.get(deployment);
    if (!rev) {
      rev = {
        type,
        deployment,
        ensured: null,
        queue: Promise.resolve(),
        waiting: [],
        changed: new Set(),
      };
      revisions.set(deployment, rev);
    }
    return rev;
  }

  function typeState(type: string): TypeState {
    let state = types.get(type);
    if (!state) types.set(type, (state = { current: null, adopted: null }));
    return state;
  }

  /** The Deployment of the type's definition now (its name says its revision). */
  async function render(typeName: string, spec: WorkerSpec) {
    const type = options.jobType(typeName);
    if (!type) throw new Error(`unknown job type ${typeName}`);
    const broker = spec.broker;
    return poolManifest({
      typeName,
      type,
      namespace,
      gafferUrl: await options.gafferUrl(),
      tokenSecret: options.tokenSecret,
      // An embedded broker is a file on gaffer's machine: pods long-poll gaffer instead.
      brokerUrl: broker && broker.kind !== 'embedded' ? broker.url : undefined,
    });
  }

  /**
   * The Deployment name of the type's current revision, rendered from its definition now; waits
   * for gaffer's URL. Null when it cannot be told: no such pool type, no image, gaffer stopped.
   */
  async function revisionNow(typeName: string): Promise<string | null> {
    const spec = options.workerSpec(typeName);
    if (spec?.mode !== 'pool') return null;
    try {
      return (await render(typeName, spec)).metadata.name;
    } catch {
      return null; // a type without an image (refused by `start` too), or gaffer's URL never known
    }
  }

  /**
   * Creates the revision's Deployment (0 replicas) unless it exists; an existing one is used as
   * is — its name is its template's hash, so it is this very template.
   */
  function ensure(rev: Revision, body: object): Promise<void> {
    rev.ensured ??= (async () => {
      try {
        await client.apps.createNamespacedDeployment({ namespace, body });
      } catch (err) {
        if (apiStatus(err) !== 409) throw err; // 409: it exists (an earlier gaffer created it)
      }
    })().catch((err: unknown) => {
      rev.ensured = null; // the next start tries again
      throw err;
    });
    return rev.ensured;
  }

  /**
   * New workers of the type go to `rev` from now on. The first time, the type's Deployments in the
   * cluster are adopted; each other revision's is dropped if empty already (else once its last
   * pod is removed, `remove`).
   */
  function makeCurrent(rev: Revision): void {
    const state = typeState(rev.type);
    if (state.current === rev.deployment) return;
    state.current = rev.deployment;
    state.adopted ??= adopt(rev.type).catch((err: unknown) => {
      state.adopted = null; // the next change of revision lists again
      log.error({ err, type: rev.type }, "kubernetes: listing a pool's Deployments failed");
    });
    void state.adopted.then(() => {
      for (const old of revisions.values()) {
        if (old.type === rev.type && !isCurrent(old)) void dropLater(old);
      }
    });
  }

  /** Registers the type's Deployments in the cluster: its revisions, and one of before them. */
  async function adopt(type: string): Promise<void> {
    const labelSelector = `${LABELS.managedBy}=gaffer,${POOL.label}=${labelValue(type)}`;
    const list = await client.apps.listNamespacedDeployment({ namespace, labelSelector });
    for (const d of list.items) {
      const name = d.metadata?.name;
      const of = d.metadata?.annotations?.[POOL.typeAnnotation];
      // A label value may stand for several type names: the annotation (or the old name) decides.
      if (!name || (of ? of !== type : name !== poolName(type))) continue;
      revisionOf(type, name).ensured ??= Promise.resolve();
    }
  }

  function isCurrent(rev: Revision): boolean {
    return types.get(rev.type)?.current === rev.deployment;
  }

  /**
   * An older revision of its type: not the one this process last started a worker on, and not
   * the definition's now (`revisionNow`) — or, that unknown (type removed), one this process
   * started another revision after.
   */
  async function isOld(rev: Revision): Promise<boolean> {
    if (isCurrent(rev)) return false;
    const now = await revisionNow(rev.type);
    return now !== null ? now !== rev.deployment : typeState(rev.type).current !== null;
  }

  /** `dropIfEmpty` after the revision's earlier changes; logs rather than throws. */
  function dropLater(rev: Revision): Promise<void> {
    return serial(rev, () => dropIfEmpty(rev)).catch((err: unknown) =>
      log.error(
        { err, deployment: rev.deployment },
        'kubernetes: deleting an old Deployment failed',
      ),
    );
  }

  /**
   * Deletes an older revision's Deployment (`isOld`) at 0 replicas (its pods are all gone or going:
   * gaffer removed them). Runs in the revision's `serial`, so no removal of its pods is under way,
   * and only while it is old: a start that made it current again meanwhile queues
   * its scale-out behind this, which then finds no Deployment (404) and lets the next start
   * create it again (`start`).
   */
  async function dropIfEmpty(rev: Revision): Promise<void> {
    if (!(await isOld(rev))) return;
    const ref = { name: rev.deployment, namespace };
    try {
      const scale = await client.apps.readNamespacedDeploymentScale(ref);
      if ((scale.spec?.replicas ?? 0) > 0 || isCurrent(rev)) return;
      await client.apps.deleteNamespacedDeployment({ ...ref, propagationPolicy: 'Background' });
    } catch (err) {
      if (apiStatus(err) !== 404) throw err; // 404: gone already
    }
    rev.ensured = null;
  }

  /**
   * Runs `fn` once the pool's earlier changes are done. A removal must run alone: were two idle
   * pods marked cheapest at once, the ReplicaSet could take the second for the first's lower
   * count, and the first's delete by name would then make it create a replacement.
   */
  function serial(rev: Revision, fn: () => Promise<void>): Promise<void> {
    const next = rev.queue.then(fn, fn);
    rev.queue = next.catch(() => {});
    return next;
  }

  /**
   * Changes the replicas by `by` through the scale subresource: read, then a merge patch carrying
   * the read's resourceVersion (a precondition), so a concurrent change (another writer, the
   * controller's status updates) is a 409 and a re-read, never a lost update. Callers run it in
   * `serial`.
   */
  async function scale(rev: Revision, by: number): Promise<void> {
    const ref = { name: rev.deployment, namespace };
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

  /** One more pod of the type's current revision (its Deployment created first if need be). */
  async function start(req: StartRequest): Promise<void> {
    const type = req.spec.type;
    let rev: Revision | undefined;
    try {
      const body = await render(type, req.spec);
      const target = (rev = revisionOf(type, body.metadata.name));
      target.waiting.push(req.workerId);
      await ensure(target, body);
      makeCurrent(target);
      await serial(target, () => scale(target, +1));
    } catch (err) {
      if (rev) {
        rev.waiting = rev.waiting.filter((id) => id !== req.workerId);
        if (apiStatus(err) === 404) rev.ensured = null; // deleted (`dropIfEmpty`, or by hand)
      }
      log.error({ err, type, worker: req.workerId }, 'kubernetes: starting a pool pod failed');
      hooks.exited(req.workerId, null, null);
    }
  }

  function typeOf(pod: V1Pod): string | undefined {
    return pod.metadata?.annotations?.[POOL.typeAnnotation];
  }

  /** The Deployment of a pool pod (by its type and revision); undefined for any other pod. */
  function deploymentOf(pod: V1Pod): string | undefined {
    const type = typeOf(pod);
    const labels = pod.metadata?.labels;
    if (!type || !labels?.[POOL.label]) return undefined;
    const revision = labels[POOL.revisionLabel];
    return revision ? revisionName(type, revision) : poolName(type);
  }

  /** A pod is bound when first seen, to the oldest worker waiting for its revision (if any). */
  function onPod(pod: V1Pod): boolean {
    const deployment = deploymentOf(pod);
    const name = pod.metadata?.name;
    if (!deployment || !name) return false;
    changed(deployment);
    stale.seen(name);
    if (seen.has(name)) return true;
    seen.add(name);
    if (pod.metadata!.deletionTimestamp) return true;
    const workerId = revisions.get(deployment)?.waiting.shift();
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
    stale.gone(name);
    unbind(name);
    changed(deploymentOf(pod));
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

  /**
   * A connecting pod's worker id: the bound one, or its own name (checked for an older revision,
   * `pool-stale.ts`); null while gaffer removes it.
   */
  function workerIdFor(connectingId: string): string | null {
    if (removing.has(connectingId)) return null;
    const bound = workerOf.get(connectingId);
    if (bound) return bound;
    stale.connected(connectingId);
    return connectingId;
  }

  /** The pod of a worker: bound, or an unbound pool pod that connected as `remote-<pod>`. */
  function podOfWorker(workerId: string): V1Pod | undefined {
    const name =
      podOf.get(workerId) ?? (workerId.startsWith('remote-') ? workerId.slice(7) : undefined);
    const pod = name ? options.pods.get(name, namespace) : undefined;
    if (!pod || !deploymentOf(pod)) return undefined;
    if (!podOf.has(workerId) && workerOf.has(name!)) return undefined; // bound to another worker
    return pod;
  }

  /**
   * A worker stopped. Holding nothing (drained by scale-in), its pod is removed; otherwise the pod
   * is left as it is (a crash: the container restarts and its worker connects as one started
   * apart; a vanished pod: nothing left to remove).
   */
  function stopped(workerId: string, clean: boolean): void {
    if (workerId.startsWith('remote-')) stale.gone(workerId.slice(7));
    const pod = podOfWorker(workerId);
    if (!pod) return;
    const name = pod.metadata!.name!;
    unbind(name);
    if (clean) void remove(pod, workerId);
  }

  /**
   * Removes exactly this pod, never another; logs rather than throws (nothing awaits it). The last
   * pod of an older revision takes its Deployment with it (`dropIfEmpty`).
   */
  async function remove(pod: V1Pod, workerId: string): Promise<void> {
    const name = pod.metadata!.name!;
    if (removing.has(name)) return;
    removing.add(name);
    events.emit('removing', name, workerId);
    const rev = revisionOf(typeOf(pod)!, deploymentOf(pod)!);
    await serial(rev, () => removeNow(rev, name)).catch((err: unknown) =>
      log.error({ err, pod: name }, 'kubernetes: removing an idle pod failed'),
    );
    if (!isCurrent(rev)) await dropLater(rev);
  }

  async function removeNow(rev: Revision, pod: string): Promise<void> {
    // The lowest deletion cost: the ReplicaSet takes this idle pod before any other Running and
    // Ready one (busy pods keep the default cost, 0). 404: the pod is gone already and the
    // ReplicaSet has replaced it; lowering the replicas now would let it choose among pods none
    // of which gaffer marked, so stop here.
    if (await markCheapest(pod)) await takeOut(rev, pod);
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
  async function takeOut(rev: Revision, name: string): Promise<void> {
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      const now = standing(rev, name);
      if (!now.chosen) return; // deleted by someone else already: nothing left to choose
      const { blockers } = now;
      if (blockers.length > 0 && blockers.every(unschedulable)) {
        await takeOutUnscheduled(rev, blockers[0]!);
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
        (await lowerFrom(rev, now.live))
      ) {
        if (blockers.length === 0) return awaitDeletion(rev, name, now.live - 1);
        await untilLive(rev, now.live - 1, deadline);
        continue;
      }
      if (Date.now() > deadline) return fallBack(rev, name, 'its pods did not settle');
      await nextChange(rev);
    }
  }

  /** Resolves once the pool has at most `count` live pods, or at the deadline. */
  async function untilLive(rev: Revision, count: number, deadline: number): Promise<void> {
    while (standing(rev, '').live > count && Date.now() <= deadline) await nextChange(rev);
  }

  /** Gaffer's choice of a pod the scheduler placed nowhere: announced, marked, taken out. */
  async function takeOutUnscheduled(rev: Revision, pod: V1Pod): Promise<void> {
    const name = pod.metadata!.name!;
    removing.add(name);
    events.emit('removing', name, workerOf.get(name) ?? `remote-${name}`);
    if (await markCheapest(name)) await takeOut(rev, name);
  }

  /**
   * The replicas lowered by one if they still equal `live`, the pods the informer shows: else the
   * ReplicaSet has pods to create (a scale-out not seen yet) or to delete, and the caller waits.
   * A concurrent change of the Deployment (409) is also a wait and a re-check.
   */
  async function lowerFrom(rev: Revision, live: number): Promise<boolean> {
    const ref = { name: rev.deployment, namespace };
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
  async function awaitDeletion(rev: Revision, name: string, expected: number): Promise<void> {
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      const now = standing(rev, name);
      if (!now.chosen) return;
      if (now.live <= expected) {
        log.warn({ pod: name }, 'kubernetes: the ReplicaSet deleted another pod than this one');
        return deleteByName(name);
      }
      if (Date.now() > deadline) return deleteByName(name);
      await nextChange(rev);
    }
  }

  /** The earlier way, for pods that never settle: one fewer wanted, then this pod deleted. */
  async function fallBack(rev: Revision, name: string, why: string): Promise<void> {
    log.warn(
      { pod: name, why },
      'kubernetes: removing a pod by name; the ReplicaSet may choose another',
    );
    await scale(rev, -1);
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
   * The revision's live pods (those its ReplicaSet counts: not being deleted, not ended), whether
   * `name` is one, and which others rank before it or tie with it in the ReplicaSet's order.
   */
  function standing(rev: Revision, name: string) {
    const live = options.pods
      .list(namespace)
      .filter(
        (p) =>
          deploymentOf(p) === rev.deployment &&
          !p.metadata?.deletionTimestamp &&
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

  /** Resolves at the next event of one of the revision's pods, or after RECHECK_MS. */
  function nextChange(rev: Revision): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        rev.changed.delete(done);
        resolve();
      };
      const timer = setTimeout(done, RECHECK_MS);
      timer.unref();
      rev.changed.add(done);
    });
  }

  function changed(deployment: string | undefined): void {
    const rev = deployment ? revisions.get(deployment) : undefined;
    for (const fn of [...(rev?.changed ?? [])]) fn();
  }

  /** Kills a pool worker: its pod is removed, busy or not (as kill does to a process). */
  function kill(workerId: string): void {
    const pod = podOfWorker(workerId);
    if (!pod) return;
    const name = pod.metadata!.name!;
    unbind(name);
    void remove(pod, workerId);
  }

  function unboundPods(type: string): string[] {
    const out: string[] = [];
    for (const p of options.pods.list(namespace)) {
      const name = p.metadata?.name;
      if (!name || typeOf(p) !== type || !deploymentOf(p)) continue;
      if (p.metadata?.deletionTimestamp || workerOf.has(name) || removing.has(name)) continue;
      if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
      out.push(name);
    }
    return out;
  }

  function owns(workerId: string): boolean {
    return podOf.has(workerId) || [...revisions.values()].some((r) => r.waiting.includes(workerId));
  }

  return { start, owns, onPod, onPodDeleted, workerIdFor, stopped, kill, unboundPods, events };
}
