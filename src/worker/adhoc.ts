import path from 'node:path';
import type { AdhocConfig, JobTypeConfig } from '../config/schema.ts';
import { moduleFile } from '../paths.ts';

/**
 * Ad-hoc commands: the job type gaffer builds from `config.adhoc`. Its jobs carry their
 * command, image and environment in the payload, so no type has to be declared per command.
 *
 * - Local executor: the type's command is `adhoc-main.ts`, which runs the payload's `cmd` with
 *   `sh -c` under the ordinary command runner (timeout, logs, process-group kill). The image is
 *   recorded and checked, but the command runs as a local process, not in a container.
 * - Kubernetes per-job mode: the Job's container is the payload's image running `sh -c cmd`
 *   (executors/kubernetes/job-manifest.ts).
 */

/** A job's payload: what `POST /v1/run` stores. */
export interface AdhocPayload {
  cmd: string;
  /** Absent: the type's default image (`adhoc.image`). */
  image?: string;
  env?: Record<string, string>;
}

/** The ad-hoc type's rules, carried on its catalog entry (never configured per type). */
export interface AdhocRules {
  /** Glob patterns a payload's image must match; the default image is always first. */
  allowedImages: string[];
}

export type AdhocJobType = JobTypeConfig & { adhoc: AdhocRules };

/** Largest command accepted (a command line, not a script upload). */
const MAX_CMD = 64 * 1024;

export const ADHOC_PAYLOAD_SCHEMA = {
  type: 'object',
  required: ['cmd'],
  additionalProperties: false,
  properties: {
    cmd: { type: 'string', minLength: 1, maxLength: MAX_CMD },
    image: { type: 'string', minLength: 1, maxLength: 512 },
    env: {
      type: 'object',
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      additionalProperties: { type: 'string' },
    },
  },
} as const;

/** The worker entry that runs a payload's command (adhoc-main.ts), as an absolute path. */
export const ADHOC_ENTRY = moduleFile('worker/adhoc-main');

/** The catalog entry for `config.adhoc` (only when enabled). Pure. */
export function adhocJobType(a: AdhocConfig): AdhocJobType {
  return {
    queue: a.name,
    description: 'ad-hoc commands (gaffer run, POST /v1/run)',
    // One process (or Kubernetes Job) per command: each may name its own image.
    mode: 'per-job',
    worker: { command: [process.execPath, ADHOC_ENTRY], image: a.image, env: {} },
    concurrency: 1,
    timeoutSeconds: Math.min(a.timeoutSeconds, a.maxTimeoutSeconds),
    maxTimeoutSeconds: a.maxTimeoutSeconds,
    priority: 0,
    retry: a.retry,
    scaling: a.scaling,
    payloadSchema: ADHOC_PAYLOAD_SCHEMA as unknown as Record<string, unknown>,
    // A failed one-off command is reported, not parked for an edit and replay.
    deadLetter: false,
    kubernetes: a.kubernetes,
    adhoc: { allowedImages: [a.image, ...a.allowedImages] },
  };
}

export function isAdhocType(type: object): type is AdhocJobType {
  return 'adhoc' in type && typeof type.adhoc === 'object' && type.adhoc !== null;
}

/** Null when the image may run, else why not. `*` in a pattern does not cross `/`. */
export function imageProblem(image: string, rules: AdhocRules): string | null {
  if (rules.allowedImages.some((p) => path.posix.matchesGlob(image, p))) return null;
  return `image ${JSON.stringify(image)} is not allowed (adhoc.image, adhoc.allowedImages: ${rules.allowedImages.join(', ')})`;
}

/** The payload of a job of the ad-hoc type (already checked against the schema at submit). */
export function adhocPayload(payload: unknown): AdhocPayload {
  const p = (payload ?? {}) as Partial<AdhocPayload>;
  if (typeof p.cmd !== 'string' || p.cmd === '') throw new Error('ad-hoc payload has no cmd');
  return {
    cmd: p.cmd,
    ...(typeof p.image === 'string' ? { image: p.image } : {}),
    ...(p.env && typeof p.env === 'object' ? { env: p.env } : {}),
  };
}
