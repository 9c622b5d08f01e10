import { KubeConfig, Watch, type V1Job } from '@kubernetes/client-node';
import { createKubeClient } from '../src/executors/kubernetes/client.ts';
import {
  runKubeScale,
  type KubeScaleOptions,
  type KubeScaleResult,
} from '../test/helpers/k8s-scale.ts';
import { kubeAvailable, startCluster, type KubeCluster } from '../test/helpers/servers/kube.ts';
import { round } from './lib.ts';

/**
 * `npm run bench:kubernetes [-- --jobs=10000 --nodes=50 --qps=100]`: far more jobs than the
 * cluster fits (test/helpers/k8s-scale.ts) at full size.
 * A CSV of `jobs` rows runs in per-job mode on `nodes` simulated nodes that fit 8 pods each
 * (4 CPUs, 500m per pod; 50 nodes → 400 pods), each pod running 10 s, on a fresh cluster per run:
 *
 * - gaffer as configured by default: at most 20 of its pods wait for a node (the scheduler's signal);
 * - gaffer reading nodes too: a Job is created only while the nodes' free allocatable fits it;
 * - gaffer without admission, 1,000 Jobs in flight: most pods wait Pending (the FAQ's situation);
 * - the baseline, in the same run: every Job created straight away at the same QPS by a plain
 *   client-node loop, as a script or KEDA's ScaledJob would — no retries, no logs kept.
 *
 * Reported: drain time (upload to last end), Job creation rate, gaffer's API requests per job and
 * its busiest 1 s and 10 s (from the apiserver's audit log), peak Pending and Running pods.
 */
const arg = (name: string, dflt: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const jobs = arg('jobs', 10_000);
const nodes = arg('nodes', 50);
const qps = arg('qps', 100);
const burst = qps * 2;
const RUN_MS = 10_000;

if (!kubeAvailable()) {
  console.error('Kubernetes test binaries missing: bash scripts/build-k8s-testbin.sh');
  process.exit(2);
}

async function onCluster<T>(fn: (c: KubeCluster) => Promise<T>): Promise<T> {
  const cluster = await startCluster({
    nodes,
    cpu: '4',
    memory: '16Gi',
    pods: 110,
    controllerQps: 300,
  });
  try {
    return await fn(cluster);
  } finally {
    await cluster.stop();
  }
}

/** Creates every Job at once (paced only by the QPS limit) and waits for all to complete. */
async function baseline(cluster: KubeCluster): Promise<{ drainMs: number; creationRate: number }> {
  const client = createKubeClient({ kubeconfig: cluster.gafferKubeconfig, qps, burst });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const complete = new Set<string>();
  const allDone = Promise.withResolvers<void>();
  const req = await new Watch(kc).watch(
    '/apis/batch/v1/namespaces/default/jobs',
    {},
    (type: string, job: V1Job) => {
      const ended = job.status?.conditions?.some(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
      if (type !== 'DELETED' && ended) complete.add(job.metadata?.name ?? '');
      if (complete.size === jobs) allDone.resolve();
    },
    () => {},
  );
  const t0 = performance.now();
  const body = (i: number): V1Job => ({
    metadata: { name: `raw-${i}` },
    spec: {
      backoffLimit: 0,
      ttlSecondsAfterFinished: 30,
      template: {
        metadata: { annotations: { 'gaffer.test/run-for': `${RUN_MS}ms` } },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'job',
              image: 'example.com/batch-worker:1',
              resources: { requests: { cpu: '500m', memory: '64Mi' } },
            },
          ],
        },
      },
    },
  });
  // As many in flight as the limiter lets through: a script firing `kubectl create` in parallel.
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < jobs) {
        const i = next++;
        await client.batch.createNamespacedJob({ namespace: 'default', body: body(i) });
      }
    }),
  );
  const createdMs = performance.now() - t0;
  await allDone.promise;
  req.abort();
  return { drainMs: performance.now() - t0, creationRate: jobs / (createdMs / 1000) };
}

const common = { jobs, qps, burst, runMs: RUN_MS, cpu: '500m' };
console.log(
  `${jobs} jobs, ${nodes} nodes × 8 pods, qps ${qps} burst ${burst}, pods run ${RUN_MS} ms`,
);
const variants: [string, KubeScaleOptions['admission']][] = [
  ['gaffer, default admission', { maxUnscheduled: 20, nodes: false }],
  ['gaffer, node admission', { maxUnscheduled: 20, nodes: true }],
  ['gaffer, no admission', { maxUnscheduled: null, nodes: false }],
];
const results: [string, KubeScaleResult][] = [];
for (const [name, admission] of variants) {
  results.push([
    name,
    await onCluster((c) => runKubeScale(c, { ...common, admission, max: 1000 })),
  ]);
}
const raw = await onCluster(baseline);

const row = (name: string, r: KubeScaleResult) =>
  console.log(
    `  ${name.padEnd(30)} drain ${String(round(r.drainMs / 1000, 1)).padStart(6)} s (${round(r.drainMs / raw.drainMs, 2)}× baseline)` +
      `  create ${String(round(r.creationRate)).padStart(4)} Jobs/s  ${round(r.requestsPerJob, 2)} req/job` +
      `  busiest 1 s / 10 s ${r.peak1s} / ${r.peak10s}  peak Pending ${r.peakPending}  Running ${r.peakRunning}` +
      `  ${JSON.stringify(r.byState)}`,
  );
for (const [name, r] of results) row(name, r);
console.log(
  `  ${'baseline: raw Jobs at once'.padEnd(30)} drain ${String(round(raw.drainMs / 1000, 1)).padStart(6)} s` +
    `  create ${String(round(raw.creationRate)).padStart(4)} Jobs/s  1 req/job (no logs, no retries)`,
);
console.log(`  request kinds (default): ${JSON.stringify(results[0]![1].byKind)}`);
