import {
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Deployment,
  type V1Job,
  type V1JobList,
  type V1NodeList,
  type V1PodList,
} from '@kubernetes/client-node';
import { apiStatus, type KubeClient } from './client.ts';
import { DELETION_COST } from './pod-rank.ts';
import type { Limit } from './rate-limit.ts';

/**
 * The Kubernetes API calls the executor makes, in its namespace, as narrow functions: the only
 * file of the executor that calls client-node's API objects (the informers' watches run on
 * `kubeConfig`; the leader lease is `leader-lease.ts`'s). Every call takes a token of the client's
 * rate limit (`client.ts`). Each call here is a verb the Helm chart's Role grants; a new one needs
 * its line there.
 *
 * Contract: an answer a caller decides on comes back as a value — a 404 where "gone" is what the
 * caller wanted, a 409 where it means "exists" or "changed meanwhile"; every other failure is
 * thrown as client-node's error (its HTTP status: `apiStatus`).
 */
export interface KubeApi {
  readonly kubeConfig: KubeConfig;
  readonly limit: Limit;
  /** How long a call made now would wait for a rate-limit token (ms; 0: at once). */
  throttleMs(): number;

  /** The informers' lists (`labelSelector` as the API takes it). */
  listJobs(labelSelector: string): Promise<V1JobList>;
  listPods(labelSelector: string): Promise<V1PodList>;
  /** Cluster-wide (admission by the nodes' free allocatable). */
  listNodes(): Promise<V1NodeList>;

  /** 'exists': a Job of that name is there already (created before a restart). */
  createJob(body: V1Job): Promise<V1Job | 'exists'>;
  /** Deletes the Job and, in the background, its pod; a Job gone already is fine. */
  deleteJob(name: string): Promise<void>;
  podLog(pod: string): Promise<string>;

  /** 'exists': a Deployment of that name is there already. */
  createDeployment(body: V1Deployment): Promise<'created' | 'exists'>;
  listDeployments(labelSelector: string): Promise<V1Deployment[]>;
  /** Deletes the Deployment and, in the background, its ReplicaSets; gone already is fine. */
  deleteDeployment(name: string): Promise<void>;
  /** The Deployment's replicas through the scale subresource, with the read's resourceVersion. */
  readScale(deployment: string): Promise<Scale>;
  /**
   * Sets the replicas by a merge patch carrying `resourceVersion` as a precondition: 'conflict'
   * when the Deployment changed since that read (a 409), never a lost update.
   */
  patchScale(
    deployment: string,
    replicas: number,
    resourceVersion: string | undefined,
  ): Promise<'patched' | 'conflict'>;

  /** Sets (null: removes) the pod's `pod-deletion-cost`; 'gone' when the pod does not exist. */
  setDeletionCost(pod: string, cost: string | null): Promise<'set' | 'gone'>;
  /** Deletes the pod by name; a pod gone already is fine. */
  deletePod(pod: string): Promise<void>;
}

export interface Scale {
  replicas: number;
  resourceVersion: string | undefined;
}

const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function createKubeApi(client: KubeClient, namespace: string): KubeApi {
  const { core, batch, apps } = client;
  return {
    kubeConfig: client.kubeConfig,
    limit: client.limit,
    throttleMs: () => client.throttleMs(),

    listJobs: (labelSelector) => batch.listNamespacedJob({ namespace, labelSelector }),
    listPods: (labelSelector) => core.listNamespacedPod({ namespace, labelSelector }),
    listNodes: () => core.listNode(),

    async createJob(body) {
      try {
        return await batch.createNamespacedJob({ namespace, body });
      } catch (err) {
        if (apiStatus(err) === 409) return 'exists';
        throw err;
      }
    },
    deleteJob: (name) =>
      gone(batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background' })),
    podLog: (name) => core.readNamespacedPodLog({ name, namespace }),

    async createDeployment(body) {
      try {
        await apps.createNamespacedDeployment({ namespace, body });
        return 'created';
      } catch (err) {
        if (apiStatus(err) === 409) return 'exists';
        throw err;
      }
    },
    listDeployments: async (labelSelector) =>
      (await apps.listNamespacedDeployment({ namespace, labelSelector })).items,
    deleteDeployment: (name) =>
      gone(apps.deleteNamespacedDeployment({ name, namespace, propagationPolicy: 'Background' })),
    async readScale(name) {
      const scale = await apps.readNamespacedDeploymentScale({ name, namespace });
      return {
        replicas: scale.spec?.replicas ?? 0,
        resourceVersion: scale.metadata?.resourceVersion,
      };
    },
    async patchScale(name, replicas, resourceVersion) {
      try {
        await apps.patchNamespacedDeploymentScale(
          { name, namespace, body: { metadata: { resourceVersion }, spec: { replicas } } },
          mergePatch(),
        );
        return 'patched';
      } catch (err) {
        if (apiStatus(err) === 409) return 'conflict';
        throw err;
      }
    },

    async setDeletionCost(name, cost) {
      try {
        await core.patchNamespacedPod(
          { name, namespace, body: { metadata: { annotations: { [DELETION_COST]: cost } } } },
          mergePatch(),
        );
        return 'set';
      } catch (err) {
        if (apiStatus(err) === 404) return 'gone';
        throw err;
      }
    },
    deletePod: (name) => gone(core.deleteNamespacedPod({ name, namespace })),
  };
}

/** A delete whose 404 is what it wanted: the object is gone already. */
async function gone(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (err) {
    if (apiStatus(err) !== 404) throw err;
  }
}
