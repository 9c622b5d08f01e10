import { millicores, quantity } from '../config/quantity.ts';
import type { JobTypeConfig } from '../config/schema.ts';
import type { JobResources } from '../domain/job.ts';
import { GafferError } from '../errors.ts';

/**
 * The checks every submission meets, whatever its front end (HTTP, batch items, NDJSON lines, CSV
 * rows, gRPC, the library): pure, table-tested (test/unit/submission.test.ts), called by
 * `prepareJob`, so no front end can skip them. Each throws a catalogued GafferError.
 */

/** The top-level fields a submission may have; any other is refused (GAFFER_UNKNOWN_FIELD). */
export const SUBMISSION_FIELDS: ReadonlySet<string> = new Set([
  'type',
  'payload',
  'priority',
  'attributes',
  'idempotencyKey',
  'maxAttempts',
  'timeoutSeconds',
  'data',
  'resources',
  'runAt',
  'delay',
  'expiresAt',
  'expireIn',
  'dedup',
]);

/**
 * Priorities lie in ±PRIORITY_LIMIT, integers only: the range a dead-letter edit takes, far inside
 * both stores' integer columns (PostgreSQL's is 32 bits). The named ones are -10, 0 and 10.
 */
export const PRIORITY_LIMIT = 1_000_000;
export const NAMED_PRIORITIES: Readonly<Record<string, number>> = { low: -10, normal: 0, high: 10 };

/** Attempts per job at most, as the HTTP schema says. */
export const MAX_ATTEMPTS_LIMIT = 100;

/**
 * Longest job timeout, in ms: the largest delay a Node timer takes (2^31 − 1, about 24.8 days). A
 * longer one would fire at once (Node clamps it to 1 ms), so a timeout past it would be no timeout.
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Deepest nesting of arrays and objects a JSON value may have. Real submissions stay far below it;
 * a deeper value would overflow the stack when the job is serialized for the store (JSON.stringify
 * recurses).
 */
export const MAX_JSON_DEPTH = 64;

/** Refuses every key of `value` not in `known`, naming them all. `where`: e.g. "jobs[3]". */
export function refuseUnknownFields(value: object, known: ReadonlySet<string>, where = ''): void {
  const unknown = Object.keys(value).filter((k) => !known.has(k));
  if (unknown.length === 0) return;
  const names = unknown.map((k) => JSON.stringify(k)).join(', ');
  throw new GafferError(
    'GAFFER_UNKNOWN_FIELD',
    `${where ? `${where}: ` : ''}${names} (known: ${[...known].join(', ')})`,
    { details: { fields: unknown } },
  );
}

/**
 * A submission's priority: an integer within ±PRIORITY_LIMIT, or a named one ("low", "normal",
 * "high", any case), or the digits of an integer as text (a CSV upload's query string). Anything
 * else ("0x10", "1e3", "16.5", "urgent", Infinity) is refused, never read as something else.
 * Absent: the type's default.
 */
export function priorityOf(given: unknown, typeDefault: number): number {
  if (given === undefined) return typeDefault;
  let value: number;
  if (typeof given === 'number') value = given;
  else if (typeof given === 'string') {
    const lower = given.toLowerCase();
    if (Object.hasOwn(NAMED_PRIORITIES, lower)) return NAMED_PRIORITIES[lower]!;
    if (!/^[+-]?\d{1,16}$/.test(given)) {
      throw new GafferError(
        'GAFFER_BAD_REQUEST',
        `priority ${JSON.stringify(given)} is not an integer or low, normal, high`,
      );
    }
    value = Number(given);
  } else {
    throw new GafferError('GAFFER_BAD_REQUEST', 'priority must be a number or a name');
  }
  if (!Number.isInteger(value) || Math.abs(value) > PRIORITY_LIMIT) {
    throw new GafferError(
      'GAFFER_BAD_REQUEST',
      `priority must be an integer from ${-PRIORITY_LIMIT} to ${PRIORITY_LIMIT}, not ${value}`,
    );
  }
  return value;
}

