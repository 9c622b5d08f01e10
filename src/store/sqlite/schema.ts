import { DatabaseSync } from 'node:sqlite';
import { transaction } from './statements.ts';

/**
 * Ordered migrations: entry i takes the schema from version i to i + 1. Append only; never edit a
 * released entry, because databases in the field already ran it.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    queue TEXT NOT NULL,
    payload TEXT,
    priority INTEGER NOT NULL,
    attributes TEXT NOT NULL,
    state TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    timeout_ms INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    run_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    lease_token INTEGER,
    lease_owner TEXT,
    lease_expires_at INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT,
    batch_id TEXT,
    idempotency_key TEXT,
    route_reason TEXT
  );
  -- Claim walks this in claim order; it holds only claimable candidates, so it stays small when
  -- most jobs have ended. created_at makes the ready count and oldest-ready age index-only.
  CREATE INDEX jobs_claim ON jobs (type, priority DESC, run_at, id, created_at)
    WHERE state = 'queued' AND cancel_requested = 0;
  -- Per-type counts by state (GROUP BY type, state) and the delayed count read only this index.
  CREATE INDEX jobs_type_state ON jobs (type, state, run_at);
  -- Listing newest first, unfiltered or by state or type, reads rows already in page order. The
  -- state index also lets in-flight scans (expired leases, owners) touch only in-flight rows.
  CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC);
  CREATE INDEX jobs_state ON jobs (state, created_at DESC, id DESC);
  CREATE INDEX jobs_type_created ON jobs (type, created_at DESC, id DESC);
  CREATE INDEX jobs_batch ON jobs (batch_id, state) WHERE batch_id IS NOT NULL;
  CREATE UNIQUE INDEX jobs_idempotency ON jobs (idempotency_key)
    WHERE idempotency_key IS NOT NULL;

  -- Source of lease tokens: one global counter, so a new token is above every earlier one.
  CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
  INSERT INTO meta (key, value) VALUES ('lease_token', 0);

  CREATE TABLE logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    stream TEXT NOT NULL,
    data TEXT NOT NULL
  );
  CREATE INDEX logs_job ON logs (job_id, seq);

  CREATE TABLE batches (
    id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    source TEXT NOT NULL,
    type TEXT,
    accepted INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    done INTEGER NOT NULL
  );
  CREATE TABLE rejected_rows (
    batch_id TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    row INTEGER NOT NULL,
    raw TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX rejected_rows_batch ON rejected_rows (batch_id, row);

  CREATE TABLE decisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    at INTEGER NOT NULL,
    from_count INTEGER NOT NULL,
    to_count INTEGER NOT NULL,
    retire TEXT NOT NULL,
    reason TEXT NOT NULL,
    inputs TEXT NOT NULL
  );
  CREATE INDEX decisions_type ON decisions (type, at);

  CREATE TABLE worker_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    worker_id TEXT NOT NULL,
    type TEXT NOT NULL,
    event TEXT NOT NULL,
    active INTEGER NOT NULL,
    detail TEXT
  );
  CREATE INDEX worker_events_type ON worker_events (type, at);
  `,
  // 2: a job's data references (JobData as JSON; NULL when it has none).
  `ALTER TABLE jobs ADD COLUMN data TEXT;`,
  // 3: how often an operator requeued an ended job; retention walks jobs by end time.
  `ALTER TABLE jobs ADD COLUMN replays INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX jobs_finished ON jobs (finished_at, id) WHERE finished_at IS NOT NULL;`,
  // 4: the audit log of operator actions (src/store/sqlite/audit.ts), newest first by seq.
  `CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL,
    details TEXT
  );
  CREATE INDEX audit_actor ON audit (actor, seq);
  CREATE INDEX audit_action ON audit (action, seq);`,
  // 5: the dashboard's jobs table reads an index for every filter combination
  // (test/dashboard/listing-plan.test.ts): type + state, and a batch alone or with a state, in
  // page order; the batch list pages by creation.
  `CREATE INDEX jobs_type_state_created ON jobs (type, state, created_at DESC, id DESC);
  CREATE INDEX jobs_batch_created ON jobs (batch_id, created_at DESC, id DESC)
    WHERE batch_id IS NOT NULL;
  CREATE INDEX jobs_batch_state_created ON jobs (batch_id, state, created_at DESC, id DESC)
    WHERE batch_id IS NOT NULL;
  CREATE INDEX batches_created ON batches (created_at DESC, id DESC);`,
  // 6: a job's attempt history (src/store/attempts.ts), one row per ended attempt,
  // written with the state change that ended it; deleted with its job.
  `CREATE TABLE job_attempts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    replay INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    worker TEXT,
    started_at INTEGER,
    finished_at INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    job_state TEXT NOT NULL,
    error TEXT
  );
  CREATE INDEX job_attempts_job ON job_attempts (job_id, seq);`,
  // 7 (submission at scale): fewer index writes per job, and queue stats whose cost does
  // not grow with the backlog (src/store/sqlite/listing.ts). jobs_batch is a prefix of
  // jobs_batch_state_created; jobs_type_state only served the per-state and delayed counts, now
  // read from job_counts and from the small partial indexes below, which new due jobs never enter:
  // a delayed job has run_at in the future, so after its created_at; a queued job with a cancel
  // request is rare. State changes and deletes are counted by triggers, so no write path can miss
  // one; inserts by insertJobs, once per type and transaction (the only INSERT INTO jobs), since a
  // row trigger cost a third of a bulk insert's time.
  `DROP INDEX jobs_batch;
  DROP INDEX jobs_type_state;
  CREATE TABLE job_counts (
    type TEXT NOT NULL,
    state TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (type, state)
  ) WITHOUT ROWID;
  INSERT INTO job_counts (type, state, n) SELECT type, state, count(*) FROM jobs GROUP BY type, state;
  CREATE TRIGGER jobs_count_update AFTER UPDATE OF type, state ON jobs
    WHEN old.type IS NOT new.type OR old.state IS NOT new.state BEGIN
    UPDATE job_counts SET n = n - 1 WHERE type = old.type AND state = old.state;
    INSERT INTO job_counts (type, state, n) VALUES (new.type, new.state, 1)
      ON CONFLICT (type, state) DO UPDATE SET n = n + 1;
  END;
  CREATE TRIGGER jobs_count_delete AFTER DELETE ON jobs BEGIN
    UPDATE job_counts SET n = n - 1 WHERE type = old.type AND state = old.state;
  END;
  CREATE INDEX jobs_delayed ON jobs (type, run_at, created_at)
    WHERE state = 'queued' AND run_at > created_at;
  CREATE INDEX jobs_cancel_queued ON jobs (type, run_at)
    WHERE state = 'queued' AND cancel_requested <> 0;`,
  // 8 (submission at scale): jobs are listed and claimed in the order the store recorded
  // them, by rowid, which every index carries as its last column. The listing indexes so need no
  // (created_at DESC, id DESC) tail (a 23-character text id and an integer in every entry, compared
  // on every insert), the unfiltered listing walks the table itself, and new entries append at the
  // end of their group. Measured inserting 1,000-job transactions (2-core machine): 79,000–92,000
  // jobs/s before, 130,000–150,000 after. Contract (src/store/sqlite/listing.ts): rowids only grow
  // in insertion order; nothing here runs VACUUM, which may renumber them (keeping their order).
  `DROP INDEX jobs_claim;
  DROP INDEX jobs_created;
  DROP INDEX jobs_state;
  DROP INDEX jobs_type_created;
  DROP INDEX jobs_type_state_created;
  DROP INDEX jobs_batch_created;
  DROP INDEX jobs_batch_state_created;
  -- Claim order: priority, then due time, then insertion (rowid). created_at keeps the ready
  -- count and the oldest-ready age index-only.
  CREATE INDEX jobs_claim ON jobs (type, priority DESC, run_at, created_at)
    WHERE state = 'queued' AND cancel_requested = 0;
  -- The listing, by each filter combination, newest first by rowid; the state index also lets
  -- in-flight scans (expired leases, owners) touch only in-flight rows.
  CREATE INDEX jobs_state ON jobs (state);
  CREATE INDEX jobs_type ON jobs (type);
  CREATE INDEX jobs_type_state ON jobs (type, state);
  CREATE INDEX jobs_batch ON jobs (batch_id) WHERE batch_id IS NOT NULL;
  CREATE INDEX jobs_batch_state ON jobs (batch_id, state) WHERE batch_id IS NOT NULL;`,
  // 9: idempotency keys are unique per (type, submitter), no longer across the store: another
  // team's key, or another type's, is a different key (src/store/job-store.ts, insert). Jobs
  // stored before have no known submitter: they are the anonymous one's. The key leads the index,
  // so the listing's search by key still reads it.
  `ALTER TABLE jobs ADD COLUMN submitted_by TEXT NOT NULL DEFAULT 'anonymous';
  DROP INDEX jobs_idempotency;
  CREATE UNIQUE INDEX jobs_idempotency ON jobs (idempotency_key, type, submitted_by)
    WHERE idempotency_key IS NOT NULL;`,
  // 10: a job's own resource request (JobResources as JSON; NULL: its type's).
  `ALTER TABLE jobs ADD COLUMN resources TEXT;`,
  // 11: cron schedules (src/store/sqlite/schedules.ts): those declared through the API, and the
  // state of every schedule (config or API), advanced by compare-and-set on last_tick. NULL
  // paused: as the definition says.
  `CREATE TABLE schedules (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE schedule_state (
    name TEXT PRIMARY KEY,
    since INTEGER NOT NULL,
    paused INTEGER,
    last_tick INTEGER,
    last_job_id TEXT,
    last_job_tick INTEGER,
    next_due INTEGER
  );`,
  // 12: flow control (src/domain/flow.ts). A job's key under its type's key limit; the claim
  // finds the keys with queued jobs and each key's next jobs by a partial index that jobs
  // without a key never enter. Pause is state, by type. Starts are recorded per type (and key)
  // only for limited types, pruned past the longest window; last_started keeps each key's turn
  // (forgotten after an hour without a start: such a key goes first anyway).
  `ALTER TABLE jobs ADD COLUMN flow_key TEXT;
  CREATE INDEX jobs_flow_key ON jobs (type, flow_key, priority DESC, run_at)
    WHERE state = 'queued' AND cancel_requested = 0 AND flow_key IS NOT NULL;
  CREATE TABLE type_controls (
    type TEXT PRIMARY KEY,
    paused INTEGER NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE flow_starts (type TEXT NOT NULL, key TEXT, at INTEGER NOT NULL);
  CREATE INDEX flow_starts_type ON flow_starts (type, at);
  CREATE INDEX flow_starts_key ON flow_starts (type, key, at);
  CREATE TABLE flow_keys (
    type TEXT NOT NULL,
    key TEXT NOT NULL,
    last_started INTEGER NOT NULL,
    PRIMARY KEY (type, key)
  ) WITHOUT ROWID;
  CREATE INDEX flow_keys_age ON flow_keys (type, last_started);`,
  // 13: queue-wait expiry. A job not started by expires_at ends as 'expired' (the reconciler's
  // sweep, src/store/sqlite/expiry.ts); NULL: never. The partial index holds only queued jobs
  // that can expire, so jobs without an expiry never enter it.
  `ALTER TABLE jobs ADD COLUMN expires_at INTEGER;
  CREATE INDEX jobs_expiring ON jobs (expires_at) WHERE state = 'queued' AND expires_at IS NOT NULL;`,
];

export interface OpenOptions {
  path: string;
  synchronous: 'FULL' | 'NORMAL';
}

/** How long a writer waits for another process's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens the database with the durability the caller chose and brings the schema up to date.
 * WAL + synchronous=FULL survives power loss; NORMAL survives a process crash only.
 */
export function openDatabase(options: OpenOptions): DatabaseSync {
  const db = new DatabaseSync(options.path);
  try {
    // busy_timeout first: switching to WAL itself needs a lock another process may hold.
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(`PRAGMA synchronous = ${options.synchronous}`);
    db.exec('PRAGMA foreign_keys = ON');
    // Statements that can fail half way (triggers, ON CONFLICT) keep a statement journal: in
    // memory, not a temp file per statement.
    db.exec('PRAGMA temp_store = MEMORY');
    migrate(db);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Applies the missing migrations in one transaction, so a failed upgrade leaves no half schema. */
function migrate(db: DatabaseSync): void {
  transaction(
    db,
    () => {
      db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)');
      const row = db.prepare('SELECT max(version) AS v FROM schema_version').get();
      const current = Number(row?.['v'] ?? 0);
      if (current > MIGRATIONS.length) {
        throw new Error(
          `database schema version ${current} is newer than this gaffer (${MIGRATIONS.length})`,
        );
      }
      const record = db.prepare('INSERT INTO schema_version (version) VALUES (?)');
      MIGRATIONS.slice(current).forEach((sql, i) => {
        db.exec(sql);
        record.run(current + i + 1);
      });
    },
    'IMMEDIATE',
  );
}
