import { EventEmitter } from 'node:events';
import type { ObjectCache, V1Pod } from '@kubernetes/client-node';
import type { JobTypeConfig } from '../../config/schema.ts';
import type { Logger } from '../../domain/logger.ts';
import type { WorkerSpec } from '../../worker/protocol.ts';
import type { ExecutorHooks, StartRequest } from '../executor.ts';
import type { KubeApi } from './api.ts';
import { apiStatus } from './client.ts';
import { deploymentOf, ended, typeOf } from './pool-pods.ts';
import { createPoolRemoval } from './pool-removal.ts';
import { createPoolRevisions, type Revision } from './pool-revisions.ts';
import { createStalePods } from './pool-stale.ts';
import { systemClock, type TimedClock } from '../../domain/clock.ts';

/**
 * Pool mode on Kubernetes: each pool type's workers are the pods of its worker Deployments
 * (`pool-manifest.ts`), one per revision of the pod template (`pool-revisions.ts`), whose replica
 * counts gaffer alone sets, through the scale subresource. This file binds pods to workers.
 *
 * - Scale out: `start` raises the current revision's replicas by one and queues the worker id
 *   gaffer registered; the next new pod of that Deployment the pods informer shows is bound to the
 *   oldest queued id. The pod's worker connects naming itself by its pod name; `workerIdFor` turns
 *   that into the bound id, so the gateway sees the worker it started and is waiting for.
 * - Scale in: the gateway drains a worker (it takes nothing new and exits once it holds no job).
 *   When it has stopped holding nothing, `stopped` removes exactly its pod (`pool-removal.ts`).
 * - A pod that vanishes unasked: its worker's connection closes and the gateway retries its jobs;
 *   the pool only reports the exit (for a worker that had not connected yet).
 *
 * Pods no worker waits for when they appear (left by an earlier gaffer process, or replacing a
 * pod deleted by someone) stay unbound: their workers connect as workers started apart
 * (`remote-<pod>`), and when such a worker is drained its pod is removed the same way. One of a
 * revision other than its type's definition now (gaffer restarted onto a new config) is drained
 * as soon as it connects (`pool-stale.ts`).
 */

export interface PoolOptions {
  api: Pick<
    KubeApi,
    | 'createDeployment'
    | 'listDeployments'
    | 'deleteDeployment'
    | 'readScale'
    | 'patchScale'
    | 'setDeletionCost'
    | 'deletePod'
  >;
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
  pods: Pick<ObjectCache<V1Pod>, 'get' | 'list'>;
  /** Removal deadlines and re-checks; the real one by default. */
  clock?: TimedClock;
  log: Pick<Logger, 'warn' | 'error'>;
}

