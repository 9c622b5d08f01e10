import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobStore } from '../../../src/store/job-store.ts';
import { BOOM, claimWith, eachTestStore, ids, NOW, T0, tokenOf } from '../contract-fixture.ts';
import type { jobFactory } from '../new-job.ts';

/**
 * The `JobListing` role (src/store/roles/job-listing.ts) as every store plays it: listing, queue
 * counts, due jobs and a job's place in line. `makeStore` must return a fresh, empty store each
 * call; the suite closes it after each test.
 */
export function describeJobListingContract(name: string, makeStore: () => Promise<JobStore>): void {
  describe(`JobListing contract: ${name}`, () => {
    let store: JobStore;
    let newJob: ReturnType<typeof jobFactory>;
    eachTestStore(makeStore, (s, n) => {
      store = s;
      newJob = n;
    });
    const claim = claimWith(() => store);

    describe('queueStats', () => {
      test('counts ready, delayed, in flight and every state, per type', async () => {
        const [r1, r2, , , running, failing] = await store.insert([
          newJob(),
          newJob(),
          newJob({ runAt: NOW + 1 }),
          newJob({ runAt: NOW + 2 }),
          newJob({ priority: 9 }),
          newJob({ priority: 8 }),
          newJob({ type: 'ocr', queue: 'ocr' }),
        ]);
        assert.ok(r1 && r2 && running && failing);
        const claimed = await claim({ limit: 2 });
        const failToken = tokenOf(claimed.find((j) => j.id === failing.id));
        await store.finish([
          { id: failing.id, token: failToken, now: NOW, to: 'failed', error: BOOM },
        ]);

        const stats = await store.queueStats(NOW);
        assert.deepEqual(
          stats.sort((a, b) => a.type.localeCompare(b.type)),
          [
            {
              type: 'ocr',
              ready: 1,
              delayed: 0,
              inFlight: 0,
              byState: { queued: 1 },
              oldestReadyAt: T0 + 7,
            },
            {
              type: 'render',
              ready: 2,
              delayed: 2,
              inFlight: 1,
              byState: { queued: 4, running: 1, failed: 1 },
              oldestReadyAt: r1.createdAt,
            },
          ],
        );
        const later = (await store.queueStats(NOW + 2)).find((s) => s.type === 'render');
        assert.equal(later?.ready, 4);
        assert.equal(later?.delayed, 0);
      });

      test('is empty for an empty store', async () => {
        assert.deepEqual(await store.queueStats(NOW), []);
      });
    });

    describe('readyJobs', () => {
      test('due queued jobs of one type, in claim order, limited', async () => {
        const [old, , high, , other] = await store.insert([
          newJob({ runAt: T0 }),
          newJob({ runAt: NOW + 1 }),
          newJob({ priority: 5 }),
          newJob(),
          newJob({ type: 'ocr', queue: 'ocr' }),
        ]);
        assert.ok(old && high && other);
        const ids = async (dueBy: number, limit = 10) =>
          (await store.readyJobs('render', dueBy, limit)).map((j) => j.id);
        const all = await ids(NOW);
        assert.equal(all.length, 3, 'the not-yet-due job and the other type are left out');
        assert.deepEqual(all.slice(0, 2), [high.id, old.id], 'priority first, then oldest runAt');
        assert.deepEqual(await ids(NOW, 1), [high.id]);
        await claim({ limit: 1 });
        assert.ok(!(await ids(NOW)).includes(high.id), 'a claimed job is no longer ready');
        assert.equal((await ids(NOW + 1)).length, 3);
      });
    });

    describe('becameDue', () => {
      test('delayed queued jobs of one type due in the window, by (runAt, id), paged', async () => {
        const [a, b, c, , , other] = await store.insert([
          newJob({ runAt: NOW + 10 }),
          newJob({ runAt: NOW + 10 }),
          newJob({ runAt: NOW + 20 }),
          newJob({ runAt: NOW + 30 }),
          newJob(), // due at insert: never delayed, never in the window
          newJob({ type: 'ocr', queue: 'ocr', runAt: NOW + 10 }),
        ]);
        assert.ok(a && b && c && other);
        const ids = async (after: { runAt: number; id: string }, upTo: number, limit = 10) =>
          (await store.becameDue('render', after, upTo, limit)).map((j) => j.id);
        assert.deepEqual(await ids({ runAt: 0, id: '' }, NOW + 20), [a.id, b.id, c.id]);
        assert.deepEqual(await ids({ runAt: 0, id: '' }, NOW + 9), [], 'none due yet');
        assert.deepEqual(await ids({ runAt: 0, id: '' }, NOW + 20, 1), [a.id]);
        assert.deepEqual(await ids({ runAt: a.runAt, id: a.id }, NOW + 20, 1), [b.id], 'next page');
        assert.deepEqual(await ids({ runAt: NOW + 10, id: b.id }, NOW + 25), [c.id]);
        await claim({ limit: 10, now: NOW + 20 });
        assert.deepEqual(await ids({ runAt: 0, id: '' }, NOW + 20), [], 'claimed: not queued');
      });
    });

    describe('dueWithin', () => {
      test('counts delayed queued jobs of one type due in (now, upTo], with the first due time', async () => {
        const [, , , , , , cancelled] = await store.insert([
          newJob({ runAt: NOW + 10 }),
          newJob({ runAt: NOW + 10 }),
          newJob({ runAt: NOW + 20 }),
          newJob({ runAt: NOW + 5_000 }), // beyond the window
          newJob(), // due at insert: ready, not due soon
          newJob({ type: 'ocr', queue: 'ocr', runAt: NOW + 15 }),
          newJob({ runAt: NOW + 12 }), // asked to cancel: never runs
        ]);
        assert.ok(cancelled);
        await store.cancel(cancelled.id, NOW);
        assert.deepEqual(await store.dueWithin('render', NOW, NOW + 20), {
          count: 3,
          firstAt: NOW + 10,
        });
        assert.deepEqual(
          await store.dueWithin('render', NOW + 10, NOW + 20),
          {
            count: 1,
            firstAt: NOW + 20,
          },
          'due by now: ready, no longer ahead',
        );
        assert.deepEqual(await store.dueWithin('ocr', NOW, NOW + 20), {
          count: 1,
          firstAt: NOW + 15,
        });
        assert.deepEqual(await store.dueWithin('render', NOW, NOW + 9), {
          count: 0,
          firstAt: null,
        });
        assert.deepEqual(await store.dueWithin('none', NOW, NOW + 20), { count: 0, firstAt: null });
      });
    });

    describe('list, dueAfter', () => {
      test('only the jobs due after the time: the delayed view of queued jobs', async () => {
        const [due, later] = await store.insert([newJob(), newJob({ runAt: NOW + 10 })]);
        assert.ok(due && later);
        const page = await store.list({ state: 'queued', dueAfter: NOW, limit: 10 });
        assert.deepEqual(ids(page.jobs), [later.id]);
        assert.deepEqual(ids((await store.list({ dueAfter: NOW + 10, limit: 10 })).jobs), []);
      });
    });

    describe('queuePosition', () => {
      test('counts the due queued jobs of its type ahead of it in claim order', async () => {
        const [old, late, high, mid, other] = await store.insert([
          newJob({ runAt: T0 }),
          newJob({ runAt: NOW + 1 }),
          newJob({ priority: 5 }),
          newJob(),
          newJob({ type: 'ocr', queue: 'ocr' }),
        ]);
        assert.ok(old && late && high && mid && other);
        const at = (j: typeof old) => store.queuePosition(j, NOW);
        assert.equal(await at(high), 0, 'the highest priority is first');
        assert.equal(await at(old), 1, 'then the oldest runAt');
        assert.equal(await at(mid), 2);
        assert.equal(await at(other), 0, 'other types are another line');
        assert.equal(await at(late), 3, 'a job not yet due waits behind every due one');
        await claim({ limit: 1 });
        assert.equal(await at(old), 0, 'a claimed job no longer counts');
      });
    });

    describe('list', () => {
      test('pages newest first and covers every job exactly once', async () => {
        const jobs = Array.from({ length: 23 }, (_, i) =>
          // Pairs share a createdAt, so the order must fall back to the id.
          newJob({ createdAt: T0 + Math.floor(i / 2) }),
        );
        await store.insert(jobs);
        const seen: string[] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = await store.list({ limit: 5, ...(cursor ? { cursor } : {}) });
          assert.ok(page.jobs.length <= 5);
          seen.push(...ids(page.jobs));
          if (page.nextCursor === null) break;
          cursor = page.nextCursor;
        }
        const expected = [...jobs]
          .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1))
          .map((j) => j.id);
        assert.deepEqual(seen, expected);
      });

      test('lists several types as one, newest first, paged without gaps or repeats', async () => {
        const kinds = [{}, { type: 'ocr', queue: 'ocr' }, { type: 'other', queue: 'other' }];
        const jobs = Array.from({ length: 17 }, (_, i) => newJob(kinds[i % 3]));
        await store.insert(jobs);
        const seen: string[] = [];
        let cursor: string | undefined;
        for (;;) {
          const filter = { limit: 4, types: ['ocr', 'render'], ...(cursor ? { cursor } : {}) };
          const page = await store.list(filter);
          seen.push(...ids(page.jobs));
          if (page.nextCursor === null) break;
          cursor = page.nextCursor;
        }
        const expected = jobs.filter((j) => j.type !== 'other').map((j) => j.id);
        assert.deepEqual(seen, expected.reverse());
        assert.deepEqual((await store.list({ limit: 5, types: [] })).jobs, []);
      });

      test('filters by type, state, batch and search', async () => {
        const [a, b, c] = await store.insert([
          newJob({ payload: { file: 'invoice-2024.pdf' }, batchId: 'b1' }),
          newJob({ type: 'ocr', queue: 'ocr', payload: { file: 'scan.png' }, batchId: 'b1' }),
          newJob({ payload: { file: '100%_done' } }),
        ]);
        assert.ok(a && b && c);
        await claim({ jobIds: [c.id] });
        const list = async (filter: Omit<Parameters<JobStore['list']>[0], 'limit'>) =>
          ids((await store.list({ limit: 10, ...filter })).jobs);
        assert.deepEqual(await list({ type: 'ocr' }), [b.id]);
        assert.deepEqual(await list({ state: 'running' }), [c.id]);
        assert.deepEqual(await list({ batchId: 'b1' }), [b.id, a.id]);
        assert.deepEqual(await list({ batchId: 'b1', type: 'render' }), [a.id]);
        assert.deepEqual(await list({ search: 'invoice-2024' }), [a.id]);
        assert.deepEqual(await list({ search: a.id }), [a.id], 'an id prefix matches');
        assert.deepEqual(await list({ search: '0%_' }), [c.id], 'wildcards match literally');
        assert.deepEqual(await list({ search: 'nothing-like-this' }), []);
      });

      test('caps the page at 1000 jobs', async () => {
        await store.insert(Array.from({ length: 1001 }, () => newJob()));
        const page = await store.list({ limit: 5000 });
        assert.equal(page.jobs.length, 1000);
        assert.notEqual(page.nextCursor, null);
      });

      test('rejects a cursor it did not issue', async () => {
        await assert.rejects(store.list({ limit: 5, cursor: 'not-a-cursor' }));
      });
    });
  });
}
