import type { Job } from '../../domain/job.ts';
import { GafferError } from '../../errors.ts';
import type { Submission } from '../../jobs/prepare.ts';
import { refuseUnknownFields } from '../../jobs/submission.ts';

/**
 * The `POST /api/jobs` compatibility mapping (pipeline, ML training/inference and digital-twin job
 * submissions): its body as a gaffer submission, and the job as that API's queue record. Pure. The
 * body is the job model itself:
 *   type → type; priority → priority; resource_requirements { cpu, memory, gpu } → resources
 *   (gpu true = 1 GPU, false = none, or a count); data_access { input_datasets, output_location }
 *   → data { inputs, output }; every other field (pipeline_id, project_id, parameters, …) → the
 *   payload, checked against the type's schema.
 * `data_access.storage_credentials` is refused: a job carries no credentials (workers take them
 * from their environment, on Kubernetes from the type's `kubernetes.secretEnv`).
 */
const MAPPED = new Set(['type', 'priority', 'resource_requirements', 'data_access']);
const RESOURCE_FIELDS: ReadonlySet<string> = new Set(['cpu', 'memory', 'gpu']);
const DATA_FIELDS: ReadonlySet<string> = new Set([
  'input_datasets',
  'output_location',
  'storage_credentials',
]);

export function fromApiJobsBody(body: unknown): Submission {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GafferError(
      'GAFFER_BAD_REQUEST',
      'the body is a JSON object (the /api/jobs job model)',
    );
  }
  const b = body as Record<string, unknown>;
  const payload = Object.fromEntries(Object.entries(b).filter(([k]) => !MAPPED.has(k)));
  const sub: Submission = { payload };
  if (b['type'] !== undefined) sub.type = b['type'] as string;
  if (b['priority'] !== undefined) sub.priority = b['priority'] as string | number;
  const resources = resourcesOf(b['resource_requirements']);
  if (resources) sub.resources = resources;
  const data = dataOf(b['data_access']);
  if (data) sub.data = data;
  return sub;
}

function resourcesOf(given: unknown): Submission['resources'] {
  if (given === undefined || given === null) return undefined;
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw new GafferError('GAFFER_BAD_REQUEST', 'resource_requirements must be an object');
  }
  refuseUnknownFields(given, RESOURCE_FIELDS, 'resource_requirements');
  const { cpu, memory, gpu } = given as Record<string, unknown>;
  const gpus = gpu === true ? 1 : gpu === false || gpu === undefined ? undefined : gpu;
  return {
    ...(cpu !== undefined ? { cpu: cpu as string } : {}),
    ...(memory !== undefined ? { memory: memory as string } : {}),
    ...(gpus !== undefined ? { gpus: gpus as number } : {}),
  };
}

function dataOf(given: unknown): Submission['data'] {
  if (given === undefined || given === null) return undefined;
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw new GafferError('GAFFER_BAD_REQUEST', 'data_access must be an object');
  }
  refuseUnknownFields(given, DATA_FIELDS, 'data_access');
  const d = given as Record<string, unknown>;
  if (d['storage_credentials'] !== undefined) {
    throw new GafferError(
      'GAFFER_BAD_REQUEST',
      "data_access.storage_credentials: a job carries no credentials; workers take them from their environment (on Kubernetes, the type's kubernetes.secretEnv)",
    );
  }
  return {
    ...(d['input_datasets'] !== undefined ? { inputs: d['input_datasets'] as string[] } : {}),
    ...(d['output_location'] !== undefined ? { output: d['output_location'] as string } : {}),
  };
}

/**
 * The job as the /api/jobs queue record (`job_id`, `status`, `submitted_at`, `task_spec`, …), with
 * gaffer's own view of it as `job`.
 */
export function toApiJobsRecord(job: Omit<Job, 'leaseToken'>) {
  const { gpus, ...rest } = job.resources ?? {};
  return {
    job_id: job.id,
    type: job.type,
    status: job.state,
    priority: job.priority,
    submitted_at: new Date(job.createdAt).toISOString(),
    task_spec: job.payload,
    resource_requirements: { ...rest, ...(gpus ? { gpu: gpus } : {}) },
    data_access: {
      input_datasets: job.data?.inputs ?? [],
      output_location: job.data?.output ?? null,
    },
    job,
  };
}
