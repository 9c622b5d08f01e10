/**
 * Resource-aware admission (free node resources, unscheduled pods, concurrency caps): how many
 * more Jobs of a type the executor may create now, so it never floods the cluster with pods that
 * cannot be placed. Pure: the executor feeds it what its informers see.
 *
 * Two signals of "the cluster is full", either or both:
 * - the scheduler's own (namespace-scoped, the default): at most `maxUnscheduled` of gaffer's pods
 *   wait for a node at any time — when the cluster is full they stay unscheduled, so creation
 *   stops there, and resumes as the scheduler places them. It knows taints, affinity and every
 *   other namespace's pods, which gaffer cannot see without cluster-wide reads.
 * - the nodes' free allocatable (`free`, when gaffer may read nodes): a Job is admitted while the
 *   schedulable nodes' allocatable, minus the requests of gaffer's pods not yet ended (Pending
 *   ones too, so a burst cannot overcommit before the scheduler placed anything), fits it.
 * And always the caps on Jobs in flight, per type and overall.
 */

export interface Resources {
  /** Millicores. */
  cpu: number;
  /** Bytes. */
  memory: number;
  gpus: number;
  /** Pod slots (a node's `pods` allocatable). */
  pods: number;
}

export interface AdmissionInput {
  /** Free allocatable across schedulable nodes, after every bound and Pending pod's requests. */
  free: Resources | null;
  /** gaffer's pods not yet bound to a node, and how many may be (null: no limit). */
  unscheduled: number;
  maxUnscheduled: number | null;
  /** One Job's pod requests (pods: 1). */
  perJob: Resources;
  /** Jobs of this type waiting to be created. */
  waiting: number;
  /** Jobs of this type in flight, and the type's cap (null: none). */
  inFlight: number;
  typeCap: number | null;
  /** Jobs of every type in flight, and the overall cap (null: none). */
  totalInFlight: number;
  totalCap: number | null;
}

export function admit(input: AdmissionInput): number {
  const byCap = Math.min(
    input.typeCap === null ? Infinity : input.typeCap - input.inFlight,
    input.totalCap === null ? Infinity : input.totalCap - input.totalInFlight,
  );
  let byCapacity =
    input.maxUnscheduled === null ? Infinity : input.maxUnscheduled - input.unscheduled;
  for (const key of ['cpu', 'memory', 'gpus', 'pods'] as const) {
    const need = input.perJob[key];
    if (input.free && need > 0) {
      byCapacity = Math.min(byCapacity, Math.floor(input.free[key] / need));
    }
  }
  return Math.max(0, Math.min(input.waiting, byCap, byCapacity));
}
