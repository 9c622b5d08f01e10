import { randomFillSync } from 'node:crypto';

/**
 * Job ids sort by creation time within one process: a time prefix (ms, base 36) and a random tail
 * of 48 bits from the CSPRNG, `0mxbgq3ic-b503414d-9304`. Made for every job of an upload, so
 * cheaply: the prefix is kept for the millisecond and the random bytes are drawn a pool at a time
 * (randomUUID per id was 0.45 µs of a CSV row's ~8 µs; this is ~0.1 µs).
 */
export function newJobId(now: number): string {
  if (now !== prefixOf) {
    prefixOf = now;
    prefix = now.toString(36).padStart(9, '0');
  }
  if (at === pool.length) {
    randomFillSync(pool);
    at = 0;
  }
  const hex = pool.toString('hex', at, at + TAIL_BYTES);
  at += TAIL_BYTES;
  return `${prefix}-${hex.slice(0, 8)}-${hex.slice(8)}`;
}

const TAIL_BYTES = 6;
const pool = Buffer.alloc(TAIL_BYTES * 1024);
let at = pool.length;
let prefixOf = -1;
let prefix = '';
