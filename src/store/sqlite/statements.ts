import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';

/**
 * Prepares each distinct SQL text once and reuses it: preparing costs more than running the small
 * statements the store issues, and hot paths (insert of 100k jobs, claim) run the same text.
 */
export class Statements {
  readonly db: DatabaseSync;
  readonly #cache = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  prepare(sql: string): StatementSync {
    let stmt = this.#cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.#cache.set(sql, stmt);
    }
    return stmt;
  }

  get<T>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return this.prepare(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.prepare(sql).all(...params) as T[];
  }

  /** Runs a write and returns how many rows it changed. */
  run(sql: string, ...params: SQLInputValue[]): number {
    return Number(this.prepare(sql).run(...params).changes);
  }

  transaction<T>(fn: () => T): T {
    return transaction(this.db, fn, 'IMMEDIATE');
  }

  /** Several reads that must see one snapshot (another process may commit between them). */
  snapshot<T>(fn: () => T): T {
    return transaction(this.db, fn, 'DEFERRED');
  }
}

/**
 * Runs `fn` in a transaction. Writers use IMMEDIATE, which takes the write lock up front, so two
 * processes never both read under a shared lock and then fail upgrading it; the loser waits
 * busy_timeout instead. DEFERRED suits read-only work: under WAL it never blocks a writer.
 */
export function transaction<T>(db: DatabaseSync, fn: () => T, mode: 'IMMEDIATE' | 'DEFERRED'): T {
  db.exec(`BEGIN ${mode}`);
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
