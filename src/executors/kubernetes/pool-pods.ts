import type { V1Pod } from '@kubernetes/client-node';
import { POOL, poolName, revisionName } from './pool-manifest.ts';

/** What a pool pod's own metadata says: its type, its Deployment, whether it still counts. Pure. */

/** The job type of a pool pod (its annotation: a label value may stand for several names). */
export function typeOf(pod: V1Pod): string | undefined {
  return pod.metadata?.annotations?.[POOL.typeAnnotation];
}

/** The Deployment of a pool pod (by its type and revision); undefined for any other pod. */
export function deploymentOf(pod: V1Pod): string | undefined {
  const type = typeOf(pod);
  const labels = pod.metadata?.labels;
  if (!type || !labels?.[POOL.label]) return undefined;
  const revision = labels[POOL.revisionLabel];
  return revision ? revisionName(type, revision) : poolName(type);
}

/** A pod whose container ended (it counts for no ReplicaSet, nor as capacity). */
export function ended(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** A pod its ReplicaSet counts: not being deleted, not ended. */
export function live(pod: V1Pod): boolean {
  return !pod.metadata?.deletionTimestamp && !ended(pod);
}
