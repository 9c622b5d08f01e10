import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { POOL } from '../../src/executors/kubernetes/pool-manifest.ts';
import type { KubeCluster } from './servers/kube.ts';
import { startGaffer, type TestGaffer } from './gaffer.ts';
import { startPoolKubelet, type PoolKubelet, type PoolKubeletOptions } from './pool-kubelet.ts';

/** One pool type on the test cluster, as test/k8s/pool.test.ts and spike.test.ts run it. */
export interface PoolSetup {
  namespace: string;
  type: string;
  /** The worker token: gaffer's `server.workerToken` and the pods' Secret hold the same. */
  token: string;
  /** The type's `worker` section; its `image` is what a real cluster would run. */
  worker: Record<string, unknown>;
  concurrency: number;
  scaling: Record<string, number>;
}

/**
 * A namespace, the Secret the pods read the worker token from (executor.kubernetes
 * .workerTokenSecret's defaults), and the pool kubelet that runs each Running pod of `type` as a
 * `gaffer worker` here (`kubelet`: its container restart back-off).
 */
export async function preparePool(
  cluster: KubeCluster,
  setup: Pick<PoolSetup, 'namespace' | 'type' | 'token'>,
  kubelet: PoolKubeletOptions = {},
): Promise<PoolKubelet> {
  const { namespace, type, token } = setup;
  await cluster.request('POST', '/api/v1/namespaces', { metadata: { name: namespace } });
  await cluster.request('POST', `/api/v1/namespaces/${namespace}/secrets`, {
    metadata: { name: 'gaffer-worker' },
    stringData: { token },
  });
  return startPoolKubelet(cluster.kubeconfig, namespace, `${POOL.label}=${type}`, kubelet);
}

/** gaffer's configuration running `jobTypes` on the test cluster's Kubernetes executor. */
export function kubeConfig(
  cluster: KubeCluster,
  setup: Pick<PoolSetup, 'namespace' | 'token'>,
  jobTypes: Record<string, unknown>,
): Record<string, unknown> {
  return {
    server: { workerToken: setup.token },
    executor: {
      kind: 'kubernetes',
      kubernetes: {
        kubeconfig: cluster.kubeconfig,
        namespace: setup.namespace,
        qps: 50,
        burst: 100,
      },
    },
    autoscaler: { intervalMs: 100 },
    jobTypes,
  };
}

/** preparePool, then gaffer with the pool type on the Kubernetes executor. */
export async function startPool(
  cluster: KubeCluster,
  setup: PoolSetup,
): Promise<{ kubelet: PoolKubelet; g: TestGaffer }> {
  const kubelet = await preparePool(cluster, setup);
  const g = await startGaffer(
    kubeConfig(cluster, setup, {
      [setup.type]: {
        mode: 'pool',
        worker: setup.worker,
        concurrency: setup.concurrency,
        scaling: setup.scaling,
        kubernetes: { resources: { requests: { cpu: '100m', memory: '64Mi' } } },
      },
    }),
  );
  return { kubelet, g };
}

/**
 * Jobs held until the test lets each end: `command` waits for a file named by its job id in
 * `dir` (the type's worker passes `GATES: dir` in its env), then prints the pod it ran in.
 */
export function gatedJobs(prefix: string): {
  dir: string;
  command: string[];
  release(id: string): void;
  remove(): void;
} {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    command: [
      'sh',
      '-c',
      'while [ ! -f "$GATES/$GAFFER_JOB_ID" ]; do sleep 0.05; done; echo "{\\"pod\\": \\"$GAFFER_WORKER_ID\\"}"',
    ],
    release: (id) => writeFileSync(path.join(dir, id), ''),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The name of the type's one worker Deployment: `gaffer-pool-<type>-<revision>`, the revision a
 * hash of its pod template (which holds gaffer's URL, so it differs from run to run).
 */
export async function poolDeployment(
  cluster: KubeCluster,
  namespace: string,
  type: string,
): Promise<string> {
  const selector = encodeURIComponent(`gaffer.dev/pool=${type}`);
  const list = await cluster.request<{ items: { metadata: { name: string } }[] }>(
    'GET',
    `/apis/apps/v1/namespaces/${namespace}/deployments?labelSelector=${selector}`,
  );
  const names = list.items.map((d) => d.metadata.name);
  if (names.length !== 1) throw new Error(`${type}: ${names.length} Deployments (${names})`);
  return names[0]!;
}
