import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import type { Job } from '../../src/domain/job.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { kubernetesOf } from '../helpers/k8s-executor.ts';
import { kubeAvailable, startCluster, type KubeCluster } from '../helpers/servers/kube.ts';

// The executor's watches expire as they do on a long-lived cluster, only sooner: the apiserver
// ends every watch after 2–4 s (--min-request-timeout), serves watches from etcd (no watch cache)
// and compacts etcd every second. A watch resumed from a resourceVersion older than the
// compaction gets 410 Gone; the informer must relist and carry on, losing no Job's end.
const available = kubeAvailable();
const NS = 'gaffer-expiry';

let cluster: KubeCluster;
let g: TestGaffer;

before(async () => {
  if (!available) return;
  cluster = await startCluster({
    nodes: 1,
    apiserverArgs: [
      '--min-request-timeout=2',
      '--watch-cache=false',
      '--etcd-compaction-interval=1s',
    ],
  });
  await cluster.request('POST', '/api/v1/namespaces', { metadata: { name: NS } });
  g = await startGaffer({
    executor: {
      kind: 'kubernetes',
      gafferUrl: 'http://gaffer.example:8080',
      kubernetes: { kubeconfig: cluster.kubeconfig, namespace: NS },
    },
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      ok: {
        mode: 'per-job',
        worker: { image: 'example.com/batch:1' },
        kubernetes: { podAnnotations: { 'gaffer.test/run-for': '200ms' } },
      },
    },
  });
});
after(async () => {
  await g?.close();
  await cluster?.stop();
});

async function run(): Promise<Job> {
  const res = await g.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type: 'ok' } });
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json<{ job: { id: string } }>().job.id;
  let job: Job | undefined;
  await until(g, async () => {
    job = await g.orch.store.get(id);
    return job?.state === 'succeeded' || job?.state === 'failed';
  });
  return job!;
}

test(
  'watches that expire and resume past a compaction (410 Gone) relist and miss no Job',
  { skip: !available && 'Kubernetes test binaries missing', timeout: 120_000 },
  async () => {
    assert.equal((await run()).state, 'succeeded');
    // Quiet now: the jobs watch's resourceVersion ages past the compaction until a watch ends and
    // its resumption is refused with 410 — the informer lists again.
    const [resource] = (await once(kubernetesOf(g.orch).watchEvents, 'relist')) as [string];
    assert.ok(['jobs', 'pods', 'nodes'].includes(resource));
    const jobs = await Promise.all([run(), run(), run()]);
    assert.deepEqual(
      jobs.map((j) => j.state),
      ['succeeded', 'succeeded', 'succeeded'],
    );
  },
);
