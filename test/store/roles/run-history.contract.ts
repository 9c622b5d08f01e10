import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JobError } from '../../../src/domain/job.ts';
import type { JobStore } from '../../../src/store/job-store.ts';
import type { FinishUpdate } from '../../../src/store/roles/job-records.ts';
import { BOOM, claimWith, eachTestStore, LEASE, NOW, tokenOf } from '../contract-fixture.ts';
import type { jobFactory } from '../new-job.ts';

/**
 * The `RunHistory` role (src/store/roles/run-history.ts) as every store plays it: logs, and the
 * ended attempts `finish` records. `makeStore` must return a fresh, empty store each call; the
 * suite closes it after each test.
 */
export function describeRunHistoryContract(name: string, makeStore: () => Promise<JobStore>): void {
  describe(`RunHistory contract: ${name}`, () => {
    let store: JobStore;
    let newJob: ReturnType<typeof jobFactory>;
    eachTestStore(makeStore, (s, n) => {
      store = s;
      newJob = n;
    });
    const claim = claimWith(() => store);

    describe('logs', () => {
      test('lines come back in append order, per job, after a sequence number', async () => {
        const [a, b] = await store.insert([newJob(), newJob()]);
        assert.ok(a && b);
        await store.appendLog(a.id, 'stdout', 'one', NOW);
        await store.appendLog(b.id, 'stdout', 'other job', NOW);
        await store.appendLog(a.id, 'stderr', 'two', NOW + 1);
        await store.appendLog(a.id, 'stdout', 'three', NOW + 2);

        const all = await store.logs(a.id);
        assert.deepEqual(
          all.map(({ at, stream, data }) => ({ at, stream, data })),
          [
            { at: NOW, stream: 'stdout', data: 'one' },
            { at: NOW + 1, stream: 'stderr', data: 'two' },
            { at: NOW + 2, stream: 'stdout', data: 'three' },
          ],
        );
        const seqs = all.map((l) => l.seq);
        assert.deepEqual(
          seqs,
          [...seqs].sort((x, y) => x - y),
        );
        assert.deepEqual(
          (await store.logs(a.id, seqs[0])).map((l) => l.data),
          ['two', 'three'],
        );
        assert.deepEqual(await store.logs(a.id, seqs[2]), []);
        assert.deepEqual(await store.logs('missing'), []);
      });
    });

    describe('attempts', () => {
      const TIMEOUT: JobError = {
        class: 'timeout',
        message: 'timed out',
        exitCode: null,
        signal: 'SIGKILL',
      };
      const LOST: JobError = {
        class: 'infrastructure',
        message: 'worker exited',
        exitCode: null,
        signal: 'SIGKILL',
        workerLost: true,
      };

      test('every ended attempt, oldest first, with worker, times, outcome and error', async () => {
        const [input] = await store.insert([newJob()]);
        const id = input!.id;
        const first = await claim({ owner: 'gaffer-1/w1', now: NOW });
        await store.finish([
          { id, token: tokenOf(first[0]), now: NOW + 10, to: 'queued', runAt: NOW, error: BOOM },
        ]);
        const second = await claim({ owner: 'gaffer-1/w2', now: NOW + 20 });
        await store.finish([
          {
            id,
            token: tokenOf(second[0]),
            now: NOW + 30,
            to: 'queued',
            runAt: NOW,
            error: TIMEOUT,
          },
        ]);
        const third = await claim({ owner: 'gaffer-1/w3', now: NOW + 40 });
        await store.finish([
          { id, token: tokenOf(third[0]), now: NOW + 50, to: 'succeeded', result: { ok: 1 } },
        ]);
        assert.deepEqual(await store.attempts(id), [
          {
            jobId: id,
            replay: 0,
            attempt: 1,
            worker: 'gaffer-1/w1',
            startedAt: NOW,
            finishedAt: NOW + 10,
            outcome: 'failed',
            jobState: 'queued',
            error: BOOM,
          },
          {
            jobId: id,
            replay: 0,
            attempt: 2,
            worker: 'gaffer-1/w2',
            startedAt: NOW + 20,
            finishedAt: NOW + 30,
            outcome: 'timed_out',
            jobState: 'queued',
            error: TIMEOUT,
          },
          {
            jobId: id,
            replay: 0,
            attempt: 3,
            worker: 'gaffer-1/w3',
            startedAt: NOW + 40,
            finishedAt: NOW + 50,
            outcome: 'succeeded',
            jobState: 'succeeded',
            error: null,
          },
        ]);
      });

      // Each way an attempt ends, and the outcome and job state its row records.
      const endings: {
        name: string;
        update: (id: string, token: number) => FinishUpdate;
        outcome: string;
        jobState: string;
        error: JobError | null;
      }[] = [
        {
          name: 'failed, no attempts left',
          update: (id, token) => ({ id, token, now: NOW, to: 'failed', error: BOOM }),
          outcome: 'failed',
          jobState: 'failed',
          error: BOOM,
        },
        {
          name: 'timed out, ended',
          update: (id, token) => ({ id, token, now: NOW, to: 'timed_out', error: TIMEOUT }),
          outcome: 'timed_out',
          jobState: 'timed_out',
          error: TIMEOUT,
        },
        {
          name: 'dead-lettered',
          update: (id, token) => ({ id, token, now: NOW, to: 'dead_lettered', error: BOOM }),
          outcome: 'failed',
          jobState: 'dead_lettered',
          error: BOOM,
        },
        {
          name: 'worker lost, retried',
          update: (id, token) => ({ id, token, now: NOW, to: 'queued', runAt: NOW, error: LOST }),
          outcome: 'lost',
          jobState: 'queued',
          error: LOST,
        },
        {
          name: 'cancelled',
          update: (id, token) => ({ id, token, now: NOW, to: 'cancelled' }),
          outcome: 'cancelled',
          jobState: 'cancelled',
          error: null,
        },
        {
          name: 'cancelled after a failure',
          update: (id, token) => ({ id, token, now: NOW, to: 'cancelled', error: BOOM }),
          outcome: 'cancelled',
          jobState: 'cancelled',
          error: BOOM,
        },
      ];
      for (const ending of endings) {
        test(`records the outcome of an attempt that ended ${ending.name}`, async () => {
          const [input] = await store.insert([newJob()]);
          const [held] = await claim();
          const changed = await store.finish([ending.update(input!.id, tokenOf(held))]);
          assert.equal(changed.length, 1);
          const [row] = await store.attempts(input!.id);
          assert.deepEqual(
            { outcome: row?.outcome, jobState: row?.jobState, error: row?.error },
            { outcome: ending.outcome, jobState: ending.jobState, error: ending.error },
          );
        });
      }

      test('starting → running ends no attempt; a stale or second completion records nothing', async () => {
        const [input] = await store.insert([newJob()]);
        const id = input!.id;
        const [held] = await claim({ to: 'starting' });
        const token = tokenOf(held);
        await store.finish([{ id, token, now: NOW, to: 'running', leaseExpiresAt: LEASE }]);
        assert.deepEqual(await store.attempts(id), []);
        await store.finish([{ id, token: token + 1000, now: NOW, to: 'failed', error: BOOM }]);
        assert.deepEqual(await store.attempts(id), []);
        await store.finish([{ id, token, now: NOW, to: 'succeeded', result: null }]);
        await store.finish([{ id, token, now: NOW, to: 'failed', error: BOOM }]);
        assert.deepEqual(
          (await store.attempts(id)).map((a) => a.outcome),
          ['succeeded'],
        );
      });

      test('one finish call over many jobs records one row per job that changed', async () => {
        const jobs = await store.insert([newJob(), newJob(), newJob(), newJob()]);
        const held = await claim();
        const byId = new Map(held.map((j) => [j.id, tokenOf(j)]));
        const [a, b, c, d] = jobs.map((j) => j.id) as [string, string, string, string];
        await store.finish([
          { id: a, token: byId.get(a)!, now: NOW, to: 'succeeded', result: 1 },
          { id: b, token: byId.get(b)!, now: NOW, to: 'queued', runAt: NOW, error: BOOM },
          { id: c, token: byId.get(c)!, now: NOW, to: 'failed', error: BOOM },
          { id: d, token: byId.get(d)! + 1000, now: NOW, to: 'failed', error: BOOM },
        ]);
        const outcomes = await Promise.all(
          [a, b, c, d].map(async (id) => (await store.attempts(id)).map((r) => r.jobState)),
        );
        assert.deepEqual(outcomes, [['succeeded'], ['queued'], ['failed'], []]);
      });

      test('a requeued job keeps its history; retention deletes it with the job', async () => {
        const [input] = await store.insert([newJob({ maxAttempts: 1 })]);
        const id = input!.id;
        const [first] = await claim();
        await store.finish([{ id, token: tokenOf(first), now: NOW, to: 'failed', error: BOOM }]);
        await store.requeue(id, NOW);
        const [second] = await claim({ now: NOW + 1 });
        await store.finish([
          { id, token: tokenOf(second), now: NOW + 2, to: 'succeeded', result: null },
        ]);
        assert.deepEqual(
          (await store.attempts(id)).map((r) => [r.replay, r.attempt, r.outcome]),
          [
            [0, 1, 'failed'],
            [1, 1, 'succeeded'],
          ],
        );
        const purged = await store.purgeEnded({
          states: ['succeeded'],
          endedBefore: NOW + 10,
          keepNewest: null,
          limit: 10,
        });
        assert.equal(purged, 1);
        assert.deepEqual(await store.attempts(id), []);
      });

      test('an unknown job has no attempts', async () => {
        assert.deepEqual(await store.attempts('no-such-job'), []);
      });
    });
  });
}
