import type { V1Pod } from '@kubernetes/client-node';

/**
 * Pods of a type's older revisions found after a restart (the definition changed while gaffer was
 * down, or gaffer restarted onto a new config): they still run, and their workers connect as
 * workers started apart (`remote-<pod>`), which a reload never saw. Each such worker is drained
 * here, once per connection, as a reload drains: `retire` — it takes nothing new, finishes the
 * jobs it holds (a busy pod is never killed), then exits; the pool removes its idle pod and, with
 * the last one, the old Deployment (`pool.ts`). The autoscaler starts the current revision's
 * workers as the backlog needs.
 *
 * When: as the worker connects, or — its pod not in the informer's cache yet — when the informer
 * first shows the pod. Against what: the Deployment of the type's definition now
 * (`revisionNow`), known once gaffer knows its own URL (part of the template); a worker that
 * connected before that may take jobs meanwhile, and is drained once it is known, after them.
 * Pods bound to a worker this process started are left out: they were started on the revision
 * current then, and a reload since has drained them already.
 */
export interface StalePodsOptions {
  /** The pod by name, from the pods informer's cache. */
  pod(name: string): V1Pod | undefined;
  /** The pod's type and Deployment (its revision); undefined for a pod that is no pool pod. */
  placeOf(pod: V1Pod): { type: string; deployment: string } | undefined;
  /** The Deployment of the type's definition now; null when that cannot be told. */
  revisionNow(type: string): Promise<string | null>;
  /** Drains the worker of `pod` (the gateway's retire), as a reload would. */
  retire(pod: string, workerId: string): void;
}

export interface StalePods {
  /** An unbound pod's worker is connecting (`workerIdFor`). */
  connected(pod: string): void;
  /** The informer shows the pod (added or changed). */
  seen(pod: string): void;
  /** The pod, or its worker, is gone: nothing left to check. */
  gone(pod: string): void;
}

export function createStalePods(o: StalePodsOptions): StalePods {
  /** Pods whose worker connected and that were not checked yet (not in the cache then). */
  const unchecked = new Set<string>();

  /**
   * Compares the pod's revision with the definition's. `connected` is called as the connect route
   * asks for the worker's id, before it registers the worker in that same synchronous turn
   * (api/routes/workers-connect.ts); `retire` comes after an await, so after the registration.
   */
  async function check(name: string): Promise<void> {
    const pod = o.pod(name);
    const place = pod && o.placeOf(pod);
    if (!place) return; // not seen yet (or no pool pod): `seen` checks it once it is
    unchecked.delete(name);
    const now = await o.revisionNow(place.type);
    if (now !== null && now !== place.deployment) o.retire(name, `remote-${name}`);
  }

  return {
    connected(pod) {
      unchecked.add(pod);
      void check(pod);
    },
    seen(pod) {
      if (unchecked.has(pod)) void check(pod);
    },
    gone(pod) {
      unchecked.delete(pod);
    },
  };
}
