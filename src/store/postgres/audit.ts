import type pg from 'pg';
import { auditLimit, decodeAuditCursor, encodeAuditCursor } from '../audit-cursor.ts';
import type { AuditEntry, AuditFilter, AuditPage, AuditRecord } from '../roles/audit-log.ts';
import { rows, run } from './db.ts';

export async function appendAudit(pool: pg.Pool, e: AuditEntry): Promise<void> {
  await run(
    pool,
    `INSERT INTO audit (at, actor, action, target, outcome, details)
      VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
    [
      e.at,
      e.actor,
      e.action,
      e.target,
      e.outcome,
      e.details === null || e.details === undefined ? null : JSON.stringify(e.details),
    ],
  );
}

/** Newest first by seq; filtered by actor or action through their (x, seq) indexes. */
export async function listAudit(pool: pg.Pool, filter: AuditFilter): Promise<AuditPage> {
  const limit = auditLimit(filter);
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.actor !== undefined) where.push(`actor = $${params.push(filter.actor)}`);
  if (filter.action !== undefined) where.push(`action = $${params.push(filter.action)}`);
  if (filter.cursor !== undefined) {
    where.push(`seq < $${params.push(decodeAuditCursor(filter.cursor))}`);
  }
  const found = await rows<AuditRecord>(
    pool,
    `SELECT seq, at, actor, action, target, outcome, details FROM audit
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY seq DESC LIMIT $${params.push(limit + 1)}`,
    params,
  );
  const page = found.slice(0, limit);
  const last = page.at(-1);
  return {
    entries: page,
    nextCursor: found.length > limit && last ? encodeAuditCursor(last.seq) : null,
  };
}
