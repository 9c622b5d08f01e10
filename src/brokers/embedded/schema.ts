import { DatabaseSync } from 'node:sqlite';

/**
 * The embedded broker's tables, in their own SQLite file (or the store's). A message is a row;
 * `delivered_to` names the consumer holding it (NULL = ready); `touched_at` is renewed while it is
 * held, so a consumer that died without releasing its messages loses them after the visibility
 * timeout. Consumers register with a heartbeat so `stats.consumers` counts live ones only.
 */
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS broker_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    job_id TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    delivered_to TEXT,
    touched_at INTEGER,
    deliveries INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX IF NOT EXISTS broker_ready ON broker_messages (queue, priority DESC, id)
    WHERE delivered_to IS NULL;
  CREATE INDEX IF NOT EXISTS broker_held ON broker_messages (delivered_to) WHERE delivered_to IS NOT NULL;
  CREATE TABLE IF NOT EXISTS broker_dead (
    id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, job_id TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS broker_consumers (
    id TEXT PRIMARY KEY, queue TEXT NOT NULL, seen_at INTEGER NOT NULL
  );
`;

export function openBrokerDb(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
  db.exec(SCHEMA);
  return db;
}
