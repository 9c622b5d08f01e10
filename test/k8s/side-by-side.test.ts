import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Job } from '../../src/domain/job.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { kubeAvailable, startCluster, type KubeCluster } from '../helpers/servers/kube.ts';

// Executors per type: one gaffer runs a light type as local processes and a heavy type as one
// Kubernetes Job per attempt on the test control plane (kwok plays the pods), the cost rule routing
// untyped submissions between them. Each type is scaled within its own executor's capacity: the
// local executor's `executor.local.cpus` over the light type's `worker.resources`, the Kubernetes
// executor's `maxJobs`.
const available = kubeAvailable();
const NS = 'gaffer-hybrid';
const LOCAL_CPUS = 2; // light workers take 1 CPU each: at most 2 at once
const MAX_JOBS = 3; // Kubernetes Jobs in flight at once
const EACH = 8;

describe(
  'executors per type: local processes and Kubernetes Jobs side by side',
  { skip: !available && 'Kubernetes test binaries missing' },
  () => {
    let cluster: KubeCluster;
    let g: TestGaffer;
    /** Per type: workers alive now, and the most at once. */
    const live = new Map<string, { now: number; most: number }>();
    const pids = new Map<string, (number | null)[]>();

    before(async () => {
      cluster = await startCluster({ nodes: 2, cpu: '4', memory: '8Gi', pods: 30 });
      await cluster.request('POST', '/api/v1/namespaces', { metadata: { name: NS } });
      g = await startGaffer({
        executor: {
          kind: 'local',
          local: { cpus: String(LOCAL_CPUS) },
          gafferUrl: 'http://gaffer.example:8080',
          kubernetes: {
            kubeconfig: cluster.kubeconfig,
            namespace: NS,
            qps: 50,
            burst: 100,
            maxJobs: MAX_JOBS,
          },
        },
        autoscaler: { intervalMs: 100 },
        routes: { rules: [{ when: { above: 4 }, type: 'heavy' }, { type: 'light' }] },
        jobTypes: {
          light: {
            mode: 'per-job',
            worker: {
              command: [process.execPath, '-e', 'setTimeout(() => {}, 300)'],
              resources: { cpu: '1' },
            },
            scaling: { max: 20 },
          },
          heavy: {
            executor: 'kubernetes',
            mode: 'per-job',
            worker: { image: 'example.com/heavy:1' },
            scaling: { max: 20 },
            retry: { maxAttempts: 1 },
            kubernetes: {
              resources: { requests: { cpu: '100m', memory: '64Mi' } },
              podAnnotations: { 'gaffer.test/run-for': '300ms' },
            },
          },
        },
      });
      g.orch.events.on('worker:started', ({ worker }) => {
        const l = live.get(worker.type) ?? { now: 0, most: 0 };
        l.now++;
        l.most = Math.max(l.most, l.now);
        live.set(worker.type, l);
      });
      g.orch.events.on('worker:stopped', ({ worker }) => {
        live.get(worker.type)!.now--;
        pids.set(worker.type, [...(pids.get(worker.type) ?? []), worker.pid]);
      });
    });
    after(async () => {
      await g?.close();
      await cluster?.stop();
    });

    async function submit(rows: number): Promise<Job> {
      const res = await g.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        payload: { payload: { rows } },
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json<{ job: Job }>().job;
    }

    test('the cost rule routes big jobs to Kubernetes, small ones run locally, each within its executor', async () => {
      assert.equal(g.orch.runnable('light'), true);
      assert.equal(g.orch.runnable('heavy'), true);
      assert.equal(g.orch.room('light'), LOCAL_CPUS, 'the local executor: its CPUs over 1 each');
      assert.equal(g.orch.room('heavy'), MAX_JOBS, "the Kubernetes executor's maxJobs");

      const jobs: Job[] = [];
      for (let i = 0; i < EACH; i++) jobs.push(await submit(50_000_000), await submit(1_000));
      const byType = Map.groupBy(jobs, (j) => j.type);
      assert.equal(byType.get('heavy')?.length, EACH, 'cost 50 > 4: heavy');
      assert.equal(byType.get('light')?.length, EACH, 'cost 0.001: light');

      const ids = jobs.map((j) => j.id);
      await until(g, async () => {
        const states = await Promise.all(
          ids.map(async (id) => (await g.orch.store.get(id))?.state),
        );
        return states.every((s) => s === 'succeeded');
      }, ['job:succeeded', 'job:failed', 'job:retrying']);

      // Light workers were local processes (a pid); heavy ones the virtual workers of their Jobs.
      assert.ok(pids.get('light')!.every((pid) => pid !== null && pid > 0));
      assert.ok(pids.get('heavy')!.every((pid) => pid === null));

      const most = (type: string) => live.get(type)!.most;
      assert.ok(most('light') <= LOCAL_CPUS, `light: ${most('light')} at once`);
      assert.ok(most('heavy') <= MAX_JOBS, `heavy: ${most('heavy')} at once`);
    });
  },
);
