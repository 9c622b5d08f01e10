import { keyOf } from '../domain/flow.ts';
import { GafferError } from '../errors.ts';
import type { JobData, NewJob } from '../domain/job.ts';
import { newJobId } from '../domain/ids.ts';
import { classify, fieldOf } from '../router/classify.ts';
import { dataRefProblem } from '../storage/roots.ts';
import { unknownType, type Catalog } from './catalog.ts';
import { dedupOf } from './dedup.ts';
import {
  checkJsonValue,
  checkText,
  expiresAtOf,
  maxAttemptsOf,
  priorityName,
  priorityOf,
  refuseUnknownFields,
  resourcesOf,
  runAtOf,
  SUBMISSION_FIELDS,
  timeoutMsOf,
} from './submission.ts';

/** A job as a submitter describes it (API body, CSV row, library call). */
export interface Submission {
  type?: string | undefined;
  /** Absent: null. */
  payload?: unknown;
  /** A number (higher first) or a priority name: "low" / "normal" / "high". */
  priority?: number | string | undefined;
  attributes?: Record<string, unknown> | undefined;
  idempotencyKey?: string | undefined;
  maxAttempts?: number | undefined;
  timeoutSeconds?: number | undefined;
  /** Inputs and output by reference (src/storage/reference.ts). */
  data?: { inputs?: string[] | undefined; output?: string | undefined } | undefined;
  /** This job's cpu, memory and GPUs, within its type's declared resources (submission.ts). */
  resources?: { cpu?: string | number; memory?: string; gpus?: number } | undefined;
  /** How a held idempotency key deduplicates it (src/jobs/dedup.ts); absent: never again. */
  dedup?: { mode: string; ttlSeconds?: number; debounceSeconds?: number } | undefined;
  /**
   * Not before this time: an ISO 8601 time with a zone, or epoch ms. A past time: at once.
   * Not with `delay`.
   */
  runAt?: string | number | undefined;
  /** Not before this long from now: seconds, or "500ms", "30s", "5m", "2h", "1d". */
  delay?: string | number | undefined;
  /** Not started by this time (as `runAt`): ends as `expired`, never run. Not with `expireIn`. */
  expiresAt?: string | number | undefined;
  /** Not started this long after submission (as `delay`): ends as `expired`, never run. */
  expireIn?: string | number | undefined;
}

/** When a submission runs and expires: what an upload's query gives every row. */
export type Timing = Pick<Submission, 'runAt' | 'delay' | 'expiresAt' | 'expireIn'>;

/**
 * `sub` with `defaults` (an upload's query) for each pair, due time and expiry, it gives nothing
 * of: a line's own `delay` is not overridden by, nor in conflict with, the upload's `runAt`.
 */
export function withTiming(sub: Submission, defaults: Timing): Submission {
  const out = { ...sub };
  if (sub.runAt === undefined && sub.delay === undefined) {
    if (defaults.runAt !== undefined) out.runAt = defaults.runAt;
    if (defaults.delay !== undefined) out.delay = defaults.delay;
  }
  if (sub.expiresAt === undefined && sub.expireIn === undefined) {
    if (defaults.expiresAt !== undefined) out.expiresAt = defaults.expiresAt;
    if (defaults.expireIn !== undefined) out.expireIn = defaults.expireIn;
  }
  return out;
}

/** The timing fields of an upload's query that are set. */
export function timingOf(query: Timing): Timing {
  const out: Timing = {};
  for (const k of ['runAt', 'delay', 'expiresAt', 'expireIn'] as const) {
    if (query[k] !== undefined) out[k] = query[k];
  }
  return out;
}

/**
 * Turns a submission into a job record ready to insert: refuses unknown fields and values no store
 * or timer can keep (src/jobs/submission.ts), picks its type (given, or by the route rules), checks
 * the payload against the type's schema. Pure apart from the id. Throws GafferError. Every front
 * end's submissions come through here, so each meets exactly the same checks.
 */
