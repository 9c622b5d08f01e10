import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { createKubeLeaderLease } from '../../src/executors/kubernetes/leader-lease.ts';
import { kubeAvailable, startCluster, type KubeCluster } from '../helpers/servers/kube.ts';
import { describeLeaderLeaseContract } from '../store/leader-lease.contract.ts';

// The Kubernetes LeaderLease against a real kube-apiserver: its atomicity is the apiserver's
// (AlreadyExists on create, resourceVersion conflicts on replace), so a fake would prove nothing.
const available = kubeAvailable();
const T0 = 1_700_000_000_000;

if (available) {
  let cluster: KubeCluster | undefined;
  before(async () => {
    cluster = await startCluster({ nodes: 1 });
  });
  after(async () => {
    await cluster?.stop();
  });

  /** A namespace of its own per pair (so every pair starts with no leases) and two clients. */
  let namespaces = 0;
  const freshNamespace = async (): Promise<string> => {
    assert.ok(cluster, 'the cluster is not running');
    namespaces += 1;
    const name = `lease-${namespaces}`;
    await cluster.request('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name },
    });
    return name;
  };
  const client = (namespace: string) => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(cluster!.kubeconfig);
    return createKubeLeaderLease({ kubeConfig, namespace });
  };

  describeLeaderLeaseContract('kubernetes', async () => {
    const ns = await freshNamespace();
    return { a: client(ns), b: client(ns), close: async () => {} };
  });

  describe('kubernetes leader lease', () => {
    test('the Lease object shows the holder to kubectl', async () => {
      const ns = await freshNamespace();
      const [a, b] = [client(ns), client(ns)];
      const lease = async () =>
        JSON.parse(
          await cluster!.kubectl(['get', 'lease', '-n', ns, 'gaffer-autoscaler', '-o', 'json']),
        ) as {
          metadata: { annotations?: Record<string, string> };
          spec: {
            holderIdentity?: string;
            leaseDurationSeconds?: number;
            leaseTransitions?: number;
            acquireTime?: string;
            renewTime?: string;
          };
        };

      assert.equal(await a.acquire('autoscaler', 'gaffer-a', 10_500, T0), true);
      let seen = await lease();
      assert.equal(seen.spec.holderIdentity, 'gaffer-a');
      assert.equal(seen.spec.leaseDurationSeconds, 11, 'whole seconds, rounded up');
      assert.equal(seen.spec.leaseTransitions, 0);
      assert.equal(seen.spec.renewTime, '2023-11-14T22:13:20.000000Z', 'MicroTime of `now`');
      assert.equal(seen.metadata.annotations?.['gaffer.dev/expires-at-ms'], `${T0 + 10_500}`);

      // A renewal keeps acquireTime; a new holder counts a transition.
      assert.equal(await a.acquire('autoscaler', 'gaffer-a', 10_500, T0 + 1_250), true);
      seen = await lease();
      assert.equal(seen.spec.acquireTime, '2023-11-14T22:13:20.000000Z');
      assert.equal(seen.spec.renewTime, '2023-11-14T22:13:21.250000Z');
      assert.equal(await b.acquire('autoscaler', 'gaffer-b', 10_500, T0 + 20_000), true);
      seen = await lease();
      assert.equal(seen.spec.holderIdentity, 'gaffer-b');
      assert.equal(seen.spec.leaseTransitions, 1);

      await b.release('autoscaler', 'gaffer-b');
      seen = await lease();
      assert.equal(seen.spec.holderIdentity, undefined, 'released: no holder');
    });

    test('contenders for an expired lease: exactly one replace wins (resourceVersion)', async () => {
      const ns = await freshNamespace();
      const [a, b] = [client(ns), client(ns)];
      assert.equal(await a.acquire('autoscaler', 'old', 1_000, T0), true);
      const won = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? a : b).acquire('autoscaler', `gaffer-${i}`, 10_000, T0 + 5_000),
        ),
      );
      assert.equal(won.filter(Boolean).length, 1);
    });

    test('API errors other than a conflict reject', async () => {
      // No such namespace: creating the Lease is refused with 404, which must not read as "lost".
      await assert.rejects(client('no-such-namespace').acquire('autoscaler', 'x', 1000, T0));
    });
  });
} else {
  test('kubernetes leader lease', { skip: 'Kubernetes test binaries missing' }, () => {});
}
