import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Job, JobError } from '../../../src/domain/job.ts';
import type { JobStore } from '../../../src/store/job-store.ts';
import {
  BOOM,
  claimWith,
  eachTestStore,
  ids,
  LEASE,
  NOW,
  T0,
  tokenOf,
} from '../contract-fixture.ts';
import type { jobFactory } from '../new-job.ts';

/**
 * The `JobRecords` role (src/store/roles/job-records.ts) as every store plays it: the job rows and
 * their lease-fenced transitions: insert and idempotency, claim, fencing, lost leases, cancel,
 * requeue. `makeStore` must return a fresh, empty store each call; the suite closes it after each
 * test.
 */
export function describeJobRecordsContract(name: string, makeStore: () => Promise<JobStore>): void {
  describe(`JobRecords contract: ${name}`, () => {
    let store: JobStore;
    let newJob: ReturnType<typeof jobFactory>;
    eachTestStore(makeStore, (s, n) => {
      store = s;
      newJob = n;
    });
    const claim = claimWith(() => store);

    describe('insert and get', () => {
      test('round-trips every field of a new job', async () => {
        const input = newJob({
          payload: { file: 'a.csv', nested: { list: [1, 'two', null], ok: true } },
          priority: -3,
          attributes: { rows: 1200, latencySensitive: true },
          maxAttempts: 5,
          timeoutMs: 1234,
          runAt: T0 + 500,
          batchId: 'batch-1',
          idempotencyKey: 'key-1',
          routeReason: 'rows > 1000',
          data: {
            inputs: ['s3://bucket/in/x.csv', 's3://bucket/models/m1/', '/data/lookup.json'],
            output: 's3://bucket/results/job-1/',
          },
          resources: { cpu: '500m', memory: '1Gi', gpus: 1 },
        });
        const expected: Job = {
          ...input,
          state: 'queued',
          attempt: 0,
          startedAt: null,
          finishedAt: null,
          leaseToken: null,
          leaseOwner: null,
          leaseExpiresAt: null,
          cancelRequested: false,
          result: null,
          error: null,
          replays: 0,
        };
        assert.deepEqual(await store.insert([input]), [expected]);
        assert.deepEqual(await store.get(input.id), expected);
      });

      test("round-trips a job's resource request, and its absence (null)", async () => {
        const sized = newJob({ resources: { memory: '4Gi' } });
        const none = newJob();
        await store.insert([sized, none]);
        assert.deepEqual((await store.get(sized.id))?.resources, { memory: '4Gi' });
        assert.equal((await store.get(none.id))?.resources, null);
        const [claimed] = await claim({ jobIds: [sized.id] });
        assert.deepEqual(claimed?.resources, { memory: '4Gi' }, 'a claim hands it on');
      });

      test('round-trips data references, with or without an output, and their absence', async () => {
        const inputsOnly = newJob({ data: { inputs: ['file:///in/a.csv'], output: null } });
        const none = newJob();
        await store.insert([inputsOnly, none]);
        assert.deepEqual((await store.get(inputsOnly.id))?.data, inputsOnly.data);
        assert.equal((await store.get(none.id))?.data, null);
        // A claim hands the references on (they reach the worker in its assignment).
        const [claimed] = await claim({ jobIds: [inputsOnly.id] });
        assert.deepEqual(claimed?.data, inputsOnly.data);
      });

      test('returns jobs in input order; an empty insert is a no-op', async () => {
        const jobs = [newJob({ priority: 1 }), newJob({ priority: 9 }), newJob()];
        assert.deepEqual(ids(await store.insert(jobs)), ids(jobs as Job[]));
        assert.deepEqual(await store.insert([]), []);
        assert.equal(await store.get('missing'), undefined);
      });

      test('a duplicate idempotency key within one call yields the first job', async () => {
        const first = newJob({ idempotencyKey: 'k' });
        const dup = newJob({ idempotencyKey: 'k', payload: { other: true } });
        const other = newJob();
        const out = await store.insert([first, dup, other]);
        assert.deepEqual(ids(out), [first.id, first.id, other.id]);
        assert.deepEqual(out[1]?.payload, first.payload);
        assert.equal(await store.get(dup.id), undefined);
      });

      test('a duplicate idempotency key across calls yields the stored job', async () => {
        const [stored] = await store.insert([newJob({ idempotencyKey: 'k' })]);
        const [again] = await store.insert([newJob({ idempotencyKey: 'k' })]);
        assert.deepEqual(again, stored);
        assert.equal((await store.list({ limit: 10 })).jobs.length, 1);
      });

      test('an idempotency key is scoped by type and submitter: another scope is another key', async () => {
        const mine = newJob({ idempotencyKey: 'k', submittedBy: 'team-a' });
        const otherType = newJob({ idempotencyKey: 'k', submittedBy: 'team-a', type: 'mail' });
        const otherTeam = newJob({ idempotencyKey: 'k', submittedBy: 'team-b' });
        const anonymous = newJob({ idempotencyKey: 'k' });
        const first = await store.insert([mine, otherType]);
        assert.deepEqual(ids(first), [mine.id, otherType.id]);
        const second = await store.insert([otherTeam, anonymous]);
        assert.deepEqual(ids(second), [otherTeam.id, anonymous.id], 'each scope holds its own key');
        // Within one call and across calls, the same scope still yields the first job.
        const again = await store.insert([
          newJob({ idempotencyKey: 'k', submittedBy: 'team-b', payload: 'x' }),
          newJob({ idempotencyKey: 'k', submittedBy: 'team-c' }),
          newJob({ idempotencyKey: 'k', submittedBy: 'team-c' }),
        ]);
        assert.equal(again[0]?.id, otherTeam.id);
        assert.deepEqual(again[0]?.payload, otherTeam.payload);
        assert.equal(again[1]?.id, again[2]?.id);
        assert.equal((await store.list({ limit: 10 })).jobs.length, 5);
        const found = await store.list({ limit: 10, search: 'k' });
        assert.equal(found.jobs.length, 5, 'the listing still finds jobs by their key');
      });

      test('a failing insert stores none of its jobs (one transaction)', async () => {
        const existing = newJob();
        await store.insert([existing]);
        const fresh = newJob();
        await assert.rejects(store.insert([fresh, { ...newJob(), id: existing.id }]));
        assert.equal(await store.get(fresh.id), undefined);
      });
    });

    describe('queue-wait expiry', () => {
      test('a claim never takes a job past its expiry; expire ends exactly those, once', async () => {
        const [past, later, never, inFlight] = await store.insert([
          newJob({ expiresAt: NOW }),
          newJob({ expiresAt: NOW + 1 }),
          newJob(),
          newJob({ priority: 9, expiresAt: NOW + 1 }),
        ]);
        assert.ok(past && later && never && inFlight);
        assert.equal(past.expiresAt, NOW);
        assert.deepEqual(await store.get(past.id), past, 'stored as inserted');
        const [first] = await claim({ limit: 1 });
        assert.equal(first?.id, inFlight.id);
        // At NOW: `past` is at its expiry, so not claimable; the rest are.
        const claimable = await claim({ jobIds: [past.id, later.id], limit: 10 });
        assert.deepEqual(ids(claimable), [later.id]);
        const expired = await store.expire(NOW + 1, 100);
        assert.deepEqual(ids(expired), [past.id], 'only queued jobs due to expire');
        assert.equal(expired[0]?.state, 'expired');
        assert.equal(expired[0]?.finishedAt, NOW + 1);
        assert.equal(expired[0]?.startedAt, null, 'never run');
        assert.deepEqual(await store.expire(NOW + 1, 100), [], 'once');
        assert.equal((await store.get(never.id))?.state, 'queued');
        assert.equal((await store.get(inFlight.id))?.state, 'running');
        const again = await store.requeue(past.id, NOW + 2);
        assert.equal(again?.state, 'queued', 'an expired job may be retried');
        assert.equal(again?.expiresAt, undefined, 'without its expiry');
      });

      test('expire takes at most `limit` jobs per call', async () => {
        await store.insert([1, 2, 3].map(() => newJob({ expiresAt: NOW })));
        assert.equal((await store.expire(NOW, 2)).length, 2);
        assert.equal((await store.expire(NOW, 2)).length, 1);
      });
    });

    describe('claim', () => {
      test('writes the lease and starts the attempt', async () => {
        const [job] = await store.insert([newJob()]);
        const [claimed] = await claim({ owner: 'gaffer-1/w7', to: 'starting' });
        assert.ok(job && claimed);
        assert.equal(claimed.id, job.id);
        assert.equal(claimed.state, 'starting');
        assert.equal(claimed.attempt, 1);
        assert.equal(claimed.leaseOwner, 'gaffer-1/w7');
        assert.equal(claimed.leaseExpiresAt, LEASE);
        assert.equal(claimed.startedAt, NOW);
        tokenOf(claimed);
        assert.deepEqual(await store.get(job.id), claimed);
      });

      test('takes highest priority first, then oldest', async () => {
        const low = newJob({ priority: 0 });
        const highNew = newJob({ priority: 5 });
        const mid = newJob({ priority: 2 });
        const highOld = { ...newJob({ priority: 5 }), createdAt: T0 - 10, runAt: T0 - 10 };
        await store.insert([low, highNew, mid, highOld]);
        assert.deepEqual(ids(await claim()), [highOld.id, highNew.id, mid.id, low.id]);
      });

      test('respects runAt, limit and type', async () => {
        const later = newJob({ runAt: NOW + 1 });
        const other = newJob({ type: 'ocr', queue: 'ocr' });
        const ready = [newJob(), newJob(), newJob()];
        await store.insert([later, other, ...ready]);
        assert.deepEqual(ids(await claim({ limit: 2 })), [ready[0]?.id, ready[1]?.id]);
        assert.deepEqual(ids(await claim()), [ready[2]?.id]);
        assert.deepEqual(await claim(), []);
        assert.deepEqual(ids(await claim({ now: NOW + 1 })), [later.id]);
        assert.deepEqual(ids(await claim({ type: 'ocr' })), [other.id]);
        assert.deepEqual(await claim({ limit: 0, type: 'ocr' }), []);
      });

      test('two claims never hand out the same job', async () => {
        await store.insert(Array.from({ length: 50 }, () => newJob()));
        const [a, b] = await Promise.all([
          claim({ owner: 'w1', limit: 30 }),
          claim({ owner: 'w2', limit: 30 }),
        ]);
        assert.ok(a && b);
        assert.equal(a.length + b.length, 50);
        assert.equal(new Set([...ids(a), ...ids(b)]).size, 50);
      });

      test('hands a retry its last error, workerLost included (a suspect is isolated)', async () => {
        const [job] = await store.insert([newJob()]);
        assert.ok(job);
        const lost: JobError = {
          class: 'infrastructure',
          message: 'worker w1 exited (code null, signal SIGKILL)',
          exitCode: null,
          signal: 'SIGKILL',
          workerLost: true,
        };
        const token = tokenOf((await claim())[0]);
        await store.finish([
          { id: job.id, token, now: NOW, to: 'queued', runAt: NOW, error: lost },
        ]);
        const [again] = await claim();
        assert.deepEqual(again?.error, lost);
        assert.deepEqual((await store.get(job.id))?.error, lost);
      });

      test('with jobId takes only that job, and only while it is claimable', async () => {
        const [first, second] = await store.insert([newJob(), newJob()]);
        assert.ok(first && second);
        assert.deepEqual(ids(await claim({ jobIds: [second.id] })), [second.id]);
        assert.deepEqual(await claim({ jobIds: [second.id] }), []);
        assert.deepEqual(await claim({ jobIds: [first.id], type: 'ocr' }), []);
        assert.equal((await store.get(first.id))?.state, 'queued');
      });
    });

    describe('lease fencing', () => {
      test('a retry gives a larger token and attempt 2; the old token is refused', async () => {
        const [job] = await store.insert([newJob()]);
        assert.ok(job);
        const old = tokenOf((await claim())[0]);
        const retry = await store.finish([
          { id: job.id, token: old, now: NOW + 1, to: 'queued', runAt: NOW + 5, error: BOOM },
        ]);
        assert.equal(retry[0]?.state, 'queued');
        assert.deepEqual(retry[0]?.error, BOOM);
        assert.equal(retry[0]?.leaseOwner, null);
        assert.deepEqual(await claim({ now: NOW + 4 }), [], 'runAt of the retry is respected');

        const [again] = await claim({ now: NOW + 5 });
        const fresh = tokenOf(again);
        assert.ok(fresh > old);
        assert.equal(again?.attempt, 2);
        assert.equal(await store.heartbeat(job.id, old, LEASE + 1), false);
        const stale = { id: job.id, token: old, now: NOW + 6, to: 'succeeded' as const, result: 1 };
        assert.deepEqual(await store.finish([stale]), []);
        assert.equal(await store.heartbeat(job.id, fresh, LEASE + 99), true);
        assert.equal((await store.get(job.id))?.leaseExpiresAt, LEASE + 99);
      });

      test('a refunded retry (interrupted by a stop) gives the attempt back; its row says so', async () => {
        const [job, other] = await store.insert([newJob(), newJob()]);
        assert.ok(job && other);
        const claimed = await claim({ limit: 2 });
        const token = (id: string) => tokenOf(claimed.find((j) => j.id === id));
        const stopped: JobError = { class: 'infrastructure', message: 'stop', interrupted: true };
        const [back, failed] = await store.finish([
          {
            id: job.id,
            token: token(job.id),
            now: NOW + 1,
            to: 'queued',
            runAt: NOW + 1,
            error: stopped,
            refund: true,
          },
          {
            id: other.id,
            token: token(other.id),
            now: NOW + 1,
            to: 'queued',
            runAt: NOW + 1,
            error: BOOM,
          },
        ]);
        assert.deepEqual([back?.state, back?.attempt, back?.error], ['queued', 0, stopped]);
        assert.deepEqual([failed?.state, failed?.attempt], ['queued', 1], 'no refund: counted');
        assert.deepEqual(
          (await store.attempts(job.id)).map((a) => [a.attempt, a.outcome, a.jobState]),
          [[1, 'interrupted', 'queued']],
        );
        const [again] = await claim({ jobIds: [job.id], now: NOW + 2 });
        assert.equal(again?.attempt, 1, 'the next attempt has the same number');
      });

      test('tokens grow across jobs and claims', async () => {
        await store.insert([newJob(), newJob()]);
        const first = tokenOf((await claim({ limit: 1 }))[0]);
        const second = tokenOf((await claim({ limit: 1 }))[0]);
        assert.ok(second > first);
      });

      test('finish applies once: the same update again is refused', async () => {
        const [job] = await store.insert([newJob()]);
        assert.ok(job);
        const token = tokenOf((await claim())[0]);
        const done = {
          id: job.id,
          token,
          now: NOW + 10,
          to: 'succeeded' as const,
          result: { a: 1 },
        };
        const [finished] = await store.finish([done]);
        assert.equal(finished?.state, 'succeeded');
        assert.deepEqual(finished?.result, { a: 1 });
        assert.equal(finished?.finishedAt, NOW + 10);
        assert.equal(finished?.leaseOwner, null);
        assert.equal(finished?.leaseExpiresAt, null);
        assert.equal(finished?.leaseToken, token);
        assert.deepEqual(await store.finish([{ ...done, now: NOW + 20 }]), []);
        const failed = { id: job.id, token, now: NOW + 30, to: 'failed' as const, error: BOOM };
        assert.deepEqual(await store.finish([failed]), []);
        assert.deepEqual(await store.get(job.id), finished);
        assert.equal(await store.heartbeat(job.id, token, LEASE + 1), false);
      });

      test('one finish call applies the current updates and skips the stale ones', async () => {
        const [a, b, c] = await store.insert([newJob(), newJob(), newJob()]);
        assert.ok(a && b && c);
        const claimed = await claim({ to: 'starting' });
        const token = (id: string) => tokenOf(claimed.find((j) => j.id === id));
        const changed = await store.finish([
          { id: a.id, token: token(a.id), now: NOW, to: 'running', leaseExpiresAt: LEASE + 5 },
          { id: b.id, token: token(b.id) + 1000, now: NOW, to: 'failed', error: BOOM },
          { id: c.id, token: token(c.id), now: NOW + 3, to: 'timed_out', error: BOOM },
          { id: 'missing', token: 1, now: NOW, to: 'cancelled' },
        ]);
        assert.deepEqual(
          changed.map((j) => [j.id, j.state]),
          [
            [a.id, 'running'],
            [c.id, 'timed_out'],
          ],
        );
        assert.equal(changed[0]?.leaseExpiresAt, LEASE + 5);
        assert.deepEqual(changed[1]?.error, BOOM);
        assert.equal(changed[1]?.finishedAt, NOW + 3);
        assert.equal((await store.get(b.id))?.state, 'starting');
      });
    });

    describe('finding lost leases', () => {
      test('findExpired: expired leases, or held by the given owners', async () => {
        const [a, b, c, d] = await store.insert([newJob(), newJob(), newJob(), newJob()]);
        assert.ok(a && b && c && d);
        await claim({ jobIds: [a.id], owner: 'w1', leaseExpiresAt: NOW + 10 });
        await claim({ jobIds: [b.id], owner: 'w2', leaseExpiresAt: NOW + 100 });
        const [done] = await claim({ jobIds: [c.id], owner: 'w1', leaseExpiresAt: NOW + 10 });
        const token = tokenOf(done);
        await store.finish([{ id: c.id, token, now: NOW, to: 'succeeded', result: null }]);

        assert.deepEqual(ids(await store.findExpired(NOW + 10)), []);
        assert.deepEqual(ids(await store.findExpired(NOW + 11)), [a.id]);
        assert.deepEqual(ids(await store.findExpired(NOW + 11, ['w2'])).sort(), [a.id, b.id]);
        assert.deepEqual(ids(await store.findExpired(NOW, ['w2'])), [b.id]);
        assert.deepEqual(ids(await store.findExpired(NOW, [])), []);
      });

      test('findOwnedByPrefix: owners of an earlier process, not of this one', async () => {
        const [a, b, c] = await store.insert([newJob(), newJob(), newJob()]);
        assert.ok(a && b && c);
        await claim({ jobIds: [a.id], owner: 'gaffer-old/w1' });
        await claim({ jobIds: [b.id], owner: 'gaffer-new/w1' });
        await claim({ jobIds: [c.id], owner: 'other/w1' });
        assert.deepEqual(ids(await store.findOwnedByPrefix('gaffer-', 'gaffer-new/')), [a.id]);
      });
    });

    describe('cancel and requeue', () => {
      test('deleteQueued removes only jobs still queued', async () => {
        const [a, b] = await store.insert([newJob(), newJob()]);
        assert.ok(a && b);
        await claim({ jobIds: [b.id] });
        assert.equal(await store.deleteQueued([a.id, b.id, 'missing']), 1);
        assert.equal(await store.get(a.id), undefined);
        assert.equal((await store.get(b.id))?.state, 'running');
      });

      test('cancel: queued ends at once, in flight is flagged, ended is untouched', async () => {
        const [queued, running] = await store.insert([newJob(), newJob()]);
        assert.ok(queued && running);
        const token = tokenOf((await claim({ jobIds: [running.id] }))[0]);

        const cancelled = await store.cancel(queued.id, NOW + 1);
        assert.equal(cancelled?.state, 'cancelled');
        assert.equal(cancelled?.finishedAt, NOW + 1);

        const flagged = await store.cancel(running.id, NOW + 2);
        assert.equal(flagged?.state, 'running');
        assert.equal(flagged?.cancelRequested, true);
        assert.equal(flagged?.finishedAt, null);
        const [ended] = await store.finish([
          { id: running.id, token, now: NOW + 3, to: 'cancelled' },
        ]);
        assert.equal(ended?.state, 'cancelled');

        assert.deepEqual(await store.cancel(running.id, NOW + 4), ended);
        assert.equal(await store.cancel('missing', NOW), undefined);
      });

      test('a cancel-requested job that goes back to queued is not claimed', async () => {
        const [job] = await store.insert([newJob()]);
        assert.ok(job);
        const token = tokenOf((await claim())[0]);
        await store.cancel(job.id, NOW);
        await store.finish([
          { id: job.id, token, now: NOW, to: 'queued', runAt: NOW, error: BOOM },
        ]);
        assert.deepEqual(await claim(), []);
      });

      test('requeue: an unsuccessful ended job starts over; others are unchanged', async () => {
        const [failing, ok, waiting] = await store.insert([newJob(), newJob(), newJob()]);
        assert.ok(failing && ok && waiting);
        const claimed = await claim({ limit: 2 });
        const token = (id: string) => tokenOf(claimed.find((j) => j.id === id));
        await store.finish([
          { id: failing.id, token: token(failing.id), now: NOW, to: 'dead_lettered', error: BOOM },
          { id: ok.id, token: token(ok.id), now: NOW, to: 'succeeded', result: 'fine' },
        ]);

        const requeued = await store.requeue(failing.id, NOW + 50);
        assert.equal(requeued?.state, 'queued');
        assert.equal(requeued?.attempt, 0);
        assert.equal(requeued?.runAt, NOW + 50);
        assert.equal(requeued?.error, null);
        assert.equal(requeued?.finishedAt, null);
        assert.equal(requeued?.cancelRequested, false);
        const [again] = await claim({ now: NOW + 50, jobIds: [failing.id] });
        assert.ok(tokenOf(again) > token(failing.id));
        assert.equal(again?.attempt, 1);

        const succeeded = await store.get(ok.id);
        assert.deepEqual(await store.requeue(ok.id, NOW + 50), succeeded);
        assert.equal((await store.requeue(waiting.id, NOW + 50))?.state, 'queued');
        assert.equal(await store.requeue('missing', NOW), undefined);
      });

      test('requeue clears the cancel request of a cancelled job', async () => {
        const [job] = await store.insert([newJob()]);
        assert.ok(job);
        const token = tokenOf((await claim())[0]);
        await store.cancel(job.id, NOW);
        await store.finish([{ id: job.id, token, now: NOW, to: 'cancelled' }]);
        assert.equal((await store.requeue(job.id, NOW))?.cancelRequested, false);
        assert.deepEqual(ids(await claim()), [job.id]);
      });
    });
  });
}