export function prepareJob(
  sub: Submission,
  catalog: Catalog,
  now: number,
  batchId: string | null = null,
): NewJob {
  checkSubmission(sub);
  const attributes = sub.attributes ?? {};
  const { type, reason } = pickType(sub, attributes, catalog);
  const config = catalog.type(type);
  if (!config) throw unknownType(catalog, type);
  const problem = catalog.checkPayload(type, sub.payload ?? null);
  if (problem) throw new GafferError('GAFFER_PAYLOAD_INVALID', problem);
  const data = dataOf(sub.data, catalog.dataRoots);
  const timeoutMs = timeoutMsOf(
    sub.timeoutSeconds,
    config.timeoutSeconds,
    config.maxTimeoutSeconds,
  );
  const resources = resourcesOf(sub.resources, config);
  // The type's default applies only to a keyed submission that names no mode of its own.
  const keyed = sub.idempotencyKey !== undefined;
  const dedup = dedupOf(sub.dedup ?? (keyed ? config.dedup : undefined), sub.idempotencyKey);
  const priority = sub.priority ?? namedPriorityIn(attributes, sub.payload);
  const named = priorityName(priority);
  const runAt = runAtOf(sub, now);
  const expiresAt = expiresAtOf(sub, now, runAt);
  return {
    id: newJobId(now),
    type,
    queue: config.queue,
    payload: sub.payload ?? null,
    priority: priorityOf(priority, config.priority),
    attributes: named === null ? attributes : { ...attributes, priority: named },
    maxAttempts: maxAttemptsOf(sub.maxAttempts, config.retry.maxAttempts),
    timeoutMs,
    createdAt: now,
    runAt,
    ...(expiresAt !== null ? { expiresAt } : {}),
    batchId,
    idempotencyKey: sub.idempotencyKey ?? null,
    routeReason: reason,
    data,
    ...(resources ? { resources } : {}),
    ...(dedup ? { dedup } : {}),
    ...(config.keyLimit
      ? { flowKey: keyOf(config.keyLimit.key, { payload: sub.payload ?? null, attributes }) }
      : {}),
  };
}

/** The checks that need no catalog: fields, text, JSON values, the priority's form. */
function checkSubmission(sub: Submission): void {
  if (typeof sub !== 'object' || sub === null || Array.isArray(sub)) {
    throw new GafferError('GAFFER_BAD_REQUEST', 'a submission is an object');
  }
  refuseUnknownFields(sub, SUBMISSION_FIELDS);
  if (sub.type !== undefined) checkText(sub.type, 'type', 200);
  if (sub.idempotencyKey !== undefined) checkText(sub.idempotencyKey, 'idempotencyKey', 200);
  checkJsonValue(sub.payload, 'payload');
  if (sub.attributes !== undefined) {
    const a = sub.attributes as unknown;
    if (typeof a !== 'object' || a === null || Array.isArray(a)) {
      throw new GafferError('GAFFER_BAD_REQUEST', 'attributes must be an object');
    }
    checkJsonValue(a, 'attributes');
  }
  // Routing reads the priority before the type is known: a malformed one is refused first.
  priorityOf(sub.priority, 0);
}

/**
 * A job model may carry its priority as a field of the job itself ("priority": "high", as
 * `POST /submit-job` bodies do), which the router reads for its cost rule: a priority name there (attributes first, then the
 * payload, as the router reads them) is the job's priority when the submission gives none, so
 * "high" is the same 10 whichever front end the job came by. Only the names count: a number in a
 * payload's own `priority` field is the payload's business.
 */
function namedPriorityIn(
  attributes: Record<string, unknown>,
  payload: unknown,
): string | undefined {
  const field = fieldOf({ payload, attributes }, 'priority');
  return priorityName(field) ?? undefined;
}

const DATA_FIELDS: ReadonlySet<string> = new Set(['inputs', 'output']);

/**
 * Checks every reference now, so a typo is a 400 at submit rather than a failed attempt later,
 * and a local path outside the roots a 403 (workers check again, on their own filesystem).
 */
function dataOf(given: Submission['data'], roots: readonly string[]): JobData | null {
  if (given === undefined || given === null) return null;
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw new GafferError('GAFFER_BAD_REQUEST', 'data must be an object');
  }
  refuseUnknownFields(given, DATA_FIELDS, 'data');
  if (given.inputs !== undefined && !Array.isArray(given.inputs)) {
    throw new GafferError('GAFFER_BAD_REQUEST', 'data.inputs must be an array');
  }
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
