import assert from 'node:assert/strict';
import { KubeConfig, Watch, type V1Deployment, type V1Pod } from '@kubernetes/client-node';
import type { Job } from '../../src/domain/job.ts';
import { POOL } from '../../src/executors/kubernetes/pool-manifest.ts';
import { until, type TestGaffer } from './gaffer.ts';
import type { KubeCluster } from './servers/kube.ts';

/**
 * What the pool revision tests (test/k8s/pool-reload.test.ts, pool-restart.test.ts) read and do,
 * for one pool type in one namespace: submit its jobs and await their states, list its worker
 * Deployments, read pods and scales, await a Deployment's deletion.
 */
export function poolProbe(NS: string, TYPE: string) {
  const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;

  async function submit(g: TestGaffer): Promise<string> {
    const res = await g.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type: TYPE } });
    assert.equal(res.statusCode, 201, res.body);
    return (res.json() as { job: { id: string } }).job.id;
  }

  async function job(g: TestGaffer, id: string): Promise<Job> {
    return (await g.orch.store.get(id))!;
  }

  /** The job once `holds`. */
  async function jobWhen(g: TestGaffer, id: string, holds: (j: Job) => boolean): Promise<Job> {
    let last: Job | undefined;
    await until(g, async () => holds((last = await job(g, id))), [
      'job:started',
      'job:succeeded',
      'job:failed',
      'job:retrying',
    ]);
    return last!;
  }

  async function deployments(cluster: KubeCluster): Promise<V1Deployment[]> {
    const selector = encodeURIComponent(`${POOL.label}=${TYPE}`);
    const list = await cluster.request<{ items: V1Deployment[] }>(
      'GET',
      `${DEPLOYMENTS}?labelSelector=${selector}`,
    );
    return list.items;
  }

  function pod(cluster: KubeCluster, name: string): Promise<V1Pod> {
    return cluster.request<V1Pod>('GET', `/api/v1/namespaces/${NS}/pods/${name}`);
  }

  function scaleOf(cluster: KubeCluster, name: string) {
    return cluster.request<{ spec: { replicas?: number } }>('GET', `${DEPLOYMENTS}/${name}/scale`);
  }

  /** The worker container's plain env values (GAFFER_* left out). */
  function envOf(p: V1Pod): Record<string, string> {
    const env = p.spec!.containers[0]!.env ?? [];
    return Object.fromEntries(
      env
        .filter((e) => e.value !== undefined && !e.name.startsWith('GAFFER_'))
        .map((e) => [e.name, e.value!]),
    );
  }

  /** Resolves once the Deployment does not exist: listed, then watched from that list's version. */
  async function deploymentGone(cluster: KubeCluster, name: string): Promise<void> {
    const field = `metadata.name=${name}`;
    const list = await cluster.request<{ items: unknown[]; metadata: { resourceVersion: string } }>(
      'GET',
      `${DEPLOYMENTS}?fieldSelector=${encodeURIComponent(field)}`,
    );
    if (list.items.length === 0) return;
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const timer = setTimeout(() => reject(new Error(`${name} not deleted in 120 s`)), 120_000);
    const req = await new Watch(kc).watch(
      DEPLOYMENTS,
      { fieldSelector: field, resourceVersion: list.metadata.resourceVersion },
      (phase: string) => (phase === 'DELETED' ? resolve() : undefined),
      (err: unknown) => (err ? reject(err) : undefined),
    );
    try {
      await promise;
    } finally {
      clearTimeout(timer);
      req.abort();
    }
  }

  return { submit, job, jobWhen, deployments, pod, scaleOf, envOf, deploymentGone };
}