/** What the pool does, for tests and operators: every binding, every pod gaffer removes. */
export type PoolEvents = EventEmitter<{
  bound: [pod: string, workerId: string];
  removing: [pod: string, workerId: string];
  /** The worker of a pod of an older revision is drained (`pool-stale.ts`). */
  draining: [pod: string, workerId: string];
  /** A bound pod's object is gone from the API (its worker's exit is reported as below). */
  gone: [pod: string, workerId: string];
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

export function createPool(options: PoolOptions): PoolScaler {
  const { namespace, hooks, log } = options;
  const workerOf = new Map<string, string>(); // pod name → worker id
  const podOf = new Map<string, string>(); // worker id → pod name
  /** Bound workers whose connection came up: the gateway learns their exit from its close. */
  const connected = new Set<string>();
  /** Pods already considered for binding: each pod is bound once, when first seen. */
  const seen = new Set<string>();
  const events: PoolEvents = new EventEmitter();
  const revisions = createPoolRevisions({ ...options, log });
  const removal = createPoolRemoval({
    api: options.api,
    revisions,
    podsOf: (deployment) =>
      options.pods.list(namespace).filter((p) => deploymentOf(p) === deployment),
    workerOf: (pod) => workerOf.get(pod),
    announce: (pod, workerId) => events.emit('removing', pod, workerId),
    clock: options.clock ?? systemClock,
    log,
  });
  const { removing } = removal;
  const stale = createStalePods({
    pod: (name) => options.pods.get(name, namespace),
    placeOf: (pod) => {
      const [type, deployment] = [typeOf(pod), deploymentOf(pod)];
      return type && deployment ? { type, deployment } : undefined;
    },
    revisionNow: revisions.revisionNow,
    retire: (pod, workerId) => {
      if (hooks.retire?.(workerId)) events.emit('draining', pod, workerId);
    },
  });

  /** One more pod of the type's current revision (its Deployment created first if need be). */
  async function start(req: StartRequest): Promise<void> {
    const type = req.spec.type;
    let rev: Revision | undefined;
    try {
      const body = await revisions.render(type, req.spec);
      const target = (rev = revisions.of(type, body.metadata.name));
      target.waiting.push(req.workerId);
      await revisions.ensure(target, body);
      revisions.makeCurrent(target);
      await revisions.serial(target, () => revisions.scale(target, +1));
    } catch (err) {
      if (rev) {
        rev.waiting = rev.waiting.filter((id) => id !== req.workerId);
        if (apiStatus(err) === 404) rev.ensured = null; // deleted (an old revision, or by hand)
      }
      log.error({ err, type, worker: req.workerId }, 'kubernetes: starting a pool pod failed');
      hooks.exited(req.workerId, null, null);
    }
  }

  /** A pod is bound when first seen, to the oldest worker waiting for its revision (if any). */
  function onPod(pod: V1Pod): boolean {
    const deployment = deploymentOf(pod);
    const name = pod.metadata?.name;
    if (!deployment || !name) return false;
    removal.changed(deployment);
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
    const wasConnected = workerId !== undefined && connected.has(workerId);
    const asked = removing.delete(name);
    seen.delete(name);
    stale.gone(name);
    unbind(name);
    removal.changed(deploymentOf(pod));
    if (!workerId) return;
    events.emit('gone', name, workerId);
    // A worker that connected is gone when its connection closes: that close comes after every
    // message it sent (the results of the jobs it drained on SIGTERM), and the pod's deletion
    // event may be handled before them — reporting the exit here would retry jobs whose results
    // are on their way. Only a pod deleted before its worker connected is reported here (it would
    // otherwise stay `starting` for ever). Still bound and removed by gaffer, that is a pod that
    // never found a node (removed first, as `removal.ts` says): it stopped as asked (exit 0).
    if (wasConnected) return;
    hooks.exited(workerId, asked ? 0 : null, asked ? null : 'pod deleted');
  }

  function unbind(pod: string): void {
    const workerId = workerOf.get(pod);
    workerOf.delete(pod);
    if (workerId) {
      podOf.delete(workerId);
      connected.delete(workerId);
    }
  }

  /**
   * A connecting pod's worker id: the bound one, or its own name (checked for an older revision,
   * `pool-stale.ts`); null while gaffer removes it.
   */
  function workerIdFor(connectingId: string): string | null {
    if (removing.has(connectingId)) return null;
    const bound = workerOf.get(connectingId);
    if (bound) {
      connected.add(bound);
      return bound;
    }
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
    unbind(pod.metadata!.name!);
    if (clean) void removal.remove(pod, workerId);
  }

  /** Kills a pool worker: its pod is removed, busy or not (as kill does to a process). */
  function kill(workerId: string): void {
    const pod = podOfWorker(workerId);
    if (!pod) return;
    unbind(pod.metadata!.name!);
    void removal.remove(pod, workerId);
  }

  function unboundPods(type: string): string[] {
    const out: string[] = [];
    for (const p of options.pods.list(namespace)) {
      const name = p.metadata?.name;
      if (!name || typeOf(p) !== type || !deploymentOf(p)) continue;
      if (p.metadata?.deletionTimestamp || workerOf.has(name) || removing.has(name)) continue;
      if (ended(p)) continue;
      out.push(name);
    }
    return out;
  }

  function owns(workerId: string): boolean {
    return podOf.has(workerId) || [...revisions.all()].some((r) => r.waiting.includes(workerId));
  }

  return { start, owns, onPod, onPodDeleted, workerIdFor, stopped, kill, unboundPods, events };
}