/** A name ("low", "normal", "high") the priority was given as; null for a number. */
export function priorityName(given: unknown): string | null {
  return typeof given === 'string' && Object.hasOwn(NAMED_PRIORITIES, given.toLowerCase())
    ? given
    : null;
}

/**
 * A job's timeout in whole ms: the seconds given, converted, then checked on the converted value —
 * at least 1 ms (a timeout of 0 ms would arm no timer), at most the type's ceiling
 * (GAFFER_TIMEOUT_TOO_LONG) and MAX_TIMEOUT_MS; non-finite values are refused. None given: the
 * type's default, as configured.
 */
export function timeoutMsOf(
  givenSeconds: unknown,
  defaultSeconds: number,
  ceilingSeconds: number | undefined,
): number {
  if (givenSeconds === undefined) return Math.round(defaultSeconds * 1000);
  const seconds = decimalOf(givenSeconds, 'timeoutSeconds');
  if (!Number.isFinite(seconds)) {
    throw new GafferError('GAFFER_BAD_REQUEST', `timeoutSeconds must be finite, not ${seconds}`);
  }
  const ms = Math.round(seconds * 1000);
  if (!(ms >= 1)) {
    throw new GafferError(
      'GAFFER_BAD_REQUEST',
      `timeoutSeconds ${seconds} is under 1 ms (it would be no timeout at all)`,
    );
  }
  if (ceilingSeconds !== undefined && ms > Math.round(ceilingSeconds * 1000)) {
    throw new GafferError('GAFFER_TIMEOUT_TOO_LONG', `${seconds} s > ${ceilingSeconds} s`);
  }
  if (ms > MAX_TIMEOUT_MS) {
    throw new GafferError(
      'GAFFER_TIMEOUT_TOO_LONG',
      `${seconds} s > ${MAX_TIMEOUT_MS / 1000} s, the longest timeout gaffer can keep`,
    );
  }
  return ms;
}

/**
 * Attempts: an integer from 1 to MAX_ATTEMPTS_LIMIT, or its digits as text; absent, the type's
 * default.
 */
export function maxAttemptsOf(given: unknown, typeDefault: number): number {
  if (given === undefined) return typeDefault;
  if (typeof given === 'string' && /^\d{1,3}$/.test(given)) given = Number(given);
  if (typeof given !== 'number' || !Number.isInteger(given)) {
    throw new GafferError('GAFFER_BAD_REQUEST', 'maxAttempts must be an integer');
  }
  if (given < 1 || given > MAX_ATTEMPTS_LIMIT) {
    throw new GafferError('GAFFER_BAD_REQUEST', `maxAttempts must be 1 to ${MAX_ATTEMPTS_LIMIT}`);
  }
  return given;
}

/** A decimal number as JSON writes one, e.g. `12`, `-0.5`, `1e3`: no hex, no `Infinity`, no spaces. */
export const DECIMAL_TEXT = '^-?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?$';
const DECIMAL = new RegExp(DECIMAL_TEXT);

/**
 * A number given as a number or as its decimal text (a query string, a client that quotes
 * numbers). Other text ("0x10", "Infinity", " 5") is refused, never read as some other number.
 */
export function decimalOf(given: unknown, field: string): number {
  if (typeof given === 'number') return given;
  if (typeof given === 'string' && given.length <= 40 && DECIMAL.test(given)) return Number(given);
  throw new GafferError('GAFFER_BAD_REQUEST', `${field} must be a decimal number`);
}

/** A text field (type, idempotency key): a string of 1 to `max` characters, storable anywhere. */
export function checkText(value: unknown, field: string, max: number): void {
  if (typeof value !== 'string' || value.length < 1 || value.length > max) {
    throw new GafferError('GAFFER_BAD_REQUEST', `${field} must be a string of 1 to ${max} chars`);
  }
  if (!storable(value)) {
    throw new GafferError('GAFFER_BAD_REQUEST', `${field} ${BAD_TEXT}`);
  }
}

