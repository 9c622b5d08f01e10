import { GafferError } from '../errors.ts';
import type { JobFilter } from './roles/job-listing.ts';

/**
 * Paging helpers both stores share: jobs are listed newest first — PostgreSQL by (created_at, id),
 * SQLite by rowid (the order it recorded them) — and the cursor is the last job's place in that
 * order, a [number, id] pair opaque to clients.
 */

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function encodeCursor(position: number, id: string): string {
  return Buffer.from(JSON.stringify([position, id])).toString('base64url');
}

/**
 * The single-type listings a filter stands for: one per type of `types` (when no `type` is named),
 * else the filter itself. A store merges their pages in its own order.
 */
export function byType(filter: JobFilter): JobFilter[] {
  const { types, ...rest } = filter;
  if (types === undefined || rest.type !== undefined) return [rest];
  return types.map((type) => ({ ...rest, type }));
}

export function decodeCursor(cursor: string): [number, string] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return [value[0], value[1]];
    }
  } catch {
    // Falls through to the same error as a well-formed but wrong value.
  }
  throw new GafferError('GAFFER_BAD_REQUEST', 'the cursor is not one this server issued');
}

/**
 * Search bounds: a listing search matches an id prefix (at most `SEARCH_ID_MATCHES` ids,
 * in id order), an idempotency key exactly, or payload text within the newest
 * `SEARCH_PAYLOAD_WINDOW` jobs. Each branch reads an index and a bounded number of rows, so a
 * search costs the same at a million jobs as at a thousand; payload text older than the window is
 * not found (the dashboard says so). A substring index over every payload is not worth its write
 * cost for a dashboard search.
 */
export const SEARCH_ID_MATCHES = 1000;
export const SEARCH_PAYLOAD_WINDOW = 10_000;
