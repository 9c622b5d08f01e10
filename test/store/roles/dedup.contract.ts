import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobStore } from '../../../src/store/job-store.ts';
import { claimWith, eachTestStore, ids, NOW, T0, tokenOf } from '../contract-fixture.ts';
import type { jobFactory } from '../new-job.ts';

/**
 * Dedup modes as every store applies them inside the insert (src/domain/dedup.ts decides): a held
 * idempotency key yields the live job, a new job once the holder ended or its ttl passed, or the
 * holder debounced; concurrent submissions under one key still make one job. `makeStore` must
 * return a fresh, empty store each call.
 */
export function describeDedupContract(name: string, makeStore: () => Promise<JobStore>): void {
  describe(`Dedup contract: ${name}`, () => {
    let store: JobStore;
    let newJob: ReturnType<typeof jobFactory>;
    eachTestStore(makeStore, (s, n) => {
      store = s;
      newJob = n;
    });
    const claim = claimWith(() => store);
    const succeed = async () => {
      const [running] = await claim();
      const token = tokenOf(running);
      await store.finish([{ id: running!.id, token, now: NOW, to: 'succeeded', result: null }]);
      return running!;
    };

    test('live: the live job while it runs, whatever the payload; a new job once it ended', async () => {
      const live = { mode: 'live' } as const;
      const [first] = await store.insert([newJob({ idempotencyKey: 'k', dedup: live })]);
      const [again] = await store.insert([
        newJob({ idempotencyKey: 'k', dedup: live, payload: 'other' }),
      ]);
      assert.equal(again?.id, first?.id);
      await succeed();
      const late = newJob({ idempotencyKey: 'k', dedup: live, createdAt: NOW + 1 });
      const [fresh] = await store.insert([late]);
      assert.equal(fresh?.id, late.id, 'a new job');
      assert.equal((await store.get(late.id))?.idempotencyKey, 'k', 'the new job holds the key');
      const old = await store.get(first!.id);
      assert.deepEqual([old?.state, old?.idempotencyKey], ['succeeded', null]);
      const [third] = await store.insert([newJob({ idempotencyKey: 'k', dedup: live })]);
      assert.equal(third?.id, late.id, 'the new job is the live one now');
    });

    test('ttl: the first job within the ttl from its creation, a new job after it', async () => {
      const ttl = { mode: 'ttl', ttlMs: 1_000 } as const;
      const first = newJob({ idempotencyKey: 'k', dedup: ttl, createdAt: T0 });
      await store.insert([first]);
      const within = newJob({ idempotencyKey: 'k', dedup: ttl, createdAt: T0 + 999 });
      assert.equal((await store.insert([within]))[0]?.id, first.id);
      const after = newJob({ idempotencyKey: 'k', dedup: ttl, createdAt: T0 + 1_000 });
      assert.equal((await store.insert([after]))[0]?.id, after.id);
      assert.equal((await store.list({ limit: 10 })).jobs.length, 2);
    });

    test('debounce: replaces the payload of the job not started and pushes its start back', async () => {
      const debounce = { mode: 'debounce', debounceMs: 5_000 } as const;
      const first = newJob({ idempotencyKey: 'k', dedup: debounce, payload: { v: 1 } });
      await store.insert([first]);
      const later = newJob({
        idempotencyKey: 'k',
        dedup: debounce,
        payload: { v: 2 },
        createdAt: NOW - 10,
      });
      const [debounced] = await store.insert([later]);
      assert.equal(debounced?.id, first.id);
      assert.deepEqual(debounced?.payload, { v: 2 });
      assert.equal(debounced?.runAt, NOW - 10 + 5_000);
      const stored = await store.get(first.id);
      assert.deepEqual([stored?.payload, stored?.runAt], [{ v: 2 }, NOW + 4_990]);
      assert.deepEqual(await claim(), [], 'not due before the window ends');
      const [started] = await claim({ now: NOW + 4_990 });
      assert.equal(started?.id, first.id);
      const next = newJob({ idempotencyKey: 'k', dedup: debounce, createdAt: NOW + 5_000 });
      assert.equal((await store.insert([next]))[0]?.id, next.id, 'once started, a new job');
    });

    test('concurrent submissions under one key make one job', async () => {
      const live = { mode: 'live' } as const;
      await store.insert([newJob({ idempotencyKey: 'k', dedup: live })]);
      await succeed();
      const racers = Array.from({ length: 8 }, () =>
        newJob({ idempotencyKey: 'k', dedup: live, createdAt: NOW + 1 }),
      );
      const results = await Promise.all(racers.map((job) => store.insert([job])));
      const yielded = new Set(results.map((r) => r[0]?.id));
      assert.equal(yielded.size, 1, `one job: ${[...yielded].join(', ')}`);
      const all = (await store.list({ limit: 20 })).jobs;
      assert.equal(all.length, 2, ids(all).join(', '));
    });
  });
}
