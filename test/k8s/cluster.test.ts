import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchV1Api, CoreV1Api, KubeConfig, type V1Job } from '@kubernetes/client-node';
import { watchUntil } from '../helpers/k8s-watch.ts';
import { kubeAvailable, startCluster } from '../helpers/servers/kube.ts';

// Smoke test of the Kubernetes test cluster itself: etcd + kube-apiserver + kube-controller-manager
// + kube-scheduler + kwok together. A batch/v1 Job goes through the real Job controller and the
// real scheduler onto a kwok node, where kwok plays its pod to Succeeded (no container runs).
const available = kubeAvailable();

test(
  'a real control plane with kwok nodes runs a batch/v1 Job to Complete',
  { skip: !available && 'Kubernetes test binaries missing', timeout: 300_000 },
  async (t) => {
    const started = Date.now();
    const cluster = await startCluster({ nodes: 3, cpu: '4', memory: '8Gi', pods: 110 });
    t.after(() => cluster.stop());
    const startMs = Date.now() - started;

    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const batch = kc.makeApiClient(BatchV1Api);

    const nodes = await core.listNode({ labelSelector: 'type=kwok' });
    assert.equal(nodes.items.length, 3);
    for (const node of nodes.items) {
      assert.equal(node.status?.capacity?.['cpu'], '4');
      assert.equal(node.status?.allocatable?.['memory'], '8Gi');
    }

    const name = 'smoke';
    const body: V1Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'main',
                image: 'busybox',
                command: ['sh', '-c', 'echo hello'],
                resources: { requests: { cpu: '100m', memory: '64Mi' } },
              },
            ],
          },
        },
      },
    };
    await batch.createNamespacedJob({ namespace: 'default', body });

    const jobStarted = Date.now();
    const job = await watchUntil<V1Job>(
      cluster,
      '/apis/batch/v1/namespaces/default/jobs',
      `metadata.name=${name}`,
      (j) =>
        j.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ?? false,
    );
    assert.equal(job.status?.succeeded, 1, `Job not complete: ${JSON.stringify(job.status)}`);
    const jobMs = Date.now() - jobStarted;

    // The pod was scheduled onto a kwok node and terminated the way a kubelet reports it.
    const pods = await core.listNamespacedPod({
      namespace: 'default',
      labelSelector: `job-name=${name}`,
    });
    assert.equal(pods.items.length, 1);
    const pod = pods.items[0]!;
    assert.ok(cluster.nodeNames.includes(pod.spec?.nodeName ?? ''), 'scheduled onto a kwok node');
    assert.equal(pod.status?.phase, 'Succeeded');
    const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.reason, 'Completed');
    assert.equal(terminated?.exitCode, 0);

    // The kubeconfig works for kubectl too.
    const out = await cluster.kubectl(['get', 'job', name, '-o', 'jsonpath={.status.succeeded}']);
    assert.equal(out, '1');

    t.diagnostic(
      `cluster start ${startMs} ms; Job complete in ${jobMs} ms; ` +
        `components' RSS ${Math.round(cluster.rssBytes() / 2 ** 20)} MiB`,
    );
  },
);