const BAD_TEXT = 'holds U+0000 or an unpaired surrogate, which the stores cannot keep';

/** Text both stores keep as given: PostgreSQL refuses U+0000 and unpaired surrogates. */
function storable(s: string): boolean {
  return s.isWellFormed() && !s.includes('\0');
}

/**
 * Refuses a JSON value (a payload, attributes) the HTTP API's JSON parser would refuse or the
 * stores could not keep, wherever it came from (JSON text over gRPC, an object given to the
 * library): nested deeper than MAX_JSON_DEPTH (a cycle counts as infinitely deep), a `__proto__`
 * key or a `constructor` key holding `prototype` (prototype pollution, as secure-json-parse
 * refuses them), strings or keys holding U+0000 or unpaired surrogates, and values JSON has not
 * (a bigint, a function, NaN or Infinity, which JSON would turn into null).
 */
export function checkJsonValue(value: unknown, field: string): void {
  const problem = jsonProblem(value, 1);
  if (problem) throw new GafferError('GAFFER_BAD_REQUEST', `${field}: ${problem}`);
}

function jsonProblem(value: unknown, depth: number): string | null {
  switch (typeof value) {
    case 'string':
      return storable(value) ? null : `a string ${BAD_TEXT}`;
    case 'number':
      return Number.isFinite(value) ? null : `${value} is not a JSON number`;
    case 'boolean':
    case 'undefined': // a member JSON leaves out, as JSON.stringify does
      return null;
    case 'object':
      break;
    default:
      return `a ${typeof value} is not a JSON value`;
  }
  if (value === null) return null;
  if (depth > MAX_JSON_DEPTH) return `nested deeper than ${MAX_JSON_DEPTH} levels`;
  if (Array.isArray(value)) {
    for (const item of value) {
      const p = jsonProblem(item, depth + 1);
      if (p) return p;
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    if (key === '__proto__') return 'a "__proto__" key';
    const item = (value as Record<string, unknown>)[key];
    if (key === 'constructor' && typeof item === 'object' && item !== null) {
      if (Object.hasOwn(item, 'prototype')) return 'a "constructor.prototype" key';
    }
    if (!storable(key)) return `a key ${BAD_TEXT}`;
    const p = jsonProblem(item, depth + 1);
    if (p) return p;
  }
  return null;
}

const RESOURCE_FIELDS: ReadonlySet<string> = new Set(['cpu', 'memory', 'gpus']);
const CPU = /^[0-9]+(\.[0-9]+)?m?$/;
const MEMORY = /^[0-9]+(\.[0-9]+)?([KMGTPE]i|[kMGTPE])?$/;

/** What a type lets one of its jobs ask for: its declared resources. */
export type ResourceCeiling = Pick<JobTypeConfig, 'mode'> & {
  worker: Pick<JobTypeConfig['worker'], 'resources'>;
  kubernetes: Pick<JobTypeConfig['kubernetes'], 'resources' | 'gpus'>;
};

/**
 * A job's own resource request, checked against its type: `cpu` and `memory` as Kubernetes
 * quantities (cpu may be a number), `gpus` a whole count. Each may go up to what the type declares
 * — its Kubernetes limit, else its Kubernetes request, else its local `worker.resources` (cpu,
 * memory); `kubernetes.gpus` (gpus) — and a resource the type declares none of cannot be asked
 * for: the request would bound nothing, or never fit (GAFFER_RESOURCES_TOO_LARGE). Per-job types
 * only: a pool worker's resources are shared by all the jobs it runs (GAFFER_BAD_REQUEST). Absent,
 * or nothing but `gpus: 0`: null, the type's own.
 */
export function resourcesOf(given: unknown, type: ResourceCeiling): JobResources | null {
  if (given === undefined || given === null) return null;
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw new GafferError('GAFFER_BAD_REQUEST', 'resources must be an object');
  }
  refuseUnknownFields(given, RESOURCE_FIELDS, 'resources');
  const r = given as Record<string, unknown>;
  const out: JobResources = {};
  if (r['cpu'] !== undefined) out.cpu = quantityText(r['cpu'], 'cpu', CPU);
  if (r['memory'] !== undefined) out.memory = quantityText(r['memory'], 'memory', MEMORY);
  if (r['gpus'] !== undefined && r['gpus'] !== 0) out.gpus = gpuCount(r['gpus']);
  if (Object.keys(out).length === 0) return null;
  if (type.mode !== 'per-job') {
    throw new GafferError(
      'GAFFER_BAD_REQUEST',
      'resources: only a per-job type runs a job in a worker of its own (a pool worker shares its resources among its jobs)',
    );
  }
  const declared = type.kubernetes.resources;
  for (const key of ['cpu', 'memory'] as const) {
    const asked = out[key];
    if (asked === undefined) continue;
    const ceiling = declared.limits[key] ?? declared.requests[key] ?? type.worker.resources?.[key];
    const size = key === 'cpu' ? millicores : quantity;
    if (ceiling === undefined || size(asked) > size(ceiling)) {
      throw new GafferError(
        'GAFFER_RESOURCES_TOO_LARGE',
        `${key} ${asked} > ${ceiling ?? 'none'}, what the type declares (worker.resources, kubernetes.resources)`,
        { details: { [key]: { asked, declared: ceiling ?? null } } },
      );
    }
  }
  if (out.gpus !== undefined && out.gpus > type.kubernetes.gpus) {
    throw new GafferError(
      'GAFFER_RESOURCES_TOO_LARGE',
      `gpus ${out.gpus} > ${type.kubernetes.gpus}, what the type declares (kubernetes.gpus)`,
      { details: { gpus: { asked: out.gpus, declared: type.kubernetes.gpus } } },
    );
  }
  return out;
}

