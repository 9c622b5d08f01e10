import type { JobTypeConfig } from '../../config/schema.ts';
import type { Job, JobResources } from '../../domain/job.ts';
import { adhocPayload, isAdhocType } from '../../worker/adhoc.ts';

/**
 * Per-job mode on Kubernetes: one `batch/v1` Job per attempt of a gaffer job,
 * built here as plain data by pure functions — the executor only sends it. Kubernetes retries
 * nothing (`backoffLimit: 0`, `restartPolicy: Never`): gaffer owns retries, and each attempt is a
 * new Job named after the attempt, so a retry never collides with the last attempt's leftovers.
 */

/** Labels on every object gaffer creates: how its watches find them and how operators do. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  jobId: 'gaffer.dev/job-id',
  jobType: 'gaffer.dev/job-type',
  attempt: 'gaffer.dev/attempt',
} as const;

export interface JobManifestInput {
  job: Pick<Job, 'id' | 'type' | 'attempt' | 'timeoutMs' | 'data'> & {
    payload?: unknown;
    /** The job's own request (`resources`, `resource_requirements` on /api/jobs); absent: the type's. */
    resources?: JobResources | null | undefined;
  };
  /** The job's type; its `worker.image` is required on this executor. */
  type: Pick<JobTypeConfig, 'worker' | 'kubernetes'>;
  namespace: string;
  /** Where the pod reaches gaffer's API (GAFFER_URL in the container). */
  gafferUrl: string;
  /** OOM escalation: how many earlier attempts of this job were OOMKilled. */
  oomKills?: number;
}

/** The Job object, ready to POST to /apis/batch/v1/namespaces/{namespace}/jobs. */
export function jobManifest(input: JobManifestInput) {
  const { job, type, namespace } = input;
  const k = withJobGpus(type.kubernetes, job.resources);
  if (!type.worker.image) throw new Error(`job type "${job.type}" has no worker.image`);
  const labels = {
    [LABELS.managedBy]: 'gaffer',
    [LABELS.jobId]: labelValue(job.id),
    [LABELS.jobType]: labelValue(job.type),
    [LABELS.attempt]: String(job.attempt),
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: jobName(job.id, job.attempt), namespace, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: Math.ceil(job.timeoutMs / 1000) + k.deadlineSlackSeconds,
      ttlSecondsAfterFinished: k.ttlSecondsAfterFinished,
      template: {
        metadata: {
          labels: { ...k.podLabels, ...labels },
          ...nonEmpty('annotations', k.podAnnotations),
        },
        spec: {
          restartPolicy: 'Never',
          ...placement(k),
          containers: [
            {
              name: 'job',
              ...container(input, type.worker.image),
              env: containerEnv(input),
              resources: containerResources(k, input.oomKills ?? 0, job.resources),
            },
          ],
        },
      },
    },
  };
}

/**
 * Where a pod of the type may run and as whom: its service account, node selector and
 * tolerations — GPU types steered to GPU nodes and tolerating their taint.
 */
export function placement(k: JobTypeConfig['kubernetes']) {
  const gpu = k.gpus > 0;
  return {
    ...(k.serviceAccountName ? { serviceAccountName: k.serviceAccountName } : {}),
    ...nonEmpty('nodeSelector', { ...k.nodeSelector, ...(gpu ? k.gpuNodeSelector : {}) }),
    ...nonEmpty('tolerations', [
      ...k.tolerations,
      ...(gpu ? [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] : []),
    ]),
  };
}

/**
 * `gaffer-<job id>-<attempt>`, lower-cased and cut to a valid DNS-1123 label (63 characters;
 * the Job controller adds a suffix to pod names, which it truncates on its own).
 */
