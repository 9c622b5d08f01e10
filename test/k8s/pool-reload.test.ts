import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { POOL } from '../../src/executors/kubernetes/pool-manifest.ts';
import type { TestGaffer } from '../helpers/gaffer.ts';
import { kubernetesOf } from '../helpers/k8s-executor.ts';
import { startPool } from '../helpers/k8s-pool.ts';
import type { PoolKubelet } from '../helpers/pool-kubelet.ts';
import { poolProbe } from '../helpers/k8s-pool-probe.ts';
import { kubeAvailable, startCluster, type KubeCluster } from '../helpers/servers/kube.ts';

// Live reload on Kubernetes pool mode: a changed definition gives the type a new worker
// Deployment (one per pod-template revision), new workers start there, the pods of the old one —
// a busy one included — are never killed by Kubernetes: gaffer drains them, removes each once
// idle, and deletes the old Deployment once empty. Real control plane, kwok nodes, and each
// Running pod's `gaffer worker` run here by the pool kubelet with the pod's own env.
const available = kubeAvailable();
const NS = 'gaffer-pool-reload';
const TYPE = 'slow';
const TOKEN = 'pool-reload-worker-token-0123456789';
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const { submit, job, jobWhen, deployments, pod, scaleOf, envOf, deploymentGone } = poolProbe(
  NS,
  TYPE,
);

/** What a gaffer of before revisions left: `gaffer-pool-<type>`, scaled in to 0. */
const LEGACY = (() => {
  const labels = { 'app.kubernetes.io/managed-by': 'gaffer', [POOL.label]: TYPE };
  return {
    metadata: { name: `gaffer-pool-${TYPE}`, labels },
    spec: {
      replicas: 0,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'worker', image: 'example.com/gaffer:0' }] },
      },
    },
  };
})();

const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-pool-reload-'));
/** A job waits for the file its pod's env names in GATE, then prints the pod's V. */
const gate = (name: string) => path.join(dir, name);
const command = [
  'sh',
  '-c',
  'while [ ! -f "$GATE" ]; do sleep 0.05; done; echo "{\\"v\\": \\"$V\\"}"',
];
const definition = (image: string, env: Record<string, string>) => ({
  mode: 'pool',
  worker: { image, command, env },
  concurrency: 1,
  // One worker per waiting job, none retired for idleness during the test.
  scaling: { min: 0, max: 2, threshold: 0, burst: 1, idleSeconds: 3600, drainTargetSeconds: 0 },
  kubernetes: { resources: { requests: { cpu: '100m', memory: '64Mi' } } },
});

