import type { KubeCluster } from './servers/kube.ts';
import { startGaffer, type TestGaffer } from './gaffer.ts';
import { startPoolKubelet, type PoolKubelet } from './pool-kubelet.ts';

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
 * .workerTokenSecret's defaults), the pool kubelet that runs each Running pod's `gaffer worker`
 * here, and gaffer with the pool type on the Kubernetes executor.
 */
export async function startPool(
  cluster: KubeCluster,
  setup: PoolSetup,
): Promise<{ kubelet: PoolKubelet; g: TestGaffer }> {
  const { namespace, type, token } = setup;
  await cluster.request('POST', '/api/v1/namespaces', { metadata: { name: namespace } });
  await cluster.request('POST', `/api/v1/namespaces/${namespace}/secrets`, {
    metadata: { name: 'gaffer-worker' },
    stringData: { token },
  });
  const kubelet = await startPoolKubelet(cluster.kubeconfig, namespace, `gaffer.dev/pool=${type}`);
  const g = await startGaffer({
    server: { workerToken: token },
    executor: {
      kind: 'kubernetes',
      kubernetes: { kubeconfig: cluster.kubeconfig, namespace, qps: 50, burst: 100 },
    },
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      [type]: {
        mode: 'pool',
        worker: setup.worker,
        concurrency: setup.concurrency,
        scaling: setup.scaling,
        kubernetes: { resources: { requests: { cpu: '100m', memory: '64Mi' } } },
      },
    },
  });
  return { kubelet, g };
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
