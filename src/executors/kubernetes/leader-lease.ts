import {
  CoordinationV1Api,
  V1MicroTime,
  type KubeConfig,
  type V1Lease,
} from '@kubernetes/client-node';
import type { LeaderLease } from '../../store/leader-lease.ts';

/**
 * `LeaderLease` on a coordination.k8s.io/v1 Lease object (one per lease name, in `namespace`),
 * for gaffer on Kubernetes without a shared SQL store. The contract is the interface's (and
 * `test/store/leader-lease.contract.ts`): times are the caller's `now`, never the apiserver's.
 *
 * Atomicity comes from the apiserver: a create of a taken name is refused (409 AlreadyExists),
 * and every change is a replace carrying the `resourceVersion` that was read, refused (409
 * Conflict) if anyone wrote in between — so of concurrent writers at most one succeeds.
 *
 * `leaseDurationSeconds` is whole seconds, so the exact expiry (ms) is kept in an annotation and
 * decisions use it; the spec fields are still filled in so that `kubectl get lease` and other
 * tools read the Lease the usual way. RBAC: get, create, update on `leases`.
 */
const EXPIRES_AT = 'gaffer.dev/expires-at-ms';

export interface KubeLeaderLeaseOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Object name = `${prefix}-${name}`: both must keep it a DNS subdomain (default `gaffer`). */
  prefix?: string;
}

export function createKubeLeaderLease(options: KubeLeaderLeaseOptions): LeaderLease {
  const api = options.kubeConfig.makeApiClient(CoordinationV1Api);
  const { namespace } = options;
  const objectName = (name: string) => `${options.prefix ?? 'gaffer'}-${name}`;

  /** The Lease, or undefined when there is none (404). */
  const read = async (name: string): Promise<V1Lease | undefined> => {
    try {
      return await api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  };

  /** Replaces `lease` as read; false when another writer got there first (409). */
  const replace = async (lease: V1Lease): Promise<boolean> => {
    try {
      await api.replaceNamespacedLease({ name: lease.metadata!.name!, namespace, body: lease });
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false;
      throw err;
    }
  };

  /** The Lease for `holder` from `now`; `transitions` counts changes of holder. */
  const spec = (holder: string, ttlMs: number, now: number, transitions: number) => ({
    holderIdentity: holder,
    // The apiserver refuses 0; ceil so that its view never ends before ours.
    leaseDurationSeconds: Math.max(1, Math.ceil(ttlMs / 1000)),
    acquireTime: new V1MicroTime(now),
    renewTime: new V1MicroTime(now),
    leaseTransitions: transitions,
  });

  return {
    async acquire(name, holder, ttlMs, now) {
      let lease = await read(objectName(name));
      if (!lease) {
        try {
          await api.createNamespacedLease({
            namespace,
            body: {
              metadata: { name: objectName(name), annotations: { [EXPIRES_AT]: `${now + ttlMs}` } },
              spec: spec(holder, ttlMs, now, 0),
            },
          });
          return true;
        } catch (err) {
          if (statusOf(err) !== 409) throw err;
        }
        // Someone else created it between our read and our create: decide on what they wrote.
        lease = await read(objectName(name));
        if (!lease) return false;
      }

      const current = lease.spec ?? {};
      const renewal = current.holderIdentity === holder;
      if (!renewal && current.holderIdentity && expiresAt(lease) >= now) return false;
      const next = spec(holder, ttlMs, now, (current.leaseTransitions ?? 0) + (renewal ? 0 : 1));
      // A renewal keeps the time the holder first acquired it (read back as the server's string).
      if (renewal && current.acquireTime) next.acquireTime = current.acquireTime;
      return replace({
        ...lease,
        metadata: {
          ...lease.metadata,
          annotations: { ...lease.metadata?.annotations, [EXPIRES_AT]: `${now + ttlMs}` },
        },
        spec: { ...current, ...next },
      });
    },

    async release(name, holder) {
      const lease = await read(objectName(name));
      if (lease?.spec?.holderIdentity !== holder) return;
      // Clear the holder and the expiry; on a 409 someone wrote in between (a successor after
      // our expiry, or our own renewal racing this) and the lease is left as they wrote it.
      const { holderIdentity: _gone, ...rest } = lease.spec;
      await replace({
        ...lease,
        metadata: {
          ...lease.metadata,
          annotations: { ...lease.metadata?.annotations, [EXPIRES_AT]: '0' },
        },
        spec: rest,
      });
    },
  };
}

/**
 * When the Lease ends, in ms: our annotation, else (a Lease some other tool wrote) the spec's
 * renewTime + leaseDurationSeconds. The client returns MicroTime fields as the server's strings
 * despite their `Date` type, hence `String`. Unparseable means expired.
 */
function expiresAt(lease: V1Lease): number {
  const annotated = Number(lease.metadata?.annotations?.[EXPIRES_AT]);
  if (Number.isFinite(annotated)) return annotated;
  const renewed = Date.parse(String(lease.spec?.renewTime ?? ''));
  const ms = renewed + (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
  return Number.isFinite(ms) ? ms : -Infinity;
}

/** The HTTP status of a client-node ApiException (`code`), if it is one. */
function statusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
