import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KEY_MEMORY_MS, type FlowLimits } from '../../src/domain/flow.ts';
import type { Job } from '../../src/domain/job.ts';
import type { JobStore } from '../../src/store/job-store.ts';
import { claimRequest, ids, NOW, T0 } from './contract-fixture.ts';
import { jobFactory } from './new-job.ts';

export interface FlowStores {
  /** Two stores on one database, as two gaffer replicas (or two claimers). */
  a: JobStore;
  b: JobStore;
  /** Closes `a` and opens the same database again (a restart). */
  reopen(): Promise<JobStore>;
  close(): Promise<void>;
}

/**
 * The pause (`TypeControls`) and the flow limits of `claim`/`claimOrHold`
 * (src/store/roles/job-records.ts, src/domain/flow.ts) as every store plays them, with two
 * claimers on one database.
 */
export function describeFlowControlContract(name: string, open: () => Promise<FlowStores>): void {
  describe(`flow control contract: ${name}`, () => {
    const request = claimRequest;

    test('a paused type claims nothing, survives a reopen, and claims again once resumed', async () => {
      const stores = await open();
      try {
        const newJob = jobFactory(T0);
        await stores.a.insert([newJob(), newJob(), newJob({ type: 'other', queue: 'other' })]);
        await stores.a.setPaused('render', true, 'ops', NOW);
        assert.deepEqual(await stores.b.claim(request()), []);
        assert.equal((await stores.b.claim(request({ type: 'other' }))).length, 1);
        const again = await stores.reopen();
        assert.deepEqual(await again.pausedTypes(), [{ type: 'render', by: 'ops', at: NOW }]);
        assert.deepEqual(await again.claim(request()), []);
        const named = await again.claimOrHold(request({ jobIds: ['job-00001'] }));
        assert.deepEqual(named, {
          jobs: [],
          held: [{ id: 'job-00001', hold: { reason: 'paused' } }],
        });
        assert.equal((await again.flowStanding('render', null, NOW, {})).paused, true);
        await again.setPaused('render', false, 'ops', NOW + 1);
        assert.deepEqual(await again.pausedTypes(), []);
        assert.deepEqual(ids(await stores.b.claim(request())), ['job-00001', 'job-00002']);
      } finally {
        await stores.close();
      }
    });

    test('N starts per window, across two claimers racing; the window frees slots as it slides', async () => {
      const stores = await open();
      try {
        const newJob = jobFactory(T0);
        await stores.a.insert(Array.from({ length: 20 }, () => newJob()));
        const flow: FlowLimits = { rateLimit: { starts: 3, perSeconds: 10 } };
        const round = (now: number) =>
          Promise.all(
            [stores.a, stores.b, stores.a, stores.b].map((s, i) =>
              s.claimOrHold(request({ flow, now, limit: 2, owner: `gaffer-${i}/w` })),
            ),
          );
        const first = await round(NOW);
        assert.equal(first.flatMap((o) => o.jobs).length, 3);
        assert.equal((await round(NOW + 9_999)).flatMap((o) => o.jobs).length, 0);
        const standing = await stores.b.flowStanding('render', null, NOW + 5_000, flow);
        assert.equal(standing.typeStarts.length, 3);
        const named = await stores.a.claimOrHold(
          request({ flow, now: NOW + 5_000, jobIds: ['job-00010'] }),
        );
        assert.deepEqual(named.held, [
          { id: 'job-00010', hold: { reason: 'rate_limit', until: NOW + 10_000 } },
        ]);
        const later = (await round(NOW + 10_000)).flatMap((o) => o.jobs);
        assert.equal(later.length, 3);
        const all = [...first.flatMap((o) => o.jobs), ...later];
        assert.equal(new Set(ids(all)).size, 6, 'no job claimed twice');
      } finally {
        await stores.close();
      }
    });

    test('key limit 2: 1,000 jobs of one key never hold more than 2 running; another key’s 10 are claimed promptly', async () => {
      const stores = await open();
      try {
        const newJob = jobFactory(T0);
        const big = Array.from({ length: 1000 }, () =>
          newJob({ payload: { tenant: 'big' }, flowKey: 'big' }),
        );
        const small = Array.from({ length: 10 }, () =>
          newJob({ payload: { tenant: 'small' }, flowKey: 'small' }),
        );
        await stores.a.insert([...big, ...small]);
        const flow: FlowLimits = { keyLimit: { key: 'payload.tenant', running: 2 } };
        const running = new Map<string, Job>();
        let smallDone = 0;
        let rounds = 0;
        for (; smallDone < 10 && rounds < 20; rounds++) {
          const now = NOW + rounds;
          const claimed = (
            await Promise.all(
              [stores.a, stores.b].map((s, i) =>
                s.claim(request({ flow, now, limit: 5, owner: `gaffer-${i}/w` })),
              ),
            )
          ).flat();
          for (const job of claimed) running.set(job.id, job);
          const bigRunning = [...running.values()].filter(
            (j) => j.payload && (j.payload as { tenant: string }).tenant === 'big',
          );
          assert.ok(
            bigRunning.length <= 2,
            `round ${rounds}: ${bigRunning.length} of the big key running`,
          );
          // The small key's jobs finish; the big key's keep running.
          const finished = [...running.values()].filter(
            (j) => (j.payload as { tenant: string }).tenant === 'small',
          );
          await stores.a.finish(
            finished.map((j) => ({
              id: j.id,
              token: j.leaseToken!,
              now,
              to: 'succeeded' as const,
              result: null,
            })),
          );
          for (const j of finished) running.delete(j.id);
          smallDone += finished.length;
        }
        assert.equal(smallDone, 10);
        assert.ok(rounds <= 6, `the small key's 10 jobs took ${rounds} rounds`);
        const standing = await stores.b.flowStanding('render', 'big', NOW + rounds, flow);
        assert.equal(standing.key?.running, 2);
      } finally {
        await stores.close();
      }
    });

    test('jobs queued with no key recorded get theirs from the payload at the first key-limited claim', async () => {
      const stores = await open();
      try {
        const newJob = jobFactory(T0);
        const tenants = ['a', 'a', 'a', 7, null, 'b'];
        await stores.a.insert(tenants.map((tenant) => newJob({ payload: { tenant } })));
        const flow: FlowLimits = { keyLimit: { key: 'payload.tenant', running: 1 } };
        const claimed = await stores.b.claim(request({ flow }));
        // One per key: "a", "7" (a number, as JSON), "" (null: the empty key), "b".
        assert.deepEqual(ids(claimed).sort(), ['job-00001', 'job-00004', 'job-00005', 'job-00006']);
        const standing = await stores.a.flowStanding('render', '7', NOW, flow);
        assert.equal(standing.key?.running, 1);
      } finally {
        await stores.close();
      }
    });

    test("a key's last start is remembered for KEY_MEMORY_MS, then forgotten", async () => {
      const stores = await open();
      try {
        const newJob = jobFactory(T0);
        await stores.a.insert([newJob({ flowKey: 'a' }), newJob({ flowKey: 'b' })]);
        const flow: FlowLimits = { keyLimit: { key: 'payload.tenant', running: 5 } };
        await stores.a.claim(request({ flow, limit: 1 }));
        const a = await stores.b.flowStanding('render', 'a', NOW, flow);
        assert.equal(a.key?.lastStartedAt, NOW);
        const later = NOW + KEY_MEMORY_MS + 1;
        await stores.b.claim(request({ flow, now: later, leaseExpiresAt: later + 30_000 }));
        const forgotten = await stores.a.flowStanding('render', 'a', later, flow);
        assert.equal(forgotten.key?.lastStartedAt, null);
        const b = await stores.a.flowStanding('render', 'b', later, flow);
        assert.equal(b.key?.lastStartedAt, later);
      } finally {
        await stores.close();
      }
    });
  });
}
