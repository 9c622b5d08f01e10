/**
 * Role: the audit log — append-only, one entry per operator action or refused attempt, read newest
 * first. The API's audit sink and audit routes, and the job service (ad-hoc jobs), use it.
 */
export interface AuditLog {
  /** Appends one entry; entries are never changed or deleted. */
  appendAudit(entry: AuditEntry): Promise<void>;
  /** Newest first (by append order), keyset-paged; `actor` and `action` match exactly. */
  listAudit(filter: AuditFilter): Promise<AuditPage>;
}

/** Who did what to which target, when, and how it ended. Never holds a secret. */
export interface AuditEntry {
  /** Store-clock ms (orch.clock). */
  at: number;
  /** The key id that acted ('anonymous' with auth off). */
  actor: string;
  /** e.g. `job.cancel`, `dead-letter.replay-many`, `session.login`. */
  action: string;
  /** A job or batch id, or null (a bulk action, a login). */
  target: string | null;
  /** ok, refused (403/401), or failed (the action threw, e.g. 409). */
  outcome: 'ok' | 'refused' | 'failed';
  /** JSON-safe details (an error code, a selection, counts), or null. */
  details: unknown;
}

export interface AuditRecord extends AuditEntry {
  /** Append order; the page cursor. */
  seq: number;
}

export interface AuditFilter {
  limit: number;
  cursor?: string;
  actor?: string;
  action?: string;
}

export interface AuditPage {
  entries: AuditRecord[];
  nextCursor: string | null;
}
