import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Job, JobError } from '../../src/domain/job.ts';
import type {
  AuditEntry,
  ClaimRequest,
  FinishUpdate,
  JobStore,
  WorkerEvent,
} from '../../src/store/job-store.ts';
import { jobFactory } from './new-job.ts';

/** Store-clock times: jobs are created just after T0; NOW is well after every default runAt. */
const T0 = 1_700_000_000_000;
const NOW = T0 + 1_000_000;
const LEASE = NOW + 30_000;
const BOOM: JobError = { class: 'application', message: 'boom', exitCode: 1, signal: null };

const ids = (jobs: readonly Job[]) => jobs.map((j) => j.id);

/** The token of a claimed job; a claimed job always has one. */
function tokenOf(job: Job | undefined): number {
  assert.ok(job, 'expected a claimed job');
  assert.equal(typeof job.leaseToken, 'number');
  return job.leaseToken as number;
}

/**
 * The behaviour every JobStore must have (SQLite now, PostgreSQL later). `makeStore` must return a
 * fresh, empty store each call; the suite closes it after each test.
 */
export function describeJobStoreContract(name: string, makeStore: () => Promise<JobStore>): void {
  describe(`JobStore contract: ${name}`, () => {
    let store: JobStore;
    let newJob: ReturnType<typeof jobFactory>;
    const claim = (req: Partial<ClaimRequest> = {}) =>
      store.claim({
        type: 'render',
        owner: 'gaffer-1/w1',
        limit: 100,
        now: NOW,
        leaseExpiresAt: LEASE,
        to: 'running',
        ...req,
      });

    beforeEach(async () => {
      store = await makeStore();
      newJob = jobFactory(T0);
    });
    afterEach(async () => {
      await store.close();
    });

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

    describe('batches, decisions and worker events', () => {
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

      test('decisions: newest first, filtered by type, limited', async () => {
        const decision = (type: string, at: number) => ({
          type,
          at,
          from: 1,
          to: 3,
          retire: ['w1', 'w2'],
          reason: 'backlog',
          inputs: { ready: 40, inFlight: 2 },
        });
        const all = [decision('render', T0), decision('ocr', T0 + 1), decision('render', T0 + 2)];
        for (const d of all) await store.recordDecision(d);
        assert.deepEqual(await store.decisions({ limit: 10 }), [all[2], all[1], all[0]]);
        assert.deepEqual(await store.decisions({ type: 'render', limit: 10 }), [all[2], all[0]]);
        assert.deepEqual(await store.decisions({ limit: 1 }), [all[2]]);
      });

      test('worker events: newest first, filtered by type, limited', async () => {
        const event = (type: string, at: number, e: WorkerEvent['event']): WorkerEvent => ({
          at,
          workerId: `${type}-w1`,
          type,
          event: e,
          active: 0,
          detail: e === 'crashed' ? 'exit 137' : null,
        });
        const all = [
          event('render', T0, 'started'),
          event('ocr', T0 + 1, 'crashed'),
          event('render', T0 + 2, 'stopped'),
        ];
        for (const e of all) await store.recordWorkerEvent(e);
        assert.deepEqual(await store.workerEvents({ limit: 10 }), [all[2], all[1], all[0]]);
        assert.deepEqual(await store.workerEvents({ type: 'ocr', limit: 10 }), [all[1]]);
        assert.deepEqual(await store.workerEvents({ limit: 2 }), [all[2], all[1]]);
      });
    });

    describe('audit log', () => {
      const entry = (n: number, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
        at: T0 + n,
        actor: n % 2 ? 'ops' : 'alice',
        action: n % 3 ? 'job.cancel' : 'job.retry',
        target: `job-${n}`,
        outcome: 'ok',
        details: null,
        ...overrides,
      });

      test('round-trips every field, newest first, with a seq', async () => {
        const details = { code: 'GAFFER_FORBIDDEN', nested: { ids: ['a', 'b'], n: 2 } };
        await store.appendAudit(entry(1));
        await store.appendAudit(entry(2, { target: null, outcome: 'refused', details }));
        const { entries, nextCursor } = await store.listAudit({ limit: 10 });
        assert.equal(nextCursor, null);
        assert.deepEqual(
          entries.map(({ seq: _seq, ...rest }) => rest),
          [entry(2, { target: null, outcome: 'refused', details }), entry(1)],
        );
        assert.ok(entries[0]!.seq > entries[1]!.seq);
      });

      test('pages by cursor without gaps or repeats, also when entries are appended meanwhile', async () => {
        for (let n = 1; n <= 7; n++) await store.appendAudit(entry(n));
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listAudit({ limit: 3, ...(cursor ? { cursor } : {}) });
          assert.ok(page.entries.length <= 3);
          seen.push(...page.entries.map((e) => e.target!));
          if (seen.length === 3) await store.appendAudit(entry(99));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        assert.deepEqual(
          seen,
          [7, 6, 5, 4, 3, 2, 1].map((n) => `job-${n}`),
        );
      });

      test('filters by actor and by action, exactly', async () => {
        for (let n = 1; n <= 6; n++) await store.appendAudit(entry(n));
        const targets = async (filter: { actor?: string; action?: string }) =>
          (await store.listAudit({ limit: 10, ...filter })).entries.map((e) => e.target);
        assert.deepEqual(await targets({ actor: 'ops' }), ['job-5', 'job-3', 'job-1']);
        assert.deepEqual(await targets({ action: 'job.retry' }), ['job-6', 'job-3']);
        assert.deepEqual(await targets({ actor: 'ops', action: 'job.retry' }), ['job-3']);
        assert.deepEqual(await targets({ actor: 'op' }), []);
      });

      test('a cursor it did not issue is refused with GAFFER_BAD_REQUEST', async () => {
        await assert.rejects(store.listAudit({ limit: 10, cursor: 'bm9wZQ' }), {
          code: 'GAFFER_BAD_REQUEST',
        });
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
