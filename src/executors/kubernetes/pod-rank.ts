import type { V1Pod } from '@kubernetes/client-node';

/**
 * The order in which a ReplicaSet deletes pods when its replicas are lowered, as far as gaffer
 * needs it (pool.ts lowers them only when the pod it chose comes first). Pure: table-tested.
 */

export const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
/** The annotation's lowest value: the ReplicaSet deletes such a pod before any other Running one. */
export const CHEAPEST = '-2147483648';

/** The ReplicaSet's ranking of pod phases when it picks pods to delete (Pending goes first). */
const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * A pod's place in the order the ReplicaSet deletes pods in (`ActivePodsWithRanks`), by its first
 * keys: unassigned before assigned, Pending before Unknown before Running, not Ready before Ready,
 * then the lower `pod-deletion-cost`. Its later keys (pods doubled up on a node, time Ready, age)
 * are left out: gaffer lowers the replicas only when these decide alone.
 */
export function deletionRank(pod: V1Pod): number[] {
  const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  const cost = Number.parseInt(pod.metadata?.annotations?.[DELETION_COST] ?? '0', 10);
  return [
    pod.spec?.nodeName ? 1 : 0,
    PHASE_RANK[pod.status?.phase ?? ''] ?? 0,
    ready ? 1 : 0,
    Number.isNaN(cost) ? 0 : cost,
  ];
}

export function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** A pod the scheduler found no node for: it will not run until room is made. */
export function unschedulable(pod: V1Pod): boolean {
  return (
    !pod.spec?.nodeName &&
    Boolean(
      pod.status?.conditions?.some(
        (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
      ),
    )
  );
}

/** A pod gaffer marked for the ReplicaSet to delete first. */
export function marked(pod: V1Pod): boolean {
  return pod.metadata?.annotations?.[DELETION_COST] === CHEAPEST;
}
