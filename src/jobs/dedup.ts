import type { Dedup } from '../domain/job.ts';
import { GafferError } from '../errors.ts';
import { refuseUnknownFields } from './submission.ts';

/** A submission's `dedup` field (the modes and their decision: src/domain/dedup.ts). */

const DEDUP_FIELDS: ReadonlySet<string> = new Set(['mode', 'ttlSeconds', 'debounceSeconds']);

/** Longest ttl or debounce window: 30 days (a key held longer is the default mode's job). */
export const MAX_DEDUP_SECONDS = 30 * 24 * 3600;

/**
 * A submission's `dedup` field: `{ mode: 'live' }`, `{ mode: 'ttl', ttlSeconds }` or
 * `{ mode: 'debounce', debounceSeconds }` (seconds: a positive number up to MAX_DEDUP_SECONDS).
 * Needs an idempotency key. Absent: null (the default mode). Throws GAFFER_BAD_REQUEST.
 */
export function dedupOf(given: unknown, idempotencyKey: string | undefined): Dedup | null {
  if (given === undefined || given === null) return null;
  if (typeof given !== 'object' || Array.isArray(given)) {
    throw new GafferError('GAFFER_BAD_REQUEST', 'dedup must be an object');
  }
  refuseUnknownFields(given, DEDUP_FIELDS, 'dedup');
  if (idempotencyKey === undefined) {
    throw new GafferError('GAFFER_BAD_REQUEST', 'dedup needs an idempotencyKey');
  }
  const { mode, ttlSeconds, debounceSeconds } = given as Record<string, unknown>;
  const only = (field: string, value: unknown) => {
    if (value !== undefined) {
      throw new GafferError('GAFFER_BAD_REQUEST', `dedup.${field} is not for mode ${String(mode)}`);
    }
  };
  switch (mode) {
    case 'live':
      only('ttlSeconds', ttlSeconds);
      only('debounceSeconds', debounceSeconds);
      return { mode };
    case 'ttl':
      only('debounceSeconds', debounceSeconds);
      return { mode, ttlMs: windowMs(ttlSeconds, 'ttlSeconds') };
    case 'debounce':
      only('ttlSeconds', ttlSeconds);
      return { mode, debounceMs: windowMs(debounceSeconds, 'debounceSeconds') };
    default:
      throw new GafferError(
        'GAFFER_BAD_REQUEST',
        `dedup.mode must be live, ttl or debounce, not ${JSON.stringify(mode)}`,
      );
  }
}

function windowMs(seconds: unknown, field: string): number {
  if (typeof seconds === 'string' && /^\d+(\.\d+)?$/.test(seconds)) seconds = Number(seconds);
  if (
    typeof seconds !== 'number' ||
    !Number.isFinite(seconds) ||
    seconds <= 0 ||
    seconds > MAX_DEDUP_SECONDS
  ) {
    throw new GafferError(
      'GAFFER_BAD_REQUEST',
      `dedup.${field} must be a number of seconds over 0, at most ${MAX_DEDUP_SECONDS}`,
    );
  }
  return Math.round(seconds * 1000);
}
