import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import type { NewJob } from '../../src/domain/job.ts';
import { createSqliteStore } from '../../src/store/sqlite/index.ts';
import { MIGRATIONS, openDatabase } from '../../src/store/sqlite/schema.ts';
import { describeJobStoreContract } from './job-store.contract.ts';
import { describeLifecycleContract } from './lifecycle.contract.ts';
import { describeQueueStatsContract } from './queue-stats.contract.ts';
import { describeStateMachineContract } from './state-machine.contract.ts';
import { describeFlowControlContract } from './flow-control.contract.ts';
import { stderrLogger } from '../helpers/log.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
/** A fresh database file per call, so every test starts from an empty store. */
function freshPath(): string {
  files += 1;
  return path.join(dir, `store-${files}.db`);
}

const T0 = 1_700_000_000_000;
function job(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    type: 'render',
    queue: 'render',
    payload: { id },
    priority: 0,
    attributes: {},
    maxAttempts: 3,
    timeoutMs: 1000,
    createdAt: T0,
    runAt: T0,
    batchId: null,
    idempotencyKey: null,
    routeReason: null,
    data: null,
    ...overrides,
  };
}

describeJobStoreContract('sqlite file', async () =>
  createSqliteStore({ path: freshPath(), synchronous: 'NORMAL', log: stderrLogger() }),
);

describeLifecycleContract('sqlite file', async () =>
  createSqliteStore({ path: freshPath(), synchronous: 'NORMAL', log: stderrLogger() }),
);

describeStateMachineContract('sqlite file', async () =>
  createSqliteStore({ path: freshPath(), synchronous: 'NORMAL', log: stderrLogger() }),
);

describeQueueStatsContract('sqlite file', async () =>
  createSqliteStore({ path: freshPath(), synchronous: 'NORMAL', log: stderrLogger() }),
);

// Two connections on one file, as two claimers; reopen closes the first and opens the file again.
describeFlowControlContract('sqlite file', async () => {
  const file = freshPath();
  const open = () => createSqliteStore({ path: file, synchronous: 'NORMAL', log: stderrLogger() });
  const stores = { a: open(), b: open() };
  return {
    ...stores,
    reopen: async () => {
      await stores.a.close();
      stores.a = open();
      return stores.a;
    },
    close: async () => void (await Promise.all([stores.a.close(), stores.b.close()])),
  };
});

