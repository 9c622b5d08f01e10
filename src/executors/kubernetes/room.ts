import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { JobTypeConfig } from '../../config/schema.ts';
import { admit, type Resources } from './admission.ts';
import { freeResources, podRequests } from './capacity.ts';
import { jobManifest } from './job-manifest.ts';
import { poolManifest } from './pool-manifest.ts';

/**
 * How many more workers of a type the cluster takes now: `admit` for per-job starts (caps, the
 * scheduler's signal, then the nodes' free allocatable: `admission.ts`), `room` for the
 * autoscaler's resource limit. Reads the informers' caches and the attempts in flight; no call.
 */
export interface Room {
  /** How many of `wanted` more Jobs of a type may be created now; a pool type: all of them. */
  admit(type: string, wanted: number): number;
  /**
   * More workers of a type the cluster has room for now: per-job, the Jobs admission would let
   * through; pool, the pool pods the nodes' free allocatable fits — known only with node
   * admission (else null, as for no limit at all). 0 for an unknown type.
   */
  room(type: string): number | null;
}

export interface RoomOptions {
  namespace: string;
  jobType(name: string): JobTypeConfig | undefined;
  /** Jobs of every type in flight at once; null: no cap. */
  maxJobs: number | null;
  maxUnscheduled: number | null;
  tokenSecret: { name: string; key: string };
  /** The pods informer's cache; the nodes' (null without node admission). */
  pods: { list(namespace: string): readonly V1Pod[] };
  nodes: { list(): readonly V1Node[] } | null;
  /** The per-job attempts in flight (`per-job.ts`). */
  runs: { inFlight(type: string): number; total(): number; podless(): number };
}

const KINDS = ['cpu', 'memory', 'gpus', 'pods'] as const;

export function createRoom(o: RoomOptions): Room {
  const { namespace, runs } = o;

  function admitJobs(typeName: string, wanted: number): number {
    const type = o.jobType(typeName);
    if (!type) return 0;
    // A pool's pods are bounded by its `scaling.max`; one that does not fit waits Pending, bound
    // to its worker, which counts as capacity on the way (so no more are started for it).
    if (type.mode === 'pool') return wanted;
    const perJob = podRequests(
      jobManifest({
        job: { id: 'x', type: typeName, attempt: 1, timeoutMs: 1000, data: null },
        type,
        namespace,
        gafferUrl: '',
      }).spec.template,
    );
    return admit({
      free: freeNow(perJob),
      unscheduled: o.pods.list(namespace).filter(unscheduled).length + runs.podless(),
      maxUnscheduled: o.maxUnscheduled,
      perJob,
      waiting: wanted,
      inFlight: runs.inFlight(typeName),
      typeCap: null, // the autoscaler's `scaling.max` already bounds a type's workers
      totalInFlight: runs.total(),
      totalCap: o.maxJobs,
    });
  }

  function room(typeName: string): number | null {
    const type = o.jobType(typeName);
    if (!type) return 0;
    if (type.mode === 'per-job') {
      const n = admitJobs(typeName, Number.MAX_SAFE_INTEGER);
      return n === Number.MAX_SAFE_INTEGER ? null : n;
    }
    const perPod = podRequests(
      poolManifest({ typeName, type, namespace, gafferUrl: '', tokenSecret: o.tokenSecret }).spec
        .template,
    );
    const free = freeNow(perPod);
    if (!free) return null;
    let fits = Infinity;
    for (const k of KINDS) {
      if (perPod[k] > 0) fits = Math.min(fits, Math.floor(free[k] / perPod[k]));
    }
    return fits === Infinity ? null : Math.max(0, fits);
  }

  /**
   * The nodes' free allocatable after gaffer's pods — podless Jobs counted at `perPod`, or a
   * burst of starts would overshoot before any pod shows up. null without node admission.
   */
  function freeNow(perPod: Resources): Resources | null {
    if (!o.nodes) return null;
    const free = freeResources(o.nodes.list(), o.pods.list(namespace));
    const n = runs.podless();
    for (const k of KINDS) free[k] -= n * perPod[k];
    return free;
  }

  return { admit: admitJobs, room };
}

/** A pod of a Job waiting for a node (pool pods are bounded by `scaling.max` instead). */
function unscheduled(pod: V1Pod): boolean {
  return (
    !pod.spec?.nodeName &&
    pod.status?.phase === 'Pending' &&
    Boolean(pod.metadata?.labels?.['batch.kubernetes.io/job-name'])
  );
}