function quantityText(value: unknown, field: string, form: RegExp): string {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (typeof text !== 'string' || text.length > 40 || !form.test(text)) {
    throw new GafferError(
      'GAFFER_BAD_REQUEST',
      `resources.${field} must be a Kubernetes quantity, e.g. ${field === 'cpu' ? '"500m" or "2"' : '"512Mi" or "4Gi"'}`,
    );
  }
  return text;
}

function gpuCount(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 64) {
    throw new GafferError('GAFFER_BAD_REQUEST', 'resources.gpus must be a whole number of GPUs');
  }
  return value;
}

/**
 * Furthest ahead a job may be delayed or expire: 366 days. Anything later is refused as a likely
 * mistake (seconds taken for milliseconds, a year typed wrong) rather than kept for ever.
 */
export const MAX_DELAY_MS = 366 * 24 * 3600 * 1000;

/**
 * Epoch milliseconds below this (1973-03-03) are refused: such a number is far more likely epoch
 * seconds than a time in 1973, and gaffer does not guess which was meant.
 */
export const MIN_EPOCH_MS = 100_000_000_000;

/** An ISO 8601 date-time with a zone ("Z" or ±hh:mm); a time without one is ambiguous. */
const ISO_WITH_ZONE =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * A duration: seconds as a number (or its decimal text), or a number with a unit: "500ms",
 * "30s", "5m", "2h", "1d". Hand-written rather than the `ms` package: `ms` reads a bare number as
 * milliseconds, where every other duration of a submission (timeoutSeconds) is in seconds.
 */
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** A duration in whole ms (see DURATION), 0 to MAX_DELAY_MS; `code` names the refusal. */
export function durationMsOf(given: unknown, field: string, code: TimingCode): number {
  let ms: number;
  const unit = typeof given === 'string' ? DURATION.exec(given.trim()) : null;
  if (unit) ms = Number(unit[1]) * UNIT_MS[unit[2]!]!;
  else {
    let seconds: number;
    try {
      seconds = decimalOf(given, field);
    } catch {
      throw new GafferError(
        code,
        `${field} must be seconds (a number) or a duration such as "30s", "5m", "2h", "1d"`,
      );
    }
    ms = seconds * 1000;
  }
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_DELAY_MS) {
    throw new GafferError(
      code,
      `${field} must be from 0 to ${MAX_DELAY_MS / 86_400_000} days, not ${JSON.stringify(given)}`,
    );
  }
  return Math.round(ms);
}

