import { createHash } from 'node:crypto';
import type { JobTypeConfig } from '../../config/schema.ts';
import { containerResources, LABELS, labelValue, placement } from './job-manifest.ts';

/**
 * Pool mode on Kubernetes: a job type's workers are the pods of a worker Deployment, built here as
 * plain data. Its pods run `gaffer worker`, which connects back to gaffer's API named by its pod
 * name, reads the type from GET /v1/config and pulls jobs like any networked worker. The
 * Deployment is created with 0 replicas; gaffer alone changes them, through the scale subresource
 * (`pool.ts`).
 *
 * One Deployment per template revision: its name and a label carry a short hash of the rendered
 * pod template (`templateRevision`), so a type whose definition changes (image, env, resources…)
 * gets a new Deployment, and the old one's pods are never rolled by the Deployment controller —
 * gaffer drains them and takes the old Deployment away once empty (`pool.ts`).
 */

/** Pool-mode labels and annotations (beside `LABELS.managedBy`). */
export const POOL = {
  /** On the Deployment and its pods: the type, as a label value (selector, operators). */
  label: 'gaffer.dev/pool',
  /** On the pods: the type's exact name (a label value may have had to be rewritten). */
  typeAnnotation: 'gaffer.dev/job-type',
  /**
   * On the Deployment, its selector and its pods: the template's revision (`templateRevision`).
   * A Deployment of an earlier gaffer, named `poolName(type)`, has none.
   */
  revisionLabel: 'gaffer.dev/pool-revision',
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

/**
 * `gaffer-pool-<type>`, lower-cased and cut to a DNS-1123 label (63 characters): the prefix of the
 * type's revisions, and the whole name of the one Deployment gaffer made before revisions.
 */
export function poolName(typeName: string): string {
  return `gaffer-pool-${typeName}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/** `gaffer-pool-<type>-<revision>`, still a DNS-1123 label: the type's part is cut, not the hash. */
export function revisionName(typeName: string, revision: string): string {
  const prefix = poolName(typeName)
    .slice(0, 63 - revision.length - 1)
    .replace(/-+$/, '');
  return `${prefix}-${revision}`;
}

/**
 * 10 hex digits of the SHA-256 of the template's canonical JSON: equal templates give equal
 * revisions whatever their keys' order (a config file's map reordered is no change), any other
 * difference a new one. 40 bits: a collision among one type's few revisions is not a concern.
 */
export function templateRevision(template: unknown): string {
  return createHash('sha256').update(canonicalJson(template)).digest('hex').slice(0, 10);
}

/**
 * JSON with every object's keys sorted. Hand-written: a replacer of five lines; the packages made
 * for it (safe-stable-stringify, fast-json-stable-stringify) are only transitive dependencies here.
 */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * The worker Deployment of the type's current definition, ready to POST to
 * /apis/apps/v1/namespaces/{namespace}/deployments: named `revisionName(type, revision)`, the
 * revision a hash of its pod template (before the revision label is added to it).
 */
export function poolManifest(input: PoolManifestInput) {
  const { typeName, type, namespace } = input;
  const k = type.kubernetes;
  if (!type.worker.image) throw new Error(`job type "${typeName}" has no worker.image`);
  const typeLabels = { [LABELS.managedBy]: 'gaffer', [POOL.label]: labelValue(typeName) };
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
  const template = {
    metadata: {
      labels: { ...k.podLabels, ...typeLabels },
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
  };
  const revision = templateRevision(template);
  // The revision in the selector too: revisions of a type never select each other's pods.
  const selector = { ...typeLabels, [POOL.revisionLabel]: revision };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: revisionName(typeName, revision),
      namespace,
      labels: selector,
      annotations: { [POOL.typeAnnotation]: typeName },
    },
    spec: {
      // gaffer owns the count (scale subresource); created empty, raised one pod per worker.
      replicas: 0,
      selector: { matchLabels: selector },
      template: {
        ...template,
        metadata: { ...template.metadata, labels: { ...template.metadata.labels, ...selector } },
      },
    },
  };
}
