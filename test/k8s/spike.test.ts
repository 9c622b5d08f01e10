import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { countByState, multipart, REPO, until, type TestGaffer } from '../helpers/gaffer.ts';
import { kubernetesOf } from '../helpers/k8s-executor.ts';
import { poolDeployment, startPool } from '../helpers/k8s-pool.ts';
import { RATE_WINDOW_MS } from '../../src/autoscaler/activity.ts';
import { watchUntil } from '../helpers/k8s-watch.ts';
import type { PoolKubelet } from '../helpers/pool-kubelet.ts';
import { kubeAvailable, startCluster, type KubeCluster } from '../helpers/servers/kube.ts';

// The default scaling policy on Kubernetes: it drives the pool executor as it drives the local one
// (test/e2e/spike.test.ts). A spike of 2,000 jobs of 0.2 s lands on a worker Deployment at its
// minimum of one pod: the rate rule jumps past `burst` in one step, the real Deployment and
// ReplicaSet controllers add the pods, each pod's real `gaffer worker` (started by
// test/helpers/pool-kubelet.ts) drains its share, every job succeeds once, and once the type has
// been idle the Deployment and gaffer's workers return to the minimum — only idle pods removed,
// no worker crashed.
const available = kubeAvailable();
const NS = 'gaffer-spike';
const TYPE = 'spike';
const TOKEN = 'spike-test-worker-token-0123456789';
const ROWS = 2000;
const MAX = 8;

interface Deployment {
  spec?: { replicas?: number };
  status?: { replicas?: number };
}

describe(
  'Kubernetes pool spike',
  { skip: !available && 'Kubernetes test binaries missing' },
  () => {
    let cluster: KubeCluster;
    let kubelet: PoolKubelet;
    let g: TestGaffer;

    before(async () => {
      // Room for MAX pods of 100m on each node: nothing waits for capacity.
      cluster = await startCluster({ nodes: 2, cpu: '2', memory: '4Gi', pods: MAX });
      ({ kubelet, g } = await startPool(cluster, {
        namespace: NS,
        type: TYPE,
        token: TOKEN,
        // The image is what a real cluster would run; here each pod's worker (a local process)
        // loads the handler from this checkout.
        worker: {
          image: 'example.com/gaffer:1',
          handler: `${path.join(REPO, 'test/e2e/fixtures/handlers.ts')}#row`,
          env: { ROW_DELAY_MS: '200' },
        },
        concurrency: 4,
        scaling: { min: 1, max: MAX, threshold: 40, burst: 2, idleSeconds: 5 },
      }));
    });
    after(async () => {
      await g?.close();
      await kubelet?.stop();
      await cluster?.stop();
    });

    test('2,000 jobs: past burst in one step, drained, back to one pod', async () => {
      const bound = new Map<string, string>(); // pod → worker id
      const removed = new Set<string>();
      const kube = kubernetesOf(g.orch);
      kube.poolEvents.on('bound', (pod, id) => bound.set(pod, id));
      kube.poolEvents.on('removing', (pod) => removed.add(pod));
      const connected = () =>
        g.orch.gateway.workers(TYPE).filter((w) => w.state !== 'starting').length;

      // The minimum: one pod, its worker connected.
      await until(g, () => connected() === 1, ['worker:state']);
      const csv = ['id', ...Array.from({ length: ROWS }, (_, i) => String(i))].join('\n');
      const res = await g.app.inject({
        method: 'POST',
        url: `/upload?type=${TYPE}`,
        ...multipart('spike.csv', csv),
      });
      assert.equal(res.statusCode, 201, res.body);
      await until(g, async () => (await countByState(g, TYPE))['succeeded'] === ROWS, [
        'job:succeeded',
        'job:failed',
      ]);

      const outs = (await g.orch.store.decisions({ type: TYPE, limit: 1000 }))
        .reverse()
        .filter((d) => d.to > d.from && d.from >= 1);
      assert.ok(outs.length > 0, 'scaled out for the spike');
      const first = outs[0]!;
      assert.ok(first.to - first.from > 2, `one step past burst 2: ${first.reason}`);
      assert.match(first.reason, /drain target/);
      const peak = Math.max(...outs.map((d) => d.to));
      assert.ok(peak <= MAX, `at most ${MAX} workers (peak ${peak})`);

      // Skip, on gaffer's clock, the idle window and the arrival-rate window (the spike's
      // arrivals would keep the rate rule above the minimum for a minute): back to one worker.
      g.clock.advance(RATE_WINDOW_MS + 6_000);
      g.orch.loop.poke();
      await until(g, () => g.orch.gateway.workers(TYPE).length === 1, [
        'worker:stopped',
        'scaler:decision',
      ]);
      const deployment = await poolDeployment(cluster, NS, TYPE);
      await watchUntil<Deployment>(
        cluster,
        `/apis/apps/v1/namespaces/${NS}/deployments`,
        `metadata.name=${deployment}`,
        (d) => d.spec?.replicas === 1 && d.status?.replicas === 1,
      );
      const scale = await cluster.request<{ spec: { replicas?: number } }>(
        'GET',
        `/apis/apps/v1/namespaces/${NS}/deployments/${deployment}/scale`,
      );
      assert.equal(scale.spec.replicas, 1);

      // Every pod that ran was one gaffer started a worker for; every pod deleted, one it chose.
      for (const pod of kubelet.started) assert.ok(bound.has(pod), `${pod} was bound`);
      assert.deepEqual([...kubelet.deleted.keys()].sort(), [...removed].sort());
      assert.equal(kubelet.started.size - kubelet.deleted.size, 1, 'one pod left');

      // Only idle workers were stopped, none crashed, and no job ran twice.
      await g.orch.gateway.recorded();
      const events = await g.orch.store.workerEvents({ type: TYPE, limit: 1000 });
      assert.deepEqual(
        events.filter((e) => e.event === 'crashed'),
        [],
      );
      const stopped = events.filter((e) => e.event === 'stopped');
      assert.equal(stopped.length, peak - 1, `the ${peak - 1} workers above the minimum went`);
      assert.ok(stopped.every((e) => e.active === 0));
      const jobs = await allJobs(g);
      assert.equal(jobs.length, ROWS);
      for (const job of jobs) {
        assert.equal(job.state, 'succeeded');
        assert.equal(job.attempt, 1, `${job.id} ran once`);
      }
    });
  },
);

/** Every job of the type, page by page (a page holds at most 1,000). */
async function allJobs(g: TestGaffer) {
  const jobs = [];
  let cursor: string | null = null;
  do {
    const page = await g.orch.store.list({
      type: TYPE,
      limit: 1000,
      ...(cursor ? { cursor } : {}),
    });
    jobs.push(...page.jobs);
    cursor = page.nextCursor;
  } while (cursor);
  return jobs;
}
