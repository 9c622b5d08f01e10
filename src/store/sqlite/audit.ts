import type { SQLInputValue } from 'node:sqlite';
import { auditLimit, decodeAuditCursor, encodeAuditCursor } from '../audit-cursor.ts';
import type { AuditEntry, AuditFilter, AuditPage, AuditRecord } from '../roles/audit-log.ts';
import type { Statements } from './statements.ts';

interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  outcome: AuditRecord['outcome'];
  details: string | null;
}

export function appendAudit(s: Statements, e: AuditEntry): void {
  s.run(
    `INSERT INTO audit (at, actor, action, target, outcome, details) VALUES (?, ?, ?, ?, ?, ?)`,
    e.at,
    e.actor,
    e.action,
    e.target,
    e.outcome,
    e.details === null || e.details === undefined ? null : JSON.stringify(e.details),
  );
}

/** Newest first by seq; filtered by actor or action through their (x, seq) indexes. */
export function listAudit(s: Statements, filter: AuditFilter): AuditPage {
  const limit = auditLimit(filter);
  const where: string[] = [];
  const params: SQLInputValue[] = [];
  if (filter.actor !== undefined) {
    where.push('actor = ?');
    params.push(filter.actor);
  }
  if (filter.action !== undefined) {
    where.push('action = ?');
    params.push(filter.action);
  }
  if (filter.cursor !== undefined) {
    where.push('seq < ?');
    params.push(decodeAuditCursor(filter.cursor));
  }
  const rows = s.all<AuditRow>(
    `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY seq DESC LIMIT ?`,
    ...params,
    limit + 1,
  );
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    entries: page.map((r) => ({
      seq: r.seq,
      at: r.at,
      actor: r.actor,
      action: r.action,
      target: r.target,
      outcome: r.outcome,
      details: r.details === null ? null : (JSON.parse(r.details) as unknown),
    })),
    nextCursor: rows.length > limit && last ? encodeAuditCursor(last.seq) : null,
  };
}
