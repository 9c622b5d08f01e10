import type { JobTypeConfig } from '../../config/schema.ts';
import { containerResources, LABELS, labelValue, placement } from './job-manifest.ts';

/**
 * Pool mode on Kubernetes: one worker Deployment per job type, built here as plain data. Its pods
 * run `gaffer worker`, which connects back to gaffer's API named by its pod name, reads the type
 * from GET /v1/config and pulls jobs like any networked worker. The Deployment is created with 0
 * replicas; gaffer alone changes them, through the scale subresource (`pool.ts`).
 */

/** Pool-mode labels and annotations (beside `LABELS.managedBy`). */
export const POOL = {
  /** On the Deployment and its pods: the type, as a label value (selector, operators). */
  label: 'gaffer.dev/pool',
  /** On the pods: the type's exact name (a label value may have had to be rewritten). */
  typeAnnotation: 'gaffer.dev/job-type',
} as const;

export interface PoolManifestInput {
  typeName: string;
  /** The type; its `worker.image` must hold the `gaffer` CLI. */
  type: Pick<JobTypeConfig, 'worker' | 'kubernetes'>;
  namespace: string;
  /** Where pods reach gaffer's API. */
  gafferUrl: string;
  /** The Secret holding the worker token (executor.kubernetes.workerTokenSecret). */
  tokenSecret: { name: string; key: string };
  /** A broker the pods can reach (rabbitmq/redis): they take jobs from it. */
  brokerUrl?: string | undefined;
}

/** A container's environment variable: a value, the pod's own field, or a Secret's key. */
export interface PodEnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
  };
}

/** `gaffer-pool-<type>`, lower-cased and cut to a DNS-1123 label (63 characters). */
export function poolName(typeName: string): string {
  return `gaffer-pool-${typeName}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/** The worker Deployment, ready to POST to /apis/apps/v1/namespaces/{namespace}/deployments. */
export function poolManifest(input: PoolManifestInput) {
  const { typeName, type, namespace } = input;
  const k = type.kubernetes;
  if (!type.worker.image) throw new Error(`job type "${typeName}" has no worker.image`);
  const selector = { [LABELS.managedBy]: 'gaffer', [POOL.label]: labelValue(typeName) };
  // `$(GAFFER_WORKER_ID)` is expanded by Kubernetes from the env below: the pod's own name, the id
  // the worker connects with (the executor maps it to the worker id gaffer started it as).
  const args = ['--url', input.gafferUrl, 'worker', '--type', typeName];
  args.push('--id', '$(GAFFER_WORKER_ID)');
  if (input.brokerUrl) args.push('--broker', input.brokerUrl);
  const env: PodEnvVar[] = [
    { name: 'GAFFER_WORKER_ID', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ...Object.entries(type.worker.env).map(([name, value]) => ({ name, value })),
    { name: 'GAFFER_WORKER_TOKEN', valueFrom: { secretKeyRef: input.tokenSecret } },
    ...Object.entries(k.secretEnv).map(([name, ref]) => ({
      name,
      valueFrom: { secretKeyRef: { name: ref.secret, key: ref.key } },
    })),
  ];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: poolName(typeName), namespace, labels: selector },
    spec: {
      // gaffer owns the count (scale subresource); created empty, raised one pod per worker.
      replicas: 0,
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: { ...k.podLabels, ...selector },
          annotations: { ...k.podAnnotations, [POOL.typeAnnotation]: typeName },
        },
        spec: {
          ...placement(k),
          containers: [
            {
              name: 'worker',
              image: type.worker.image,
              command: ['gaffer'],
              args,
              env,
              resources: containerResources(k, 0),
            },
          ],
        },
      },
    },
  };
}
