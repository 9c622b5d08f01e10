import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { jobName } from '../../src/executors/kubernetes/job-manifest.ts';
import { POOL } from '../../src/executors/kubernetes/pool-manifest.ts';
import { countByState, startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { CHART, helm, helmAvailable } from '../helpers/helm.ts';
import { startPoolKubelet, type PoolKubelet } from '../helpers/pool-kubelet.ts';
import { kubeAvailable, POD_LOG, startCluster, type KubeCluster } from '../helpers/servers/kube.ts';

// The chart's RBAC is enough for gaffer itself: a real gaffer whose Kubernetes client holds a
// token of the chart's ServiceAccount (nothing else) runs per-job Jobs (create, watch, logs, the
// delete of a timed-out one), a pool type's worker Deployment (adopt and delete an old revision,
// scale out and in through the scale subresource, patch and delete idle pods) and the leader
// Lease. Any call the Role lacks is a 403 that fails a step here. kwok plays the nodes;
// test/helpers/pool-kubelet.ts runs each pool pod's `gaffer worker` on this machine.
const NS = 'gaffer';
const TOKEN = 'helm-rbac-worker-token-0123456789';
const POOL_TYPE = 'rows';
const JOBS = 12;
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;

/** An empty worker Deployment of an older revision: gaffer adopts it at the type's first start, then deletes it. */
const OLD_REVISION = (() => {
  const labels = { 'app.kubernetes.io/managed-by': 'gaffer', [POOL.label]: POOL_TYPE };
  return {
    metadata: { name: `gaffer-pool-${POOL_TYPE}`, labels },
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

describe(
  "gaffer as the chart's ServiceAccount",
  { skip: (!kubeAvailable() || !helmAvailable()) && 'Kubernetes test binaries or helm missing' },
  () => {
    let cluster: KubeCluster;
    let dir: string;
    let kubelet: PoolKubelet;
    let g: TestGaffer;

    before(async () => {
      cluster = await startCluster({ nodes: 2, cpu: '4', memory: '8Gi', pods: 30 });
      dir = await mkdtemp(path.join(tmpdir(), 'gaffer-helm-rbac-'));
      await cluster.request('POST', '/api/v1/namespaces', { metadata: { name: NS } });
      await cluster.request('POST', `/api/v1/namespaces/${NS}/secrets`, {
        metadata: { name: 'gaffer-worker' },
        stringData: { token: TOKEN },
      });
      // The chart's ServiceAccount and RBAC; its own gaffer pod is not needed (replicas 0).
      const installed = await helm([
        'install',
        'gaffer',
        CHART,
        '-n',
        NS,
        '--kubeconfig',
        cluster.kubeconfig,
        '--set',
        'replicaCount=0',
        '--set',
        'persistence.enabled=false',
      ]);
      assert.equal(installed.code, 0, installed.stderr);
      const token = (
        await cluster.kubectl(['create', 'token', 'gaffer', '-n', NS, '--duration=1h'])
      ).trim();
      const kubeconfig = path.join(dir, 'service-account.kubeconfig');
      await writeFile(kubeconfig, serviceAccountKubeconfig(cluster, token));
      await cluster.request('POST', DEPLOYMENTS, OLD_REVISION);
      kubelet = await startPoolKubelet(cluster.kubeconfig, NS, `${POOL.label}=${POOL_TYPE}`);
      g = await startGaffer({
        server: { workerToken: TOKEN },
        executor: {
          kind: 'kubernetes',
          kubernetes: { kubeconfig, namespace: NS, qps: 50, burst: 100 },
        },
        autoscaler: { intervalMs: 100 },
        jobTypes: {
          [POOL_TYPE]: {
            mode: 'pool',
            worker: { image: 'example.com/gaffer:1', command: ['sh', '-c', 'sleep 0.2; cat'] },
            scaling: { min: 0, max: 3, threshold: 2, burst: 3, idleSeconds: 1 },
            kubernetes: { resources: { requests: { cpu: '100m', memory: '64Mi' } } },
          },
          render: perJob({ 'gaffer.test/run-for': '300ms' }),
          hang: { ...perJob({ 'gaffer.test/outcome': 'hang' }), timeoutSeconds: 1 },
        },
      });
    });
    after(async () => {
      await g?.close();
      await kubelet?.stop();
      await cluster?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const submit = async (type: string, payload: unknown = {}) => {
      const res = await g.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        payload: { type, payload },
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json<{ job: { id: string } }>().job.id;
    };
    /** Resolves once the object is deleted (at once if it is gone already). */
    const gone = (object: string) =>
      cluster.kubectl(['wait', '--for=delete', object, '-n', NS, '--timeout=120s']);
    const stateOf = async (id: string) => (await g.orch.store.get(id))?.state;

    test('per-job: a Job runs and its pod log becomes the job log; a timed-out Job is deleted', async () => {
      const ok = await submit('render');
      const hang = await submit('hang');
      await until(
        g,
        async () => (await stateOf(ok)) === 'succeeded' && (await stateOf(hang)) === 'timed_out',
      );
      const logs = (await g.app.inject({ method: 'GET', url: `/v1/jobs/${ok}/logs` })).body;
      for (const line of POD_LOG.trim().split('\n')) assert.match(logs, new RegExp(line));
      // gaffer logs (not throws) a failed delete: the Job must really be gone.
      await gone(`job/${jobName(hang, 1)}`);
    });

    test('pool: the old revision goes, workers scale out, run the jobs, and scale back to 0', async () => {
      for (let i = 0; i < JOBS; i++) await submit(POOL_TYPE, { i });
      await until(g, async () => (await countByState(g, POOL_TYPE))['succeeded'] === JOBS, [
        'job:succeeded',
        'job:failed',
      ]);
      await gone(`deployment/${OLD_REVISION.metadata.name}`);
      // Idle workers drained, their pods chosen (deletion cost patched) and deleted, down to 0.
      await until(g, () => g.orch.gateway.workers(POOL_TYPE).length === 0);
      await kubelet.noPods();
      assert.ok(kubelet.deleted.size >= 1, 'gaffer deleted the idle pods');
    });

    test('the leader Lease is held through the ServiceAccount', async () => {
      const leases = await cluster.request<{ items: { spec: { holderIdentity?: string } }[] }>(
        'GET',
        `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`,
      );
      assert.ok(
        leases.items.some((l) => l.spec.holderIdentity),
        'a held Lease',
      );
    });
  },
);

function perJob(annotations: Record<string, string>) {
  return {
    mode: 'per-job',
    worker: { image: 'example.com/batch:1' },
    retry: { maxAttempts: 1 },
    deadLetter: false,
    scaling: { max: 5 },
    kubernetes: {
      resources: { requests: { cpu: '100m', memory: '64Mi' } },
      podAnnotations: annotations,
    },
  };
}

/** A kubeconfig that authenticates with `token` only (a ServiceAccount's). */
function serviceAccountKubeconfig(cluster: KubeCluster, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'test',
        cluster: {
          server: cluster.url,
          'certificate-authority-data': Buffer.from(cluster.ca).toString('base64'),
        },
      },
    ],
    users: [{ name: 'gaffer', user: { token } }],
    contexts: [{ name: 'gaffer', context: { cluster: 'test', user: 'gaffer', namespace: NS } }],
    'current-context': 'gaffer',
  });
}