describe('sqlite store', () => {
  test('opens in WAL mode with the chosen synchronous level, a busy timeout and foreign keys', () => {
    for (const [level, code] of [
      ['FULL', 2],
      ['NORMAL', 1],
    ] as const) {
      const db = openDatabase({ path: freshPath(), synchronous: level });
      const pragma = (name: string) => Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0];
      assert.equal(pragma('journal_mode'), 'wal');
      assert.equal(pragma('synchronous'), code);
      assert.ok(Number(pragma('busy_timeout')) > 0);
      assert.equal(pragma('foreign_keys'), 1);
      db.close();
    }
  });

  test('the WAL mode is recorded in the file, visible to another connection', async () => {
    const file = freshPath();
    const store = createSqliteStore({ path: file, synchronous: 'FULL', log: stderrLogger() });
    const other = new DatabaseSync(file);
    assert.equal(other.prepare('PRAGMA journal_mode').get()?.['journal_mode'], 'wal');
    other.close();
    await store.close();
  });

  test('reopening the same file keeps the data and does not re-run migrations', async () => {
    const file = freshPath();
    const first = createSqliteStore({ path: file, synchronous: 'FULL', log: stderrLogger() });
    const [stored] = await first.insert([job('a', { idempotencyKey: 'k' })]);
    await first.appendLog('a', 'stdout', 'hello', T0);
    await first.close();

    const second = createSqliteStore({ path: file, synchronous: 'FULL', log: stderrLogger() });
    assert.deepEqual(await second.get('a'), stored);
    assert.deepEqual(ids(await second.insert([job('b', { idempotencyKey: 'k' })])), ['a']);
    assert.equal((await second.logs('a'))[0]?.data, 'hello');
    await second.close();

    const db = new DatabaseSync(file);
    const versions = db.prepare('SELECT version FROM schema_version ORDER BY version').all();
    assert.deepEqual(
      versions.map((v) => v['version']),
      MIGRATIONS.map((_, i) => i + 1),
    );
    db.close();
  });

  test('refuses a database written by a newer schema', () => {
    const file = freshPath();
    openDatabase({ path: file, synchronous: 'NORMAL' }).close();
    const db = new DatabaseSync(file);
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(MIGRATIONS.length + 1);
    db.close();
    assert.throws(() => openDatabase({ path: file, synchronous: 'NORMAL' }), /newer/);
  });

  // Migration 7 moves the per-state counts into job_counts: a database upgraded with jobs in it
  // must report the counts it had before.
  test('migration 7 counts the jobs already stored', async () => {
    const file = freshPath();
    const old = new DatabaseSync(file);
    old.exec('CREATE TABLE schema_version (version INTEGER PRIMARY KEY)');
    MIGRATIONS.slice(0, 6).forEach((sql, i) => {
      old.exec(sql);
      old.prepare('INSERT INTO schema_version (version) VALUES (?)').run(i + 1);
    });
    const insert = old.prepare(`INSERT INTO jobs (id, type, queue, priority, attributes, state,
      attempt, max_attempts, timeout_ms, created_at, run_at) VALUES (?, ?, ?, 0, '{}', ?, 0, 3, 1000, ?, ?)`);
    const rows: [string, string, string, number][] = [
      ['a', 'render', 'queued', T0],
      ['b', 'render', 'queued', T0 + 5000],
      ['c', 'render', 'running', T0],
      ['d', 'render', 'failed', T0],
      ['e', 'ocr', 'queued', T0],
    ];
    for (const [id, type, state, runAt] of rows) insert.run(id, type, type, state, T0, runAt);
    old.close();
    const store = createSqliteStore({ path: file, synchronous: 'NORMAL', log: stderrLogger() });
    assert.deepEqual(await store.queueStats(T0), [
      {
        type: 'ocr',
        ready: 1,
        delayed: 0,
        inFlight: 0,
        byState: { queued: 1 },
        oldestReadyAt: T0,
      },
      {
        type: 'render',
        ready: 1,
        delayed: 1,
        inFlight: 1,
        byState: { failed: 1, queued: 2, running: 1 },
        oldestReadyAt: T0,
      },
    ]);
    await store.close();
  });

  test('two stores on one file never claim the same job, and fence each other', async () => {
    const file = freshPath();
    const a = createSqliteStore({ path: file, synchronous: 'NORMAL', log: stderrLogger() });
    const b = createSqliteStore({ path: file, synchronous: 'NORMAL', log: stderrLogger() });
    await a.insert(Array.from({ length: 20 }, (_, i) => job(`j${i}`)));
    const req = { type: 'render', limit: 15, now: T0, leaseExpiresAt: T0 + 10, to: 'running' };
    const fromA = await a.claim({ ...req, owner: 'a', to: 'running' });
    const fromB = await b.claim({ ...req, owner: 'b', to: 'running' });
    assert.equal(new Set([...ids(fromA), ...ids(fromB)]).size, 20);

    const [lost] = fromA;
    assert.ok(lost && lost.leaseToken !== null);
    const retry = { id: lost.id, token: lost.leaseToken, now: T0, runAt: T0 };
    const error = { class: 'infrastructure' as const, message: 'lease expired' };
    await b.finish([{ ...retry, to: 'queued', error }]);
    const [reclaimed] = await b.claim({ ...req, owner: 'b', to: 'running' });
    assert.ok(reclaimed?.leaseToken && reclaimed.leaseToken > lost.leaseToken);
    assert.equal(await a.heartbeat(lost.id, lost.leaseToken, T0 + 99), false);
    await Promise.all([a.close(), b.close()]);
  });

  test('inserts 100,000 jobs in one call, in input order', async () => {
    const store = createSqliteStore({
      path: freshPath(),
      synchronous: 'NORMAL',
      log: stderrLogger(),
    });
    const jobs = Array.from({ length: 100_000 }, (_, i) =>
      job(`bulk-${i}`, { idempotencyKey: i % 10 === 0 ? `key-${i % 1000}` : null }),
    );
    const out = await store.insert(jobs);
    assert.equal(out.length, jobs.length);
    // Keys repeat every 1000 rows, so later holders of a key get the first job with it.
    assert.equal(out[10_000]?.id, 'bulk-0');
    assert.equal(out[10_001]?.id, 'bulk-10001');
    const stats = await store.queueStats(T0);
    assert.equal(stats[0]?.ready, 100_000 - 9_900);
    await store.close();
  });

  test('a log line for an unknown job is refused (foreign key)', async () => {
    const store = createSqliteStore({
      path: ':memory:',
      synchronous: 'NORMAL',
      log: stderrLogger(),
    });
    await assert.rejects(store.appendLog('missing', 'stdout', 'x', T0));
    await store.close();
  });
});

function ids(jobs: readonly { id: string }[]): string[] {
  return jobs.map((j) => j.id);
}
