import assert from 'node:assert/strict';
import {
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  makeInformer,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import { multipart, startGaffer, until } from './gaffer.ts';
import type { KubeCluster } from './servers/kube.ts';

/**
 * Far more jobs than the cluster fits, on Kubernetes: a CSV of `jobs` rows uploaded to gaffer in
 * per-job mode against a simulated cluster whose capacity fits far fewer pods: the extra pods
 * wait Pending and every job still ends. Shared by test/k8s/scale.test.ts (a short
 * profile, with assertions) and bench/kubernetes.ts (the full 10,000, with figures).
 *
 * Everything measured comes from outside gaffer where it can: pod phases from a watch, Job
 * creation times from a watch, gaffer's API calls from the apiserver's audit log.
 */
export interface KubeScaleOptions {
  jobs: number;
  /** gaffer's client-side limit. */
  qps: number;
  burst: number;
  /** executor.kubernetes.admission: `{ maxUnscheduled: null, nodes: false }` admits everything. */
  admission: { maxUnscheduled: number | null; nodes: boolean };
  /** Jobs in flight at once, per type (`scaling.max`). */
  max: number;
  /** How long each simulated pod runs. */
  runMs: number;
  /** CPU each pod requests (with the nodes' CPU this sets the cluster's capacity in pods). */
  cpu: string;
}

export interface KubeScaleResult {
  jobs: number;
  byState: Record<string, number>;
  /** From the upload's answer to the last job's end. */
  drainMs: number;
  /** Jobs created per second, from the first to the last creation the watch saw. */
  creationRate: number;
  peakPending: number;
  peakRunning: number;
  /** gaffer's API requests (from the audit log), and per job. */
  requests: number;
  requestsPerJob: number;
  /** Most requests gaffer made in any 1 s and 10 s window (watches excluded). */
  peak1s: number;
  peak10s: number;
  /** gaffer's requests by verb and resource, e.g. `create jobs`, `get pods/log`. */
  byKind: Record<string, number>;
}

export async function runKubeScale(
  cluster: KubeCluster,
  o: KubeScaleOptions,
): Promise<KubeScaleResult> {
  const namespace = `scale-${Math.random().toString(36).slice(2, 8)}`;
  await cluster.request('POST', '/api/v1/namespaces', { metadata: { name: namespace } });
  const observed = await observe(cluster, namespace);
  const before = (await cluster.auditedRequests()).length;
  const g = await startGaffer({
    executor: {
      kind: 'kubernetes',
      gafferUrl: 'http://gaffer.example:8080',
      kubernetes: {
        kubeconfig: cluster.gafferKubeconfig,
        namespace,
        qps: o.qps,
        burst: o.burst,
        admission: o.admission,
      },
    },
    autoscaler: { intervalMs: 200 },
    jobTypes: {
      batch: {
        mode: 'per-job',
        worker: { image: 'example.com/batch-worker:1' },
        scaling: { max: o.max, burst: o.max, threshold: 1 },
        kubernetes: {
          resources: { requests: { cpu: o.cpu, memory: '64Mi' } },
          podAnnotations: { 'gaffer.test/run-for': `${o.runMs}ms` },
          ttlSecondsAfterFinished: 30,
        },
      },
    },
  });
  try {
    const csv = ['row', ...Array.from({ length: o.jobs }, (_, i) => String(i))].join('\n');
    const res = await g.app.inject({
      method: 'POST',
      url: '/upload?type=batch',
      ...multipart('rows.csv', csv),
    });
    assert.equal(res.statusCode, 201, res.body);
    const t0 = performance.now();
    const terminal = ['succeeded', 'failed', 'timed_out', 'cancelled', 'dead_lettered'];
    let byState: Record<string, number> = {};
    await until(
      g,
      async () => {
        const stats = await g.orch.store.queueStats(g.clock.now());
        byState = (stats.find((s) => s.type === 'batch')?.byState ?? {}) as Record<string, number>;
        return terminal.reduce((n, s) => n + (byState[s] ?? 0), 0) === o.jobs;
      },
      ['job:succeeded', 'job:failed'],
      30 * 60_000,
    );
    const drainMs = performance.now() - t0;
    const audited = (await cluster.auditedRequests())
      .slice(before)
      .filter((r) => r.verb !== 'watch');
    const times = audited.map((r) => r.at).sort((a, b) => a - b);
    const created = observed.jobCreations.sort((a, b) => a - b);
    return {
      jobs: o.jobs,
      byState,
      drainMs,
      creationRate: (created.length - 1) / ((created.at(-1)! - created[0]!) / 1000 || 1),
      peakPending: observed.peakPending,
      peakRunning: observed.peakRunning,
      requests: audited.length,
      requestsPerJob: audited.length / o.jobs,
      peak1s: peakInWindow(times, 1000),
      peak10s: peakInWindow(times, 10_000),
      byKind: Object.fromEntries(
        [...Map.groupBy(audited, (r) => `${r.verb} ${resourceOf(r.uri)}`)].map(([k, v]) => [
          k,
          v.length,
        ]),
      ),
    };
  } finally {
    observed.stop();
    await g.close();
  }
}

/** `jobs`, `pods/log`, `nodes` … from a request URI. */
function resourceOf(uri: string): string {
  const parts = new URL(uri, 'http://x').pathname.split('/').filter(Boolean);
  const ns = parts.indexOf('namespaces');
  const rest = ns >= 0 ? parts.slice(ns + 2) : parts.slice(parts[0] === 'api' ? 2 : 3);
  return [rest[0], rest[2]].filter(Boolean).join('/');
}

/** Most timestamps within any window of `ms` (two pointers over sorted times). */
export function peakInWindow(sorted: readonly number[], ms: number): number {
  let peak = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= ms) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

/**
 * Watches the namespace's pods (peak Pending/Running) and Jobs (creation times) with informers,
 * which resume or relist when the apiserver ends a watch — a long run outlives several.
 */
async function observe(cluster: KubeCluster, namespace: string) {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const phases = new Map<string, string>();
  const counts = new Map<string, number>();
  const move = (name: string, phase: string | undefined) => {
    const was = phases.get(name);
    if (was) counts.set(was, (counts.get(was) ?? 0) - 1);
    if (phase) counts.set(phase, (counts.get(phase) ?? 0) + 1);
    if (phase) phases.set(name, phase);
    else phases.delete(name);
  };
  const count = (phase: string) => counts.get(phase) ?? 0;
  const created = new Map<string, number>();
  const state = {
    peakPending: 0,
    peakRunning: 0,
    get jobCreations() {
      return [...created.values()];
    },
    stop: () => {},
  };
  const pods = makeInformer<V1Pod>(kc, `/api/v1/namespaces/${namespace}/pods`, () =>
    core.listNamespacedPod({ namespace }),
  );
  const seen = (pod: V1Pod) => {
    move(pod.metadata?.name ?? '', pod.status?.phase ?? 'Pending');
    state.peakPending = Math.max(state.peakPending, count('Pending'));
    state.peakRunning = Math.max(state.peakRunning, count('Running'));
  };
  pods.on('add', seen);
  pods.on('update', seen);
  pods.on('delete', (pod) => move(pod.metadata?.name ?? '', undefined));
  const jobs = makeInformer<V1Job>(kc, `/apis/batch/v1/namespaces/${namespace}/jobs`, () =>
    batch.listNamespacedJob({ namespace }),
  );
  jobs.on('add', (job) => {
    const name = job.metadata?.name ?? '';
    if (!created.has(name)) created.set(name, performance.now());
  });
  let stopped = false;
  for (const inf of [pods, jobs]) {
    inf.on('error', () => {
      if (!stopped) setTimeout(() => void inf.start().catch(() => {}), 500);
    });
  }
  await Promise.all([pods.start(), jobs.start()]);
  state.stop = () => {
    stopped = true;
    void pods.stop();
    void jobs.stop();
  };
  return state;
}
