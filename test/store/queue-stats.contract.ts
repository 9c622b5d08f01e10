import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Job, JobError } from '../../src/domain/job.ts';
import type { JobStore, QueueStats } from '../../src/store/job-store.ts';
import { jobFactory } from './new-job.ts';

const T0 = 1_700_000_000_000;
const NOW = T0 + 1_000_000;
const LEASE = NOW + 30_000;
const BOOM: JobError = { class: 'application', message: 'boom', exitCode: 1, signal: null };

/** Every job, read back by paging the listing: the ground truth queueStats must agree with. */
async function allJobs(store: JobStore): Promise<Job[]> {
  const out: Job[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ limit: 1000, ...(cursor ? { cursor } : {}) });
    out.push(...page.jobs);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

/** queueStats as its contract defines it, recounted from the jobs themselves. */
function recount(jobs: readonly Job[], now: number): QueueStats[] {
  const stats = new Map<string, QueueStats>();
  for (const j of jobs) {
    const s = stats.get(j.type) ?? {
      type: j.type,
      ready: 0,
      delayed: 0,
      inFlight: 0,
      byState: {},
      oldestReadyAt: null,
    };
    stats.set(j.type, s);
    s.byState[j.state] = (s.byState[j.state] ?? 0) + 1;
    if (j.state === 'starting' || j.state === 'running') s.inFlight++;
    if (j.state !== 'queued') continue;
    if (j.runAt > now) s.delayed++;
    else if (!j.cancelRequested) {
      s.ready++;
      s.oldestReadyAt = Math.min(s.oldestReadyAt ?? Infinity, j.createdAt);
    }
  }
  return [...stats.values()].sort((a, b) => a.type.localeCompare(b.type));
}

/**
 * queueStats is kept cheap (the SQLite store counts by state incrementally, migration 7), so it
 * must stay equal to a recount of the jobs after every kind of state change: insert (with a
 * repeated idempotency key), claim, each finish, retry with backoff, cancel queued and in flight,
 * requeue, delete, dead-letter edit and replay, purge. Checked at `now` and after the delays.
 */
export function describeQueueStatsContract(name: string, makeStore: () => Promise<JobStore>) {
  describe(`queueStats agrees with the jobs: ${name}`, () => {
    let store: JobStore;
    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    test('after every kind of state change', async () => {
      const newJob = jobFactory(T0, { prefix: 'qs' });
      const check = async (step: string) => {
        const jobs = await allJobs(store);
        for (const now of [NOW, NOW + 60_000]) {
          assert.deepEqual(await store.queueStats(now), recount(jobs, now), `${step} (at ${now})`);
        }
      };
      const claim = (limit: number, type = 'render') =>
        store.claim({ type, owner: 'w1', limit, now: NOW, leaseExpiresAt: LEASE, to: 'running' });
      const token = (j: Job) => j.leaseToken!;

      await check('empty');
      await store.insert([
        ...Array.from({ length: 8 }, () => newJob()),
        newJob({ runAt: NOW + 5_000 }),
        newJob({ idempotencyKey: 'k' }),
        newJob({ type: 'ocr', queue: 'ocr' }),
      ]);
      await store.insert([newJob({ idempotencyKey: 'k' }), newJob({ type: 'ocr', queue: 'ocr' })]);
      await check('insert');

      const [a, b, c, d, e, f] = await claim(6);
      assert.ok(a && b && c && d && e && f);
      await claim(1, 'ocr');
      await check('claim');

      await store.finish([
        { id: a.id, token: token(a), now: NOW, to: 'succeeded', result: 1 },
        { id: b.id, token: token(b), now: NOW, to: 'failed', error: BOOM },
        { id: c.id, token: token(c), now: NOW, to: 'queued', runAt: NOW + 10_000, error: BOOM },
        { id: d.id, token: token(d), now: NOW, to: 'dead_lettered', error: BOOM },
      ]);
      await check('finish');

      // A cancel request on a running job that is then retried: queued, but not claimable.
      await store.cancel(e.id, NOW);
      await store.finish([
        { id: e.id, token: token(e), now: NOW, to: 'queued', runAt: NOW, error: BOOM },
      ]);
      const [queued] = (await allJobs(store)).filter(
        (j) => j.state === 'queued' && !j.cancelRequested && j.runAt <= NOW,
      );
      assert.ok(queued);
      await store.cancel(queued.id, NOW);
      await check('cancel');

      await store.requeue(b.id, NOW);
      await store.requeue(queued.id, NOW);
      await check('requeue');

      const [g] = await claim(1);
      assert.ok(g);
      await store.finish([
        { id: g.id, token: token(g), now: NOW, to: 'running', leaseExpiresAt: LEASE },
      ]);
      const left = (await allJobs(store)).filter((j) => j.state === 'queued').map((j) => j.id);
      assert.ok((await store.deleteQueued(left.slice(0, 2))) > 0);
      await check('delete');

      await store.editDeadLettered(d.id, { priority: 5 });
      await store.replayDeadLettered([d.id], NOW);
      await check('dead-letter replay');

      await store.purgeEnded({
        states: ['succeeded', 'failed', 'timed_out', 'cancelled', 'dead_lettered'],
        endedBefore: NOW + 1,
        keepNewest: null,
        limit: 100,
      });
      await check('purge');
    });
  });
}
