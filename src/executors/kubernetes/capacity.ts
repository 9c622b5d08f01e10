import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { millicores, quantity } from '../../config/quantity.ts';
import type { Resources } from './admission.ts';

/**
 * What admission needs from the informers' caches, as pure functions: the cluster's free
 * allocatable and one Job's requests. Only nodes that take new pods count (not cordoned, Ready),
 * and only pods that hold their requests (not Succeeded or Failed) are subtracted — bound or still
 * Pending, so a burst of creations cannot overcommit before the scheduler places anything.
 */

export function freeResources(nodes: readonly V1Node[], pods: readonly V1Pod[]): Resources {
  const free: Resources = { cpu: 0, memory: 0, gpus: 0, pods: 0 };
  for (const node of nodes) {
    if (!schedulable(node)) continue;
    add(free, fromQuantities(node.status?.allocatable ?? {}), 1);
  }
  for (const pod of pods) {
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    add(free, podRequests(pod), -1);
  }
  return free;
}

/** One pod's requests: its containers' summed (requests default to limits, as Kubernetes does). */
export function podRequests(pod: Pick<V1Pod, 'spec'>): Resources {
  const total: Resources = { cpu: 0, memory: 0, gpus: 0, pods: 1 };
  for (const c of pod.spec?.containers ?? []) {
    const r = { ...c.resources?.limits, ...c.resources?.requests };
    add(total, { ...fromQuantities(r), pods: 0 }, 1);
  }
  return total;
}

function fromQuantities(q: Record<string, string>): Resources {
  return {
    cpu: q['cpu'] ? millicores(q['cpu']) : 0,
    memory: q['memory'] ? quantity(q['memory']) : 0,
    gpus: q['nvidia.com/gpu'] ? quantity(q['nvidia.com/gpu']) : 0,
    pods: q['pods'] ? quantity(q['pods']) : 0,
  };
}

function schedulable(node: V1Node): boolean {
  if (node.spec?.unschedulable) return false;
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function add(into: Resources, r: Resources, sign: 1 | -1): void {
  into.cpu += sign * r.cpu;
  into.memory += sign * r.memory;
  into.gpus += sign * r.gpus;
  into.pods += sign * r.pods;
}
