import { GafferError } from '../errors.ts';

/**
 * Paging helpers both stores share: jobs are listed newest first by (created_at, id), and the
 * cursor is that pair of the last job shown, opaque to clients.
 */

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
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
 * Search bounds (issue 7): a listing search matches an id prefix (at most `SEARCH_ID_MATCHES` ids,
 * in id order), an idempotency key exactly, or payload text within the newest
 * `SEARCH_PAYLOAD_WINDOW` jobs. Each branch reads an index and a bounded number of rows, so a
 * search costs the same at a million jobs as at a thousand; payload text older than the window is
 * not found (the dashboard says so). A substring index over every payload is not worth its write
 * cost for a dashboard search.
 */
export const SEARCH_ID_MATCHES = 1000;
export const SEARCH_PAYLOAD_WINDOW = 10_000;
