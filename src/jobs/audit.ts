import type { Clock } from '../domain/clock.ts';
import { encodeAuditCursor } from '../store/audit-cursor.ts';
import type {
  AuditEntry,
  AuditFilter,
  AuditLog,
  AuditPage,
  AuditRecord,
} from '../store/roles/audit-log.ts';
import type { BatchRecords } from '../store/roles/batch-records.ts';
import type { JobRecords } from '../store/roles/job-records.ts';

/** Who reads the audit log: its key id, and the job types it is for (null: every type). */
export interface AuditReader {
  id: string;
  types: ReadonlySet<string> | null;
}

type Store = AuditLog & Pick<JobRecords, 'get'> & Pick<BatchRecords, 'getBatch'>;

/**
 * The audit log: operator actions, refusals and ad-hoc runs, each stamped with gaffer's clock.
 * Front ends record here and read through `list`, which keeps a scoped reader to its types.
 */
export class AuditService {
  readonly #store: Store;
  readonly #clock: Clock;

  constructor(options: { store: Store; clock: Clock }) {
    this.#store = options.store;
    this.#clock = options.clock;
  }

  /** Appends an entry at gaffer's clock. Awaited: an action's answer follows its record. */
  async record(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    await this.#store.appendAudit({ ...entry, at: this.#clock.now() });
  }

  /** The log as `reader` may read it (`listAuditInScope`). */
  list(filter: AuditFilter, reader: AuditReader): Promise<AuditPage> {
    return listAuditInScope(this.#store, filter, reader);
  }
}

/** Entries read per request at most while looking for those a scoped operator may see. */
const SCAN_LIMIT = 5000;

/**
 * The audit log as `principal` may read it. A key of every type reads it whole. A key scoped to
 * types reads the entries whose target is a job or a batch of those types, and its own entries
 * with no target (its logins, logouts, bulk replays) or on a batch uploaded without a type; not
 * others' logins or bulk actions, nor any entry on an id it may not see (so the log does not
 * tell it which ids of other types exist). Pages are filtered as read: a page may hold fewer
 * entries than `limit` (at most SCAN_LIMIT entries are read per request) and still have a
 * `nextCursor`; an empty page with none is the end.
 */
async function listAuditInScope(
  store: Store,
  filter: AuditFilter,
  principal: AuditReader,
): Promise<AuditPage> {
  if (principal.types === null) return store.listAudit(filter);
  const visible = visibility(store, principal);
  const entries: AuditRecord[] = [];
  let cursor = filter.cursor;
  let scanned = 0;
  while (entries.length < filter.limit && scanned < SCAN_LIMIT) {
    const page = await store.listAudit({ ...filter, ...(cursor ? { cursor } : {}) });
    for (const e of page.entries) {
      scanned++;
      cursor = encodeAuditCursor(e.seq);
      if (await visible(e)) entries.push(e);
      if (entries.length === filter.limit) return { entries, nextCursor: cursor };
    }
    if (page.nextCursor === null) return { entries, nextCursor: null };
  }
  return { entries, nextCursor: cursor ?? null };
}

/** Whether a scoped principal may see an entry; targets are looked up once per request. */
function visibility(store: Store, principal: AuditReader) {
  const typeOf = new Map<string, Promise<string | null | undefined>>();
  const lookup = async (id: string): Promise<string | null | undefined> => {
    const job = await store.get(id);
    if (job) return job.type;
    const batch = await store.getBatch(id);
    // null: a batch of no one type; undefined: no such job or batch (any longer).
    return batch ? batch.type : undefined;
  };
  return async (e: AuditRecord): Promise<boolean> => {
    const own = e.actor === principal.id;
    if (e.target === null) return own;
    if (!typeOf.has(e.target)) typeOf.set(e.target, lookup(e.target));
    const type = await typeOf.get(e.target)!;
    if (type === undefined) return false;
    return type === null ? own : principal.types === null || principal.types.has(type);
  };
}
