import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Job } from '../../src/domain/job.ts';
import { jobName } from '../../src/executors/kubernetes/job-manifest.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { watchUntil } from '../helpers/k8s-watch.ts';
import { kubeAvailable, POD_LOG, startCluster, type KubeCluster } from '../helpers/servers/kube.ts';

// Per-job mode against a real control plane: gaffer creates one batch/v1 Job per attempt, the real
// Job controller and scheduler place its pod on a kwok node, and kwok plays the outcome the type's
// pod annotations ask for (test/helpers/servers/kwok-stages.yaml). Nothing of Kubernetes is mocked.
const available = kubeAvailable();
const NS = 'gaffer-jobs';

/** A per-job type running `image` with these kwok annotations. */
function kubeType(annotations: Record<string, string>, extra: Record<string, unknown> = {}) {
  const { kubernetes, ...rest } = extra as { kubernetes?: object };
  return {
    mode: 'per-job',
    worker: { image: 'example.com/batch:1' },
    retry: { maxAttempts: 1 },
    deadLetter: false,
    scaling: { max: 20 },
    ...rest,
    kubernetes: {
      resources: { requests: { cpu: '100m', memory: '64Mi' } },
      podAnnotations: annotations,
      ...kubernetes,
    },
  };
}

describe(
  'Kubernetes per-job executor',
  { skip: !available && 'Kubernetes test binaries missing' },
  () => {
    let cluster: KubeCluster;
    let g: TestGaffer;

    before(async () => {
      cluster = await startCluster({ nodes: 2, cpu: '2', memory: '4Gi', pods: 20 });
      await cluster.request('POST', '/api/v1/namespaces', { metadata: { name: NS } });
      await cluster.request('POST', '/api/v1/namespaces', { metadata: { name: 'others' } });
      g = await startGaffer({
        executor: {
          kind: 'kubernetes',
          gafferUrl: 'http://gaffer.example:8080',
          kubernetes: {
            kubeconfig: cluster.kubeconfig,
            namespace: NS,
            qps: 50,
            burst: 100,
            admission: { nodes: true },
          },
        },
        autoscaler: { intervalMs: 100 },
        jobTypes: {
          ok: kubeType({ 'gaffer.test/run-for': '300ms' }),
          fail: kubeType({ 'gaffer.test/outcome': 'fail', 'gaffer.test/exit-code': '3' }),
          hang: kubeType({ 'gaffer.test/outcome': 'hang' }, { timeoutSeconds: 1 }),
          oom: kubeType(
            { 'gaffer.test/oom-memory': '64Mi' },
            {
              retry: { maxAttempts: 3, backoffMs: 10, maxBackoffMs: 10 },
              kubernetes: {
                resources: { limits: { memory: '64Mi' } },
                memoryLadder: ['128Mi', '256Mi'],
              },
            },
          ),
          big: kubeType(
            { 'gaffer.test/run-for': '100ms' },
            { kubernetes: { resources: { requests: { cpu: '1500m' } } } },
          ),
          stuck: kubeType(
            { 'gaffer.test/outcome': 'hang' },
            {
              timeoutSeconds: 1,
              kubernetes: {
                resources: { requests: { cpu: '1500m' } },
                deadlineSlackSeconds: 1,
              },
            },
          ),
          short: kubeType({}, { kubernetes: { ttlSecondsAfterFinished: 1 } }),
          sized: kubeType(
            { 'gaffer.test/run-for': '100ms' },
            {
              kubernetes: {
                resources: {
                  requests: { cpu: '100m', memory: '64Mi' },
                  limits: { cpu: '1', memory: '512Mi' },
                },
              },
            },
          ),
          forever: kubeType({ 'gaffer.test/outcome': 'hang' }),
        },
      });
    });
    after(async () => {
      await g?.close();
      await cluster?.stop();
    });

    async function submit(type: string, payload: unknown = {}): Promise<string> {
      const res = await g.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        payload: { type, payload },
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json<{ job: { id: string } }>().job.id;
    }

    async function ended(id: string): Promise<Job> {
      let job: Job | undefined;
      const ends = ['job:succeeded', 'job:failed', 'job:retrying', 'job:cancelled'] as const;
      await until(g, async () => {
        job = await g.orch.store.get(id);
        return Boolean(
          job && ['succeeded', 'failed', 'timed_out', 'cancelled'].includes(job.state),
        );
      }, [...ends]);
      return job!;
    }

    /** The attempt's Job no longer exists (deleted with Background propagation: pods follow). */
    async function jobGone(id: string, attempt = 1): Promise<void> {
      const path = `/apis/batch/v1/namespaces/${NS}/jobs/${jobName(id, attempt)}`;
      await assert.rejects(cluster.request('GET', path), /404/);
    }

    async function logsOf(id: string): Promise<string> {
      const res = await g.app.inject({ method: 'GET', url: `/v1/jobs/${id}/logs` });
      return res.body;
    }

    test('a Job that completes: succeeded, with the pod log as the job log', async () => {
      const id = await submit('ok');
      const job = await ended(id);
      assert.equal(job.state, 'succeeded', JSON.stringify(job.error));
      const logs = await logsOf(id);
      for (const line of POD_LOG.trim().split('\n')) assert.match(logs, new RegExp(line));
      const kubeJob = JSON.parse(
        await cluster.kubectl(['get', 'job', '-n', NS, jobName(id, 1), '-o', 'json']),
      );
      assert.equal(kubeJob.spec.backoffLimit, 0);
      assert.equal(kubeJob.metadata.labels['gaffer.dev/job-id'], id);
    });

    test("a job's own resource request is its pod's request, the type's limits stay", async () => {
      const res = await g.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        payload: { type: 'sized', resources: { cpu: '500m', memory: '256Mi' } },
      });
      assert.equal(res.statusCode, 201, res.body);
      const id = res.json<{ job: { id: string } }>().job.id;
      assert.equal((await ended(id)).state, 'succeeded');
      const pods = JSON.parse(
        await cluster.kubectl([
          'get',
          'pods',
          '-n',
          NS,
          '-l',
          `gaffer.dev/job-id=${id}`,
          '-o',
          'json',
        ]),
      ) as { items: { spec: { containers: { resources: unknown }[] } }[] };
      assert.equal(pods.items.length, 1);
      assert.deepEqual(pods.items[0]!.spec.containers[0]!.resources, {
        requests: { cpu: '500m', memory: '256Mi' },
        limits: { cpu: '1', memory: '512Mi' },
      });
      const over = await g.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        payload: { type: 'sized', resources: { cpu: '2' } },
      });
      assert.equal(over.statusCode, 422, over.body);
      assert.equal(
        over.json<{ error: { code: string } }>().error.code,
        'GAFFER_RESOURCES_TOO_LARGE',
      );
    });

    test('a container that exits 3: failed, class application, exit code kept', async () => {
      const job = await ended(await submit('fail'));
      assert.equal(job.state, 'failed');
      assert.equal(job.error?.class, 'application');
      assert.equal(job.error?.exitCode, 3);
    });

    test('OOMKilled: retried with the next rung of the memory ladder, then succeeds', async () => {
      const id = await submit('oom');
      const job = await ended(id);
      assert.equal(job.state, 'succeeded');
      assert.equal(job.attempt, 2, 'one OOMKilled attempt, then one that fits');
      const memory = async (attempt: number) => {
        const j = JSON.parse(
          await cluster.kubectl(['get', 'job', '-n', NS, jobName(id, attempt), '-o', 'json']),
        );
        return j.spec.template.spec.containers[0].resources.limits.memory;
      };
      assert.equal(await memory(1), '64Mi');
      assert.equal(await memory(2), '128Mi');
      const pods = JSON.parse(
        await cluster.kubectl([
          'get',
          'pods',
          '-n',
          NS,
          '-l',
          `gaffer.dev/job-id=${id}`,
          '-o',
          'json',
        ]),
      ) as {
        items: {
          status: { containerStatuses: { state: { terminated?: { reason: string } } }[] };
        }[];
      };
      const reasons = pods.items
        .map((p) => p.status.containerStatuses[0]!.state.terminated?.reason)
        .sort();
      assert.deepEqual(reasons, ['Completed', 'OOMKilled']);
    });

    test("gaffer's timeout deletes the Job: timed_out, and the Job is gone", async () => {
      const id = await submit('hang');
      const job = await ended(id);
      assert.equal(job.state, 'timed_out');
      assert.equal(job.error?.class, 'timeout');
      await jobGone(id);
    });

    test('cancel of a running job deletes its Job (its pod is garbage-collected): cancelled', async () => {
      const id = await submit('forever');
      await until(g, async () => (await g.orch.store.get(id))?.state === 'running', [
        'job:started',
        'worker:state',
        'job:log',
      ]);
      const res = await g.app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` });
      assert.ok(res.statusCode < 300, res.body);
      assert.equal((await ended(id)).state, 'cancelled');
      await jobGone(id);
    });

    test('ttlSecondsAfterFinished: Kubernetes removes the finished Job, its log stays in gaffer', async () => {
      const id = await submit('short');
      assert.equal((await ended(id)).state, 'succeeded');
      const name = jobName(id, 1);
      await watchUntil(
        cluster,
        `/apis/batch/v1/namespaces/${NS}/jobs`,
        `metadata.name=${name}`,
        (_j, phase) => phase === 'DELETED',
      );
      assert.match(await logsOf(id), /simulated pod: finished/);
    });

    test('no capacity: the pod waits Pending with the reason, then runs when capacity frees', async () => {
      // Another team's pods take most CPU; gaffer's admission sees only its own namespace's pods,
      // so its Job is created and the scheduler holds the pod Pending.
      const filler = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'filler', namespace: 'others' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'filler' } },
          template: {
            metadata: { labels: { app: 'filler' } },
            spec: {
              containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1' } } }],
            },
          },
        },
      };
      await cluster.request('POST', '/apis/apps/v1/namespaces/others/deployments', filler);
      await watchUntil<{ status?: { readyReplicas?: number } }>(
        cluster,
        '/apis/apps/v1/namespaces/others/deployments',
        'metadata.name=filler',
        (d) => d.status?.readyReplicas === 2,
      );
      const id = await submit('big');
      const stuck = await submit('stuck');
      await until(g, async () => /waiting for cluster capacity/.test(await logsOf(id)), [
        'job:log',
      ]);
      const shown = await g.app.inject({ method: 'GET', url: `/v1/jobs/${id}` });
      assert.equal(shown.json().job.state, 'starting');
      assert.deepEqual(shown.json().job.waiting, {
        reason: 'capacity',
        message: 'waiting for cluster capacity',
        position: 0,
        estimatedStartAt: null,
      });
      // Pending past the Job's activeDeadlineSeconds (timeout 1 s + slack 1 s): DeadlineExceeded.
      const late = await ended(stuck);
      assert.equal(late.state, 'timed_out');
      assert.match(late.error?.message ?? '', /deadline/);
      await cluster.request('DELETE', '/apis/apps/v1/namespaces/others/deployments/filler');
      const job = await ended(id);
      assert.equal(job.state, 'succeeded');
    });

    test('rate limit: a Job whose creation waits for the API token bucket says so', async () => {
      // A second gaffer in its own namespace allowed one API call a second: of three Jobs created
      // at once, the later ones wait for tokens, and their jobs answer `rate_limit` meanwhile.
      await cluster.request('POST', '/api/v1/namespaces', { metadata: { name: 'throttled' } });
      const slow = await startGaffer({
        executor: {
          kind: 'kubernetes',
          gafferUrl: 'http://gaffer.example:8080',
          kubernetes: { kubeconfig: cluster.kubeconfig, namespace: 'throttled', qps: 1, burst: 1 },
        },
        autoscaler: { intervalMs: 100 },
        jobTypes: { ok: kubeType({ 'gaffer.test/run-for': '100ms' }) },
      });
      try {
        // Nothing of gaffer's waits for a node yet: admission lets maxUnscheduled (20) through.
        assert.equal(slow.orch.room('ok'), 20);
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          const res = await slow.app.inject({
            method: 'POST',
            url: '/v1/jobs',
            payload: { type: 'ok' },
          });
          ids.push(res.json<{ job: { id: string } }>().job.id);
        }
        const throttled = () =>
          slow.orch.gateway.workers('ok').find((w) => w.waitingFor?.reason === 'rate_limit');
        await until(slow, () => Boolean(throttled()), ['worker:state']);
        const jobId = ids.find(
          (id) => slow.orch.gateway.pendingReason(id)?.reason === 'rate_limit',
        );
        const shown = await slow.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}` });
        assert.equal(shown.json().job.state, 'starting');
        assert.equal(shown.json().job.waiting.reason, 'rate_limit');
        assert.match(
          shown.json().job.waiting.message,
          /Kubernetes API rate limit \(qps 1, burst 1\)/,
        );
        await until(slow, async () => {
          const jobs = await Promise.all(ids.map((id) => slow.orch.store.get(id)));
          return jobs.every((j) => j?.state === 'succeeded');
        }, ['job:succeeded', 'job:failed']);
      } finally {
        await slow.close();
      }
    });
  },
);
