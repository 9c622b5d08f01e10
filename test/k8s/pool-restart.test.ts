import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { POOL } from '../../src/executors/kubernetes/pool-manifest.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { kubernetesOf } from '../helpers/k8s-executor.ts';
import { gatedJobs, kubeConfig, preparePool } from '../helpers/k8s-pool.ts';
import type { PoolKubelet } from '../helpers/pool-kubelet.ts';
import { poolProbe } from '../helpers/k8s-pool-probe.ts';
import { kubeAvailable, startCluster, type KubeCluster } from '../helpers/servers/kube.ts';

// A restart onto a new definition on Kubernetes pool mode: the pods of the type's old revision
// still run and their workers reconnect to the new gaffer as workers started apart. gaffer drains
// them as a reload would — one busy with a job finishes it first — removes each once idle,
// deletes the old Deployment once empty, and new jobs run on pods of the new template. Real
// control plane, kwok nodes, and each Running pod's `gaffer worker` run here by the pool kubelet.
const available = kubeAvailable();
const NS = 'gaffer-pool-restart';
const TYPE = 'slow';
const TOKEN = 'pool-restart-worker-token-0123456789';
const { submit, job, jobWhen, deployments, pod, scaleOf, envOf, deploymentGone } = poolProbe(
  NS,
  TYPE,
);

const gates = gatedJobs('gaffer-pool-restart-');
const release = gates.release;
const definition = (image: string, v: string) => ({
  mode: 'pool',
  worker: { image, command: gates.command, env: { GATES: gates.dir, V: v } },
  concurrency: 1,
  // One worker per waiting job, none retired for idleness during the test.
  scaling: { min: 0, max: 2, threshold: 0, burst: 1, idleSeconds: 3600, drainTargetSeconds: 0 },
  kubernetes: { resources: { requests: { cpu: '100m', memory: '64Mi' } } },
});

describe(
  'Kubernetes pool executor, restart onto a new definition',
  { skip: !available && 'Kubernetes test binaries missing' },
  () => {
    let cluster: KubeCluster;
    let kubelet: PoolKubelet;
    let first: TestGaffer | undefined;
    let second: TestGaffer | undefined;
    const raw = (def: object) =>
      kubeConfig(cluster, { namespace: NS, token: TOKEN }, { [TYPE]: def });

    before(async () => {
      cluster = await startCluster({ nodes: 2, cpu: '4', memory: '8Gi', pods: 20 });
      // A worker that lost gaffer exits; its container is restarted with a short back-off, so it
      // reconnects soon after the next gaffer listens.
      kubelet = await preparePool(
        cluster,
        { namespace: NS, type: TYPE, token: TOKEN },
        { initialBackoffMs: 200, maxBackoffMs: 1000 },
      );
      first = await startGaffer(raw(definition('example.com/gaffer:1', 'old')));
    });
    after(async () => {
      await second?.close();
      await first?.close();
      await kubelet?.stop();
      await cluster?.stop();
      gates.remove();
    });

    test('an old pod’s job finishes; then the pod and its Deployment go; new jobs run on the new template', async () => {
      const g1 = first!;
      // The first gaffer runs a job on a pod of the first revision, then stops: the pod stays.
      const z = await submit(g1);
      release(z);
      const doneZ = await jobWhen(g1, z, (j) => j.state === 'succeeded');
      const oldPod = (doneZ.result as { pod: string }).pod;
      const [oldDeployment] = await deployments(cluster);
      assert.equal(oldDeployment!.metadata!.labels![POOL.label], TYPE);
      const oldName = oldDeployment!.metadata!.name!;
      await g1.stop();

      // The next gaffer, on the same store and address, with a new image and env. Until it knows
      // its own URL it cannot tell the current revision: the old pod's worker reconnects and takes
      // job A meanwhile.
      const g2 = (second = await restart(g1, raw(definition('example.com/gaffer:2', 'new'))));
      const restartedAt = g2.clock.now();
      const removed = new Set<string>();
      const draining: string[] = [];
      kubernetesOf(g2.orch).poolEvents.on('removing', (pod) => removed.add(pod));
      kubernetesOf(g2.orch).poolEvents.on('draining', (pod) => draining.push(pod));
      const a = await submit(g2);
      const running = await jobWhen(g2, a, (j) => j.state === 'running');
      assert.equal(running.leaseOwner, `remote-${oldPod}`, 'job A runs on the old pod');

      // Known now: the old pod's worker is drained, not killed — job A runs on, the pod stays.
      g2.announce();
      const worker = () => g2.orch.gateway.workers(TYPE).find((w) => w.id === running.leaseOwner);
      await until(g2, () => worker()?.state === 'draining', ['worker:state']);
      assert.deepEqual(draining, [oldPod]);
      assert.equal((await job(g2, a)).state, 'running');
      assert.equal(kubelet.deleted.has(oldPod), false);
      assert.equal((await scaleOf(cluster, oldName)).spec.replicas, 1);

      // Released, job A ends on the old pod; only then the pod goes, and its Deployment.
      const releasedAt = Date.now();
      release(a);
      const doneA = await jobWhen(g2, a, (j) => j.state === 'succeeded');
      assert.deepEqual(doneA.result, { pod: oldPod });
      await deploymentGone(cluster, oldName);
      assert.ok(removed.has(oldPod), 'gaffer removed the drained pod');
      assert.ok(kubelet.deleted.get(oldPod)! >= releasedAt, 'deleted after its job was done');

      // A new job runs on a pod of the new template, the type's one Deployment now.
      const b = await submit(g2);
      release(b);
      const doneB = await jobWhen(g2, b, (j) => j.state === 'succeeded');
      const newPod = await pod(cluster, (doneB.result as { pod: string }).pod);
      assert.equal(newPod.spec!.containers[0]!.image, 'example.com/gaffer:2');
      assert.equal(envOf(newPod)['V'], 'new');
      const listed = await deployments(cluster);
      assert.equal(listed.length, 1);
      assert.equal(
        newPod.metadata!.labels![POOL.revisionLabel],
        listed[0]!.metadata!.labels![POOL.revisionLabel],
      );

      // Every pod deleted was one gaffer chose; no job ran twice; no worker of the second gaffer
      // crashed (the first one's lost their connection as it stopped).
      assert.deepEqual([...kubelet.deleted.keys()].sort(), [...removed].sort());
      for (const id of [z, a, b]) {
        assert.equal((await g2.orch.store.attempts(id)).length, 1, `${id} ran once`);
      }
      await g2.orch.gateway.recorded();
      const events = await g2.orch.store.workerEvents({ type: TYPE, limit: 100 });
      const crashed = events.filter((e) => e.event === 'crashed' && e.at >= restartedAt);
      assert.deepEqual(crashed, []);
    });
  },
);

/**
 * gaffer started again on `g`'s data dir and address (where the pods' workers reconnect) with
 * the config `raw`. It is told its own URL only at `announce`: until then it can render no pod
 * template, so cannot tell which revision is current (as in the moment between a restarted
 * gaffer's listen and its knowing its address).
 */
async function restart(g: TestGaffer, raw: Record<string, unknown>): Promise<TestGaffer> {
  const port = Number(new URL(g.url!).port);
  const again = await startGaffer(raw, g.dataDir, { port, announce: 'later' });
  assert.equal(again.url, g.url);
  return again;
}