export function jobName(jobId: string, attempt: number): string {
  const suffix = `-${attempt}`;
  const base = `gaffer-${jobId}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63 - suffix.length)
    .replace(/-+$/, '');
  return `${base}${suffix}`;
}

/** The memory of an attempt after `oomKills` OOMKilled ones: a rung of the ladder, or the base. */
export function memoryFor(
  ladder: readonly string[],
  base: string | undefined,
  oomKills: number,
): string | undefined {
  if (oomKills === 0 || ladder.length === 0) return base;
  return ladder[Math.min(oomKills, ladder.length) - 1];
}

/** The type's settings with the GPUs a job asked for (at most the type's, checked at submit). */
function withJobGpus(
  k: JobTypeConfig['kubernetes'],
  own: JobResources | null | undefined,
): JobTypeConfig['kubernetes'] {
  return own?.gpus === undefined ? k : { ...k, gpus: own.gpus };
}

/**
 * The container's requests and limits: the type's, with a job's own request (`own`, within the
 * type's declared resources, checked at submit) as its cpu and memory requests; the type's limits
 * stay (a job asking less is still capped where the type is).
 */
export function containerResources(
  k: JobTypeConfig['kubernetes'],
  oomKills: number,
  own?: JobResources | null,
) {
  const requests: Record<string, string> = {
    ...definedOnly(k.resources.requests),
    ...definedOnly({ cpu: own?.cpu, memory: own?.memory }),
  };
  const limits: Record<string, string> = { ...definedOnly(k.resources.limits) };
  const memory = memoryFor(k.memoryLadder, limits['memory'] ?? requests['memory'], oomKills);
  if (memory !== undefined && oomKills > 0) {
    // An escalated attempt gets the rung as both request and limit: the scheduler must place
    // the memory it will use, and a limit below the request would be refused.
    requests['memory'] = memory;
    limits['memory'] = memory;
  }
  if (k.gpus > 0) limits['nvidia.com/gpu'] = String(k.gpus);
  return { ...nonEmpty('requests', requests), ...nonEmpty('limits', limits) };
}

/** A container's environment variable: a value, or a reference to a Secret's key. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef: { name: string; key: string } };
}

/**
 * The container's image and command: the type's, or for the ad-hoc type the payload's
 * image (checked against `adhoc.allowedImages` when the job was submitted) running `sh -c cmd`.
 */
function container(input: JobManifestInput, image: string) {
  const { job, type } = input;
  if (isAdhocType(type) && job.payload !== undefined) {
    const run = adhocPayload(job.payload);
    return { image: run.image ?? image, command: ['sh', '-c', run.cmd] };
  }
  return { image, ...(type.worker.command ? { command: type.worker.command } : {}) };
}

/**
 * The worker image's environment contract (GAFFER_JOB_ID, GAFFER_JOB_TYPE, GAFFER_ATTEMPT,
 * GAFFER_URL, GAFFER_INPUTS, GAFFER_OUTPUT), plus the type's env and Secret references.
 */
function containerEnv(input: JobManifestInput): EnvVar[] {
  const { job, type } = input;
  const plain: Record<string, string> = {
    ...type.worker.env,
    // An ad-hoc job's own environment (its payload's `env`); gaffer's variables below win.
    ...(isAdhocType(type) && job.payload !== undefined ? adhocPayload(job.payload).env : {}),
    GAFFER_JOB_ID: job.id,
    GAFFER_JOB_TYPE: job.type,
    GAFFER_ATTEMPT: String(job.attempt),
    GAFFER_URL: input.gafferUrl,
  };
  if (job.data?.inputs?.length) plain['GAFFER_INPUTS'] = JSON.stringify(job.data.inputs);
  if (job.data?.output) plain['GAFFER_OUTPUT'] = job.data.output;
  return [
    ...Object.entries(plain).map(([name, value]) => ({ name, value })),
    ...Object.entries(type.kubernetes.secretEnv).map(([name, ref]) => ({
      name,
      valueFrom: { secretKeyRef: { name: ref.secret, key: ref.key } },
    })),
  ];
}

/** A label value: at most 63 characters of [A-Za-z0-9-_.], starting and ending alphanumeric. */
export function labelValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

function definedOnly(q: { cpu?: string | undefined; memory?: string | undefined }) {
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
}

/** `{ [key]: value }` unless the value is empty: Kubernetes treats absent and empty alike. */
export function nonEmpty<K extends string, V extends object>(
  key: K,
  value: V,
): Partial<Record<K, V>> {
  const empty = Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
  return empty ? {} : ({ [key]: value } as Record<K, V>);
}
