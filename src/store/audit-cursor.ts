import { GafferError } from '../errors.ts';
import type { AuditFilter } from './roles/audit-log.ts';

/**
 * The audit log's page cursor, shared by both stores: the seq of the last entry shown, opaque to
 * clients (base64url), so its form can change without breaking them.
 */
export function encodeAuditCursor(seq: number): string {
  return Buffer.from(`a${seq}`).toString('base64url');
}

export function decodeAuditCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const seq = /^a(\d{1,15})$/.exec(text)?.[1];
  if (seq === undefined) {
    throw new GafferError('GAFFER_BAD_REQUEST', 'the cursor is not one this server issued');
  }
  return Number(seq);
}

/** Rows per page: at least 1, at most 1000 (as job listings). */
export function auditLimit(filter: Pick<AuditFilter, 'limit'>): number {
  return Math.min(Math.max(Math.trunc(filter.limit), 1), 1000);
}
