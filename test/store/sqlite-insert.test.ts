import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { NewJob } from '../../src/domain/job.ts';
import { createSqliteStore } from '../../src/store/sqlite/index.ts';
import { stderrLogger } from '../helpers/log.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-sqlite-insert-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000_000;
function job(id: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id,
    type: 'render',
    queue: 'render',
    payload: { id, n: 1.5, tags: ['a', 'é'] },
    priority: 2,
    attributes: { team: 'x' },
    maxAttempts: 3,
    timeoutMs: 1000,
    createdAt: T0,
    runAt: T0 + 5,
    batchId: null,
    idempotencyKey: null,
    routeReason: 'rule 1',
    data: { inputs: ['s3://b/k'], output: null },
    ...overrides,
  };
}

// Multi-row INSERTs go in blocks of 128 and every smaller power of two: sizes around the edges,
// with jobs of a second type and keyed jobs (inserted one by one) mixed in.
for (const size of [1, 2, 127, 128, 129, 1000]) {
  test(`${size} jobs: stored as returned, in input order, counted per type`, async () => {
    const store = createSqliteStore({
      path: path.join(dir, `${size}.db`),
      synchronous: 'NORMAL',
      log: stderrLogger(),
    });
    try {
      const jobs = Array.from({ length: size }, (_, i) =>
        job(`j-${String(i).padStart(5, '0')}`, {
          ...(i % 3 === 1 ? { type: 'other' } : {}),
          ...(i % 50 === 7 ? { idempotencyKey: `k-${i}` } : {}),
        }),
      );
      const inserted = await store.insert(jobs);
      assert.deepEqual(
        inserted.map((j) => j.id),
        jobs.map((j) => j.id),
      );
      for (const returned of inserted) assert.deepEqual(await store.get(returned.id), returned);
      const stats = await store.queueStats(T0 + 10);
      const count = (type: string) => stats.find((s) => s.type === type)?.byState.queued ?? 0;
      assert.equal(count('other'), jobs.filter((j) => j.type === 'other').length);
      assert.equal(count('render'), jobs.filter((j) => j.type === 'render').length);
    } finally {
      await store.close();
    }
  });
}

test('a duplicate id fails the whole insert: nothing of it is stored or counted', async () => {
  const store = createSqliteStore({
    path: path.join(dir, 'dup.db'),
    synchronous: 'NORMAL',
    log: stderrLogger(),
  });
  try {
    await store.insert([job('a')]);
    const batch = Array.from({ length: 300 }, (_, i) => job(`b-${String(i).padStart(3, '0')}`));
    await assert.rejects(store.insert([...batch, job('a')]), /UNIQUE constraint failed: jobs\.id/);
    assert.equal(await store.get('b-000'), undefined);
    const [stats] = await store.queueStats(T0 + 10);
    assert.equal(stats?.byState.queued, 1);
  } finally {
    await store.close();
  }
});
