import type pg from 'pg';
import { transaction } from './db.ts';

/**
 * Ordered migrations: entry i takes the schema from version i to i + 1. Append only; never edit a
 * released entry, because databases in the field already ran it.
 *
 * Text columns that are compared or ordered (ids, types, owners, keys) use the "C" collation:
 * bytewise like SQLite's BINARY, so ordering and the listing cursor do not depend on the locale
 * the cluster was created with, and btree comparisons stay cheap.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE jobs (
    id text COLLATE "C" PRIMARY KEY,
    type text COLLATE "C" NOT NULL,
    queue text NOT NULL,
    payload jsonb,
    priority integer NOT NULL,
    attributes jsonb NOT NULL,
    state text NOT NULL,
    attempt integer NOT NULL,
    max_attempts integer NOT NULL,
    timeout_ms bigint NOT NULL,
    created_at bigint NOT NULL,
    run_at bigint NOT NULL,
    started_at bigint,
    finished_at bigint,
    lease_token bigint,
    lease_owner text COLLATE "C",
    lease_expires_at bigint,
    cancel_requested boolean NOT NULL DEFAULT false,
    result jsonb,
    error jsonb,
    batch_id text COLLATE "C",
    idempotency_key text COLLATE "C",
    route_reason text,
    -- NULLs never conflict, so jobs without a key are unconstrained.
    CONSTRAINT jobs_idempotency UNIQUE (idempotency_key)
  );
  -- Claim walks this in claim order; it holds only claimable candidates, so it stays small when
  -- most jobs have ended. created_at makes the ready count and oldest-ready age index-only.
  CREATE INDEX jobs_claim ON jobs (type, priority DESC, run_at, id) INCLUDE (created_at)
    WHERE state = 'queued' AND NOT cancel_requested;
  -- Per-type counts by state and the delayed count.
  CREATE INDEX jobs_type_state ON jobs (type, state, run_at);
  -- Listing newest first, unfiltered or by state or type, reads rows already in page order. The
  -- state index also lets in-flight scans (expired leases, owners) touch only in-flight rows.
  CREATE INDEX jobs_created ON jobs (created_at DESC, id DESC);
  CREATE INDEX jobs_state ON jobs (state, created_at DESC, id DESC);
  CREATE INDEX jobs_type_created ON jobs (type, created_at DESC, id DESC);
  CREATE INDEX jobs_batch ON jobs (batch_id, state) WHERE batch_id IS NOT NULL;

  -- Source of lease tokens: one global counter, so a new token is above every earlier one.
  CREATE SEQUENCE lease_tokens AS bigint;

  CREATE TABLE logs (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id text COLLATE "C" NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    at bigint NOT NULL,
    stream text NOT NULL,
    -- UTF-8 bytes: text would refuse a line holding NUL, which process output can contain.
    data bytea NOT NULL
  );
  CREATE INDEX logs_job ON logs (job_id, seq);

  CREATE TABLE batches (
    id text COLLATE "C" PRIMARY KEY,
    created_at bigint NOT NULL,
    source text NOT NULL,
    type text,
    accepted integer NOT NULL,
    rejected integer NOT NULL,
    done boolean NOT NULL
  );
  CREATE TABLE rejected_rows (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id text COLLATE "C" NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    row integer NOT NULL,
    raw text NOT NULL,
    code text NOT NULL,
    message text NOT NULL
  );
  CREATE INDEX rejected_rows_batch ON rejected_rows (batch_id, row, seq);

  CREATE TABLE decisions (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type text COLLATE "C" NOT NULL,
    at bigint NOT NULL,
    from_count integer NOT NULL,
    to_count integer NOT NULL,
    retire jsonb NOT NULL,
    reason text NOT NULL,
    inputs jsonb NOT NULL
  );
  CREATE INDEX decisions_at ON decisions (at, seq);
  CREATE INDEX decisions_type ON decisions (type, at, seq);

  CREATE TABLE worker_events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at bigint NOT NULL,
    worker_id text NOT NULL,
    type text COLLATE "C" NOT NULL,
    event text NOT NULL,
    active integer NOT NULL,
    detail text
  );
  CREATE INDEX worker_events_at ON worker_events (at, seq);
  CREATE INDEX worker_events_type ON worker_events (type, at, seq);

  -- Leader leases (LeaderLease): one row per name, taken over once expires_at has passed.
  CREATE TABLE leases (
    name text COLLATE "C" PRIMARY KEY,
    holder text COLLATE "C" NOT NULL,
    expires_at bigint NOT NULL
  );
  `,
  // 2: a job's data references (JobData; NULL when it has none).
  `ALTER TABLE jobs ADD COLUMN data jsonb;`,
  // 3: how often an operator requeued an ended job; retention walks jobs by end time.
  `ALTER TABLE jobs ADD COLUMN replays integer NOT NULL DEFAULT 0;
  CREATE INDEX jobs_finished ON jobs (finished_at, id) WHERE finished_at IS NOT NULL;`,
  // 4: the audit log of operator actions (src/store/postgres/audit.ts), newest first by seq.
  `CREATE TABLE audit (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at bigint NOT NULL,
    actor text COLLATE "C" NOT NULL,
    action text COLLATE "C" NOT NULL,
    target text,
    outcome text NOT NULL,
    details jsonb
  );
  CREATE INDEX audit_actor ON audit (actor, seq);
  CREATE INDEX audit_action ON audit (action, seq);`,
  // 5: the dashboard's jobs table reads an index for every filter combination, as in
  // the SQLite store; the batch list pages by creation. (The id-prefix search is a range on the
  // "C"-collated primary key; idempotency keys have their unique index.)
  `CREATE INDEX jobs_type_state_created ON jobs (type, state, created_at DESC, id DESC);
  CREATE INDEX jobs_batch_created ON jobs (batch_id, created_at DESC, id DESC)
    WHERE batch_id IS NOT NULL;
  CREATE INDEX jobs_batch_state_created ON jobs (batch_id, state, created_at DESC, id DESC)
    WHERE batch_id IS NOT NULL;
  CREATE INDEX batches_created ON batches (created_at DESC, id DESC);`,
  // 6: a job's attempt history (src/store/attempts.ts), one row per ended attempt,
  // written with the state change that ended it; deleted with its job.
  `CREATE TABLE job_attempts (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id text COLLATE "C" NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    replay integer NOT NULL,
    attempt integer NOT NULL,
    worker text,
    started_at bigint,
    finished_at bigint NOT NULL,
    outcome text NOT NULL,
    job_state text NOT NULL,
    error jsonb
  );
  CREATE INDEX job_attempts_job ON job_attempts (job_id, seq);`,
  // 7: idempotency keys are unique per (type, submitter), no longer across the store: another
  // team's key, or another type's, is a different key (src/store/job-store.ts, insert). Jobs
  // stored before have no known submitter: they are the anonymous one's. A partial index: jobs
  // without a key skip it; the key leads it, so the listing's search by key still reads it.
  `ALTER TABLE jobs ADD COLUMN submitted_by text COLLATE "C" NOT NULL DEFAULT 'anonymous';
  ALTER TABLE jobs DROP CONSTRAINT jobs_idempotency;
  CREATE UNIQUE INDEX jobs_idempotency ON jobs (idempotency_key, type, submitted_by)
    WHERE idempotency_key IS NOT NULL;`,
  // 8: a job's own resource request (JobResources; NULL: its type's).
  `ALTER TABLE jobs ADD COLUMN resources jsonb;`,
  // 9: cron schedules (src/store/postgres/schedules.ts): those declared through the API, and the
  // state of every schedule (config or API), advanced by compare-and-set on last_tick. NULL
  // paused: as the definition says.
  `CREATE TABLE schedules (
    name text COLLATE "C" PRIMARY KEY,
    definition jsonb NOT NULL,
    created_at bigint NOT NULL,
    updated_at bigint NOT NULL
  );
  CREATE TABLE schedule_state (
    name text COLLATE "C" PRIMARY KEY,
    since bigint NOT NULL,
    paused boolean,
    last_tick bigint,
    last_job_id text COLLATE "C",
    last_job_tick bigint,
    next_due bigint
  );`,
  // 10: flow control (src/domain/flow.ts). A job's key under its type's key limit; the claim
  // finds the keys with queued jobs and each key's next jobs by a partial index that jobs
  // without a key never enter. Pause is state, by type. Starts are recorded per type (and key)
  // only for limited types, pruned past the longest window; last_started keeps each key's turn
  // (forgotten after an hour without a start: such a key goes first anyway).
  `ALTER TABLE jobs ADD COLUMN flow_key text COLLATE "C";
  CREATE INDEX jobs_flow_key ON jobs (type, flow_key, priority DESC, run_at, id)
    WHERE state = 'queued' AND NOT cancel_requested AND flow_key IS NOT NULL;
  CREATE TABLE type_controls (
    type text PRIMARY KEY,
    paused boolean NOT NULL,
    changed_by text NOT NULL,
    changed_at bigint NOT NULL
  );
  CREATE TABLE flow_starts (type text NOT NULL, key text COLLATE "C", at bigint NOT NULL);
  CREATE INDEX flow_starts_type ON flow_starts (type, at);
  CREATE INDEX flow_starts_key ON flow_starts (type, key, at);
  CREATE TABLE flow_keys (
    type text NOT NULL,
    key text COLLATE "C" NOT NULL,
    last_started bigint NOT NULL,
    PRIMARY KEY (type, key)
  );
  CREATE INDEX flow_keys_age ON flow_keys (type, last_started);`,
  // 11: queue-wait expiry. A job not started by expires_at ends as 'expired' (the reconciler's
  // sweep, src/store/postgres/expiry.ts); NULL: never. The partial index holds only queued jobs
  // that can expire, so jobs without an expiry never enter it.
  `ALTER TABLE jobs ADD COLUMN expires_at bigint;
  CREATE INDEX jobs_expiring ON jobs (expires_at) WHERE state = 'queued' AND expires_at IS NOT NULL;`,
];

/**
 * Key of the advisory lock that serialises migrations. Advisory locks are per database, so
 * gaffers on other databases of the same cluster do not wait for each other.
 */
const MIGRATION_LOCK = 0x6761_6666; // "gaff"

/**
 * Applies the missing migrations in one transaction, so a failed upgrade leaves no half schema.
 * Several gaffer processes may start at once: the transaction-scoped advisory lock, taken before
 * anything is read, makes the others wait and then find the schema current. Even the creation of
 * schema_version is under the lock (two concurrent CREATE TABLE IF NOT EXISTS can both fail).
 */
export async function migrate(pool: pg.Pool): Promise<void> {
  await transaction(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await c.query('CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY)');
    const row = (
      await c.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_version')
    ).rows[0];
    const current = row?.v ?? 0;
    if (current > MIGRATIONS.length) {
      throw new Error(
        `database schema version ${current} is newer than this gaffer (${MIGRATIONS.length})`,
      );
    }
    for (const [i, sql] of MIGRATIONS.slice(current).entries()) {
      await c.query(sql);
      await c.query('INSERT INTO schema_version (version) VALUES ($1)', [current + i + 1]);
    }
  });
}
