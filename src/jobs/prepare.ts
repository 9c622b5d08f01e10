import { GafferError } from '../errors.ts';
import type { JobData, NewJob } from '../domain/job.ts';
import { newJobId } from '../domain/ids.ts';
import { classify } from '../router/classify.ts';
import { dataRefProblem } from '../storage/roots.ts';
import type { Catalog } from './catalog.ts';

/** A job as a submitter describes it (API body, CSV row, library call). */
export interface Submission {
  type?: string | undefined;
  /** Absent: null. */
  payload?: unknown;
  /** A number (higher first) or seed 002's "low" / "normal" / "high". */
  priority?: number | string | undefined;
  attributes?: Record<string, unknown> | undefined;
  idempotencyKey?: string | undefined;
  maxAttempts?: number | undefined;
  timeoutSeconds?: number | undefined;
  /** Inputs and output by reference (src/storage/reference.ts). */
  data?: { inputs?: string[] | undefined; output?: string | undefined } | undefined;
}

const NAMED_PRIORITIES: Record<string, number> = { low: -10, normal: 0, high: 10 };

/**
 * Turns a submission into a job record ready to insert: picks its type (given, or by the route
 * rules), checks the payload against the type's schema. Pure apart from the id. Throws GafferError.
 */
export function prepareJob(
  sub: Submission,
  catalog: Catalog,
  now: number,
  batchId: string | null = null,
): NewJob {
  const attributes = sub.attributes ?? {};
  const { type, reason } = pickType(sub, attributes, catalog);
  const config = catalog.type(type);
  if (!config) throw new GafferError('GAFFER_UNKNOWN_TYPE', type);
  const problem = catalog.checkPayload(type, sub.payload ?? null);
  if (problem) throw new GafferError('GAFFER_PAYLOAD_INVALID', problem);
  const data = dataOf(sub.data, catalog.dataRoots);
  const ceiling = config.maxTimeoutSeconds;
  if (sub.timeoutSeconds !== undefined && ceiling !== undefined && sub.timeoutSeconds > ceiling) {
    throw new GafferError('GAFFER_TIMEOUT_TOO_LONG', `${sub.timeoutSeconds} s > ${ceiling} s`);
  }
  return {
    id: newJobId(now),
    type,
    queue: config.queue,
    payload: sub.payload ?? null,
    priority: priorityOf(sub.priority, config.priority),
    attributes:
      typeof sub.priority === 'string' ? { ...attributes, priority: sub.priority } : attributes,
    maxAttempts: sub.maxAttempts ?? config.retry.maxAttempts,
    timeoutMs: Math.round((sub.timeoutSeconds ?? config.timeoutSeconds) * 1000),
    createdAt: now,
    runAt: now,
    batchId,
    idempotencyKey: sub.idempotencyKey ?? null,
    routeReason: reason,
    data,
  };
}

/**
 * Checks every reference now, so a typo is a 400 at submit rather than a failed attempt later,
 * and a local path outside the roots a 403 (workers check again, on their own filesystem).
 */
function dataOf(given: Submission['data'], roots: readonly string[]): JobData | null {
  if (!given) return null;
  const inputs = given.inputs ?? [];
  const output = given.output ?? null;
  if (inputs.length === 0 && output === null) return null;
  for (const ref of output === null ? inputs : [...inputs, output]) {
    const problem = dataRefProblem(ref, roots);
    if (problem?.kind === 'invalid') {
      throw new GafferError('GAFFER_DATA_REF_INVALID', problem.message);
    }
    if (problem) throw new GafferError('GAFFER_DATA_REF_FORBIDDEN', problem.message);
  }
  return { inputs, output };
}

function pickType(
  sub: Submission,
  attributes: Record<string, unknown>,
  catalog: Catalog,
): { type: string; reason: string | null } {
  if (sub.type) return { type: sub.type, reason: null };
  const routed = classify(
    { payload: sub.payload, attributes, priority: sub.priority },
    catalog.rules,
    catalog.cost,
  );
  if (!routed) throw new GafferError('GAFFER_NO_ROUTE');
  return { type: routed.type, reason: routed.reason };
}

function priorityOf(given: number | string | undefined, typeDefault: number): number {
  if (typeof given === 'number') {
    // JSON's 1e400 parses to Infinity, and the schema's string-to-number coercion lets "1e400"
    // through as Infinity too; the job would then show `priority: null`.
    if (!Number.isFinite(given)) {
      throw new GafferError('GAFFER_BAD_REQUEST', 'priority must be finite');
    }
    return given;
  }
  if (typeof given === 'string') {
    const named = NAMED_PRIORITIES[given.toLowerCase()];
    if (named !== undefined) return named;
    const parsed = Number(given);
    if (Number.isFinite(parsed)) return parsed;
  }
  return typeDefault;
}
