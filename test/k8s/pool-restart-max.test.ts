import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { POOL } from '../../src/executors/kubernetes/pool-manifest.ts';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';
import { gatedJobs, kubeConfig, preparePool } from '../helpers/k8s-pool.ts';
import type { PoolKubelet } from '../helpers/pool-kubelet.ts';
import { poolProbe } from '../helpers/k8s-pool-probe.ts';
import { kubeAvailable, startCluster, type KubeCluster } from '../helpers/servers/kube.ts';

// Seen in the chaos suite's kubernetes × gaffer-kill (pods beyond the pool's max left after the
// drain, and duplicates from the load of 9 workers for a max of 4). A gaffer restarted while its
// pool's pods run counted none of them until their workers reconnected — and a worker that lost
// gaffer waits out its container's restart back-off first — so with jobs ready it started a whole
// pool beside them, past `scaling.max`, at every restart. The restarted gaffer now counts each
// pool pod no worker is bound to as a starting worker: it starts none while they come back.
const available = kubeAvailable();
const NS = 'gaffer-pool-restart-max';
const TYPE = 'gated';
const TOKEN = 'pool-restart-max-worker-token-0123456789';
const MAX = 2;
const { submit, jobWhen, deployments, scaleOf } = poolProbe(NS, TYPE);

const gates = gatedJobs('gaffer-pool-restart-max-');
const release = gates.release;

describe(
  'Kubernetes pool executor, restart with the pool running',
  { skip: !available && 'Kubernetes test binaries missing' },
  () => {
    let cluster: KubeCluster;
    let kubelet: PoolKubelet;
    let first: TestGaffer | undefined;
    let second: TestGaffer | undefined;
    const raw = () =>
      kubeConfig(
        cluster,
        { namespace: NS, token: TOKEN },
        {
          [TYPE]: {
            mode: 'pool',
            worker: {
              image: 'example.com/gaffer:1',
              command: gates.command,
              env: { GATES: gates.dir },
            },
            concurrency: 1,
            // A worker per ready job at once, none retired for idleness during the test.
            scaling: {
              min: 0,
              max: MAX,
              threshold: 0,
              burst: MAX,
              idleSeconds: 3600,
              drainTargetSeconds: 0,
            },
            kubernetes: { resources: { requests: { cpu: '100m', memory: '64Mi' } } },
          },
        },
      );

    before(async () => {
      cluster = await startCluster({ nodes: 2, cpu: '4', memory: '8Gi', pods: 20 });
      // A worker that lost gaffer exits; its container is restarted at once (no gaffer yet: it
      // exits again), then after 5 s: the restarted gaffer meets jobs before the pods' workers.
      kubelet = await preparePool(
        cluster,
        { namespace: NS, type: TYPE, token: TOKEN },
        { initialBackoffMs: 5000, maxBackoffMs: 5000 },
      );
      first = await startGaffer(raw());
    });
    after(async () => {
      await second?.close();
      await first?.close();
      await kubelet?.stop();
      await cluster?.stop();
      gates.remove();
    });

    test('a restarted gaffer counts the pods left running: it starts none past the max', async () => {
      const g1 = first!;
      // A full pool: MAX jobs at once, each on a pod of its own.
      const before = await Promise.all(Array.from({ length: MAX }, () => submit(g1)));
      await Promise.all(before.map((id) => jobWhen(g1, id, (j) => j.state === 'running')));
      before.forEach(release);
      const pods = new Set<string>();
      for (const id of before) {
        const done = await jobWhen(g1, id, (j) => j.state === 'succeeded');
        pods.add((done.result as { pod: string }).pod);
      }
      assert.equal(pods.size, MAX, 'one pod per job');
      const [deployment] = await deployments(cluster);
      const name = deployment!.metadata!.name!;
      assert.equal((await scaleOf(cluster, name)).spec.replicas, MAX);
      await g1.stop();

      // The next gaffer, same store and address: jobs are ready before any old pod's worker is back.
      const port = Number(new URL(g1.url!).port);
      const g2 = (second = await startGaffer(raw(), g1.dataDir, { port }));
      const after = await Promise.all(Array.from({ length: MAX }, () => submit(g2)));
      after.forEach(release);
      for (const id of after) {
        const done = await jobWhen(g2, id, (j) => j.state === 'succeeded');
        const ran = (done.result as { pod: string }).pod;
        assert.ok(pods.has(ran), `job ${id} ran on an old pod, not ${ran}`);
      }

      // No worker was started meanwhile: the Deployment still asks for MAX pods, and has no more.
      assert.equal((await scaleOf(cluster, name)).spec.replicas, MAX);
      const listed = await cluster.request<{ items: V1Pod[] }>(
        'GET',
        `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(`${POOL.label}=${TYPE}`)}`,
      );
      assert.deepEqual(listed.items.map((p) => p.metadata!.name!).sort(), [...pods].sort());
    });
  },
);
