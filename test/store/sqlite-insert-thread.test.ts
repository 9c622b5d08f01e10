import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import type { NewJob } from '../../src/domain/job.ts';
import { createSqliteStore } from '../../src/store/sqlite/index.ts';
import { InsertThread } from '../../src/store/sqlite/insert-thread.ts';
import { openDatabase } from '../../src/store/sqlite/schema.ts';
import { describeJobStoreContract } from './job-store.contract.ts';
import { describeQueueStatsContract } from './queue-stats.contract.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-insert-thread-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
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
const jobs = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => job(`${prefix}-${String(i).padStart(5, '0')}`));

const threaded = (file = freshPath()) =>
  createSqliteStore({ path: file, synchronous: 'NORMAL', insertThread: true });
/** A second connection without a thread: sees only what was committed. */
const reader = (file: string) => createSqliteStore({ path: file, synchronous: 'NORMAL' });

describeJobStoreContract('sqlite file, insert thread', async () => threaded());
describeQueueStatsContract('sqlite file, insert thread', async () => threaded());

describe('sqlite insert thread', () => {
  test('an insert resolves after its commit: another connection sees every job, counted', async () => {
    const file = freshPath();
    const store = threaded(file);
    const other = reader(file);
    try {
      // 1,000 jobs: blocks of 128 rows and every smaller power of two.
      const inserted = await store.insert(jobs('a', 1000));
      assert.equal(inserted.length, 1000);
      assert.equal(inserted[999]!.id, 'a-00999'); // input order
      assert.equal((await other.get('a-00000'))?.state, 'queued');
      assert.equal((await other.get('a-00999'))?.state, 'queued');
      const [stats] = await other.queueStats(T0);
      assert.equal(stats?.byState.queued, 1000);
    } finally {
      await store.close();
      await other.close();
    }
  });

  test('a failed insert rejects, writes none of its jobs and loses none acknowledged before', async () => {
    const file = freshPath();
    const store = threaded(file);
    try {
      await store.insert(jobs('a', 300));
      // a-00150 exists: the primary key fails the thread's transaction half way.
      const clash = [...jobs('b', 200), job('a-00150')];
      await assert.rejects(store.insert(clash), /UNIQUE constraint failed: jobs\.id/);
      assert.equal(await store.get('b-00000'), undefined);
      assert.equal(await store.get('b-00199'), undefined);
      assert.equal((await store.get('a-00299'))?.state, 'queued');
      const [stats] = await store.queueStats(T0);
      assert.equal(stats?.byState.queued, 300);
      // The thread goes on after a failure.
      assert.equal((await store.insert(jobs('c', 5))).length, 5);
    } finally {
      await store.close();
    }
  });

  test('close() waits for inserts already made', async () => {
    const file = freshPath();
    const store = threaded(file);
    let settled = false;
    const pending = store.insert(jobs('a', 500)).then(() => (settled = true));
    await store.close();
    assert.equal(settled, true);
    await pending;
    const other = reader(file);
    try {
      assert.equal((await other.get('a-00499'))?.state, 'queued');
    } finally {
      await other.close();
    }
  });

  test('jobs with an idempotency key keep their key: the second submission gets the first job', async () => {
    const store = threaded();
    try {
      const [first] = await store.insert([job('k-1', { idempotencyKey: 'key' })]);
      const [again, fresh] = await store.insert([
        job('k-2', { idempotencyKey: 'key' }),
        job('k-3'),
      ]);
      assert.equal(first?.id, 'k-1');
      assert.equal(again?.id, 'k-1');
      assert.equal(fresh?.id, 'k-3');
    } finally {
      await store.close();
    }
  });

  test('a step that changes another number of rows than it says rejects and rolls back', async () => {
    const file = freshPath();
    openDatabase({ path: file, synchronous: 'NORMAL' }).close();
    const thread = new InsertThread({ path: file, synchronous: 'NORMAL' });
    try {
      const bump = `INSERT INTO job_counts (type, state, n) VALUES ('t', 'queued', 1)`;
      await assert.rejects(
        thread.run([
          [bump, [], 1],
          [`UPDATE job_counts SET n = 2 WHERE type = 'none'`, [], 1],
        ]),
        /changed 0 rows, not 1/,
      );
      await thread.run([[bump, [], 1]]); // the first attempt's row was rolled back
    } finally {
      await thread.close();
    }
  });

  test('an in-memory database cannot have an insert thread', () => {
    assert.throws(
      () => createSqliteStore({ path: ':memory:', synchronous: 'NORMAL', insertThread: true }),
      /needs a database file/,
    );
  });
});