describe(
  'Kubernetes pool executor, config reload',
  { skip: !available && 'Kubernetes test binaries missing' },
  () => {
    let cluster: KubeCluster;
    let kubelet: PoolKubelet;
    let g: TestGaffer;

    before(async () => {
      writeFileSync(gate('new'), '');
      cluster = await startCluster({ nodes: 2, cpu: '4', memory: '8Gi', pods: 20 });
      const first = definition('example.com/gaffer:1', { V: 'old', GATE: gate('old') });
      ({ kubelet, g } = await startPool(cluster, {
        namespace: NS,
        type: TYPE,
        token: TOKEN,
        worker: first.worker,
        concurrency: first.concurrency,
        scaling: first.scaling,
      }));
      // Before the type's first start (the first job): found then, adopted as an old revision.
      await cluster.request('POST', DEPLOYMENTS, LEGACY);
    });
    after(async () => {
      await g?.close();
      await kubelet?.stop();
      await cluster?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    test('a busy pod finishes on the old template; new pods use the new; the old Deployment goes', async () => {
      const bound = new Map<string, string>(); // worker id → pod
      const removed = new Set<string>();
      kubernetesOf(g.orch).poolEvents.on('bound', (pod, id) => bound.set(id, pod));
      kubernetesOf(g.orch).poolEvents.on('removing', (pod) => removed.add(pod));

      // Job A runs on the first revision's pod, waiting at its gate.
      const a = await submit(g);
      const running = await jobWhen(g, a, (j) => j.state === 'running');
      const busyPod = bound.get(running.leaseOwner!)!;
      assert.ok(busyPod, 'job A runs on a pod gaffer started');
      // The empty Deployment of a gaffer of before revisions was adopted as an old one: deleted.
      await deploymentGone(cluster, LEGACY.metadata.name);
      const listed = await deployments(cluster);
      assert.equal(listed.length, 1);
      const oldName = listed[0]!.metadata!.name!;

      // The env changes: the busy worker is drained (not killed), new workers use the new template.
      const reloaded = await g.orch.reload(nextConfig(g, 'example.com/gaffer:1', 'new'));
      assert.equal(reloaded.ok, true);
      assert.deepEqual(reloaded.changed, [TYPE]);
      const b = await submit(g);
      const doneB = await jobWhen(g, b, (j) => j.state === 'succeeded');
      assert.deepEqual(doneB.result, { v: 'new' });
      const newPod = bound.get(await ranOn(g, b))!;
      const spec = await pod(cluster, newPod);
      assert.deepEqual(envOf(spec), { V: 'new', GATE: gate('new') });
      const current = (await deployments(cluster)).find((d) => d.metadata!.name !== oldName);
      assert.ok(current, 'a second Deployment, of the new template');
      assert.equal(
        spec.metadata!.labels![POOL.revisionLabel],
        current.metadata!.labels![POOL.revisionLabel],
      );

      // Job A still runs on its pod, untouched: nobody deleted it.
      assert.equal((await job(g, a)).state, 'running');
      assert.equal(kubelet.deleted.has(busyPod), false);
      assert.deepEqual(envOf(await pod(cluster, busyPod)), { V: 'old', GATE: gate('old') });
      assert.equal((await scaleOf(cluster, oldName)).spec.replicas, 1);

      // Released, job A ends on the old definition; only then its pod goes, and its Deployment.
      const releasedAt = Date.now();
      writeFileSync(gate('old'), '');
      const doneA = await jobWhen(g, a, (j) => j.state === 'succeeded');
      assert.deepEqual(doneA.result, { v: 'old' });
      await deploymentGone(cluster, oldName);
      assert.ok(removed.has(busyPod), 'gaffer removed the drained pod');
      assert.ok(kubelet.deleted.get(busyPod)! >= releasedAt, 'deleted after its job was let go');

      // Only the image changes (a pod-template field only Kubernetes sees): the idle worker on the
      // second revision is drained and removed too, and the next job runs on a third revision.
      const second = current.metadata!.name!;
      const again = await g.orch.reload(nextConfig(g, 'example.com/gaffer:2', 'new'));
      assert.deepEqual([again.ok, again.changed], [true, [TYPE]]);
      const c = await submit(g);
      const doneC = await jobWhen(g, c, (j) => j.state === 'succeeded');
      assert.deepEqual(doneC.result, { v: 'new' });
      const third = await pod(cluster, bound.get(await ranOn(g, c))!);
      assert.equal(third.spec!.containers[0]!.image, 'example.com/gaffer:2');
      await deploymentGone(cluster, second);
      assert.ok(removed.has(newPod), 'the second revision’s pod was drained and removed');

      // Every deleted pod was one gaffer chose; no worker crashed, no job ran twice.
      assert.deepEqual([...kubelet.deleted.keys()].sort(), [...removed].sort());
      await g.orch.gateway.recorded();
      const events = await g.orch.store.workerEvents({ type: TYPE, limit: 100 });
      assert.deepEqual(
        events.filter((e) => e.event === 'crashed'),
        [],
      );
      for (const id of [a, b, c]) {
        assert.equal((await g.orch.store.attempts(id)).length, 1, `${id} ran once`);
      }
      assert.equal(await ranOn(g, a), running.leaseOwner, 'job A ended on the worker it began on');
    });
  },
);

/** The running config with the type's image and V (its gate follows V) changed. */
function nextConfig(g: TestGaffer, image: string, v: string) {
  const parsed = parseConfig(
    { jobTypes: { [TYPE]: definition(image, { V: v, GATE: gate(v) }) } },
    'test',
  );
  return { ...g.orch.config, jobTypes: parsed.jobTypes };
}

/** The worker that ran the job's (only) attempt. */
async function ranOn(g: TestGaffer, id: string): Promise<string> {
  const [attempt] = await g.orch.store.attempts(id);
  return attempt!.worker!;
}