/**
 * A point in time: an ISO 8601 date-time with a zone ("2026-12-07T14:00:00Z",
 * "…+01:00") or epoch milliseconds (an integer, or its digits as text), no later than
 * MAX_DELAY_MS from `now`. A time without a zone, epoch seconds (a number under MIN_EPOCH_MS) and
 * anything else are refused with `code`.
 */
export function instantOf(given: unknown, field: string, now: number, code: TimingCode): number {
  let at: number;
  if (typeof given === 'number' || (typeof given === 'string' && /^\d{1,16}$/.test(given))) {
    at = Number(given);
    if (!Number.isInteger(at) || at < MIN_EPOCH_MS) {
      throw new GafferError(
        code,
        `${field} ${JSON.stringify(given)}: a number is epoch milliseconds (an integer from ${MIN_EPOCH_MS}); for seconds give an ISO time`,
      );
    }
  } else if (typeof given === 'string' && given.length <= 40 && ISO_WITH_ZONE.test(given)) {
    at = Date.parse(given.replace(' ', 'T'));
    if (!Number.isFinite(at)) {
      throw new GafferError(code, `${field} ${JSON.stringify(given)} is not a real date-time`);
    }
  } else {
    throw new GafferError(
      code,
      `${field} must be an ISO 8601 time with a zone (e.g. "2026-12-07T14:00:00Z") or epoch milliseconds`,
    );
  }
  if (at - now > MAX_DELAY_MS) {
    throw new GafferError(
      code,
      `${field} is more than ${MAX_DELAY_MS / 86_400_000} days ahead: ${new Date(at).toISOString()}`,
    );
  }
  return at;
}

export type TimingCode = 'GAFFER_DELAY_INVALID' | 'GAFFER_EXPIRY_INVALID';

/**
 * When a job becomes due: `runAt` (a time) or `delay` (a duration from `now`), not both
 * (GAFFER_DELAY_INVALID); a time in the past is now (the job runs at once). Neither: now.
 */
export function runAtOf(given: { runAt?: unknown; delay?: unknown }, now: number): number {
  if (given.runAt !== undefined && given.delay !== undefined) {
    throw new GafferError('GAFFER_DELAY_INVALID', 'give runAt or delay, not both');
  }
  if (given.runAt !== undefined) {
    return Math.max(now, instantOf(given.runAt, 'runAt', now, 'GAFFER_DELAY_INVALID'));
  }
  if (given.delay !== undefined) {
    return now + durationMsOf(given.delay, 'delay', 'GAFFER_DELAY_INVALID');
  }
  return now;
}

/**
 * When a job not started by then ends as `expired`: `expiresAt` (a time) or `expireIn` (a duration
 * from `now`, the submission's time, not the due time), not both; it must fall after the job's
 * due time `runAt`, or the job could never run (GAFFER_EXPIRY_INVALID). Neither: null, never.
 */
export function expiresAtOf(
  given: { expiresAt?: unknown; expireIn?: unknown },
  now: number,
  runAt: number,
): number | null {
  const code = 'GAFFER_EXPIRY_INVALID';
  if (given.expiresAt !== undefined && given.expireIn !== undefined) {
    throw new GafferError(code, 'give expiresAt or expireIn, not both');
  }
  let at: number;
  if (given.expiresAt !== undefined) at = instantOf(given.expiresAt, 'expiresAt', now, code);
  else if (given.expireIn !== undefined) at = now + durationMsOf(given.expireIn, 'expireIn', code);
  else return null;
  if (at <= runAt) {
    throw new GafferError(
      code,
      `the job would expire (${new Date(at).toISOString()}) before it is due (${new Date(runAt).toISOString()})`,
    );
  }
  return at;
}
