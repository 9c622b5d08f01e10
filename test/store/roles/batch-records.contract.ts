import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobStore } from '../../../src/store/job-store.ts';
import { claimWith, eachTestStore, T0 } from '../contract-fixture.ts';
import type { jobFactory } from '../new-job.ts';

/**
 * The `BatchRecords` role (src/store/roles/batch-records.ts) as every store plays it: batches and
 * their rejected rows. `makeStore` must return a fresh, empty store each call; the suite closes it
 * after each test.
 */
export function describeBatchRecordsContract(
  name: string,
  makeStore: () => Promise<JobStore>,
): void {
  describe(`BatchRecords contract: ${name}`, () => {
    let store: JobStore;
    let newJob: ReturnType<typeof jobFactory>;
    eachTestStore(makeStore, (s, n) => {
      store = s;
      newJob = n;
    });
    const claim = claimWith(() => store);

    describe('batches', () => {
      test('a batch round-trips, updates, and counts its jobs by state', async () => {
        const batch = {
          id: 'b1',
          createdAt: T0,
          source: 'upload.csv',
          type: 'render',
          accepted: 0,
          rejected: 0,
          done: false,
        };
        await store.createBatch(batch);
        assert.deepEqual(await store.getBatch('b1'), { ...batch, byState: {} });

        await store.insert([newJob({ batchId: 'b1' }), newJob({ batchId: 'b1' }), newJob()]);
        await claim({ limit: 1 });
        await store.updateBatch('b1', { accepted: 2, rejected: 1, done: true });
        assert.deepEqual(await store.getBatch('b1'), {
          ...batch,
          accepted: 2,
          rejected: 1,
          done: true,
          byState: { queued: 1, running: 1 },
        });
        await store.updateBatch('b1', { type: null });
        assert.equal((await store.getBatch('b1'))?.type, null);
        assert.equal(await store.getBatch('missing'), undefined);
      });

      test('rejected rows round-trip in row order', async () => {
        await store.createBatch({
          id: 'b1',
          createdAt: T0,
          source: 'api',
          type: null,
          accepted: 0,
          rejected: 2,
          done: true,
        });
        const rows = [
          { row: 7, raw: 'x,,y', code: 'GAFFER_PAYLOAD_INVALID', message: 'missing field' },
          { row: 3, raw: '"', code: 'GAFFER_CSV_INVALID', message: 'unclosed quote' },
        ];
        await store.addRejectedRows('b1', rows);
        await store.addRejectedRows('b1', []);
        assert.deepEqual(await store.rejectedRows('b1'), [rows[1], rows[0]]);
        assert.deepEqual(await store.rejectedRows('other'), []);
      });
    });
  });
}
