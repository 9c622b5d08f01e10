import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { kubernetesOf } from '../helpers/k8s-executor.ts';
import { gatedJobs, kubeConfig, preparePool } from '../helpers/k8s-pool.ts';
import type { PoolKubelet } from '../helpers/pool-kubelet.ts';
import { kubeAvailable, startCluster, type KubeCluster } from '../helpers/servers/kube.ts';

// A busy pool pod deleted from outside (an eviction, `kubectl delete pod`): its worker drains on
// SIGTERM and reports its job's result before its connection closes. The pod's deletion event can
// reach gaffer before that report; gaffer must take the worker's exit from its connection's close,
// not from the pod's deletion, or it retries a job whose result is on its way (a duplicate run).
// Made deterministic: the worker is stopped (SIGSTOP) while its pod object is removed, and let go
// only once gaffer has handled the deletion.
const available = kubeAvailable();
const NS = 'gaffer-pod-deleted';
const TYPE = 'held';
const TOKEN = 'pod-deleted-worker-token-0123456789';
const gates = gatedJobs('gaffer-pod-deleted-');

describe(
  'Kubernetes pool executor, a busy pod deleted from outside',
  { skip: !available && 'Kubernetes test binaries missing' },
  () => {
    let cluster: KubeCluster;
    let kubelet: PoolKubelet;
    let g: TestGaffer;

    before(async () => {
      cluster = await startCluster({ nodes: 1, cpu: '4', memory: '8Gi', pods: 10 });
      kubelet = await preparePool(cluster, { namespace: NS, type: TYPE, token: TOKEN });
      g = await startGaffer(
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
              scaling: { min: 0, max: 1, threshold: 0, burst: 1, idleSeconds: 3600 },
              kubernetes: { resources: { requests: { cpu: '100m', memory: '64Mi' } } },
            },
          },
        ),
      );
    });
    after(async () => {
      await g?.close();
      await kubelet?.stop();
      await cluster?.stop();
      gates.remove();
    });

    test('its job’s result, sent after the pod object is gone, is kept: one run, attempt 1', async () => {
      const res = await g.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        payload: { type: TYPE, payload: {} },
      });
      assert.equal(res.statusCode, 201, res.body);
      const id = (res.json() as { job: { id: string } }).job.id;
      await until(g, () => g.orch.gateway.workers(TYPE).some((w) => w.active === 1 && w.pid), [
        'worker:state',
        'job:started',
      ]);
      const worker = g.orch.gateway.workers(TYPE).find((w) => w.active === 1)!;
      const pod = kubelet.podOf(worker.pid!);
      assert.ok(pod, 'the busy worker runs in a pool pod');

      // The worker frozen, its pod object removed (the finalizer that holds it until its container
      // has stopped taken off).
      process.kill(worker.pid!, 'SIGSTOP');
      const gone = new Promise<void>((resolve) => {
        kubernetesOf(g.orch).poolEvents.on('gone', (name) => name === pod && resolve());
      });
      const unfinalized = '{"metadata":{"finalizers":null}}';
      await cluster.kubectl(['-n', NS, 'patch', 'pod', pod!, '--type=merge', '-p', unfinalized]);
      // The default grace (30 s): kwok removes the object at once, the kubelet sends SIGTERM.
      await cluster.request('DELETE', `/api/v1/namespaces/${NS}/pods/${pod}`);
      await gone;
      assert.ok(
        g.orch.gateway.workers(TYPE).some((w) => w.id === worker.id),
        'gaffer still holds the worker: its connection is open',
      );

      // Let go: the job ends, its result reaches gaffer, then the worker's SIGTERM drains it.
      gates.release(id);
      process.kill(worker.pid!, 'SIGCONT');
      await until(g, async () => (await g.orch.service.get(id)).state === 'succeeded', [
        'job:succeeded',
        'job:retrying',
      ]);
      const job = await g.orch.service.get(id);
      assert.equal(job.attempt, 1, 'the result sent after the pod went was kept, not retried');
      await until(g, () => !g.orch.gateway.workers(TYPE).some((w) => w.id === worker.id), [
        'worker:stopped',
      ]);
    });
  },
);
