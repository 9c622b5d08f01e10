import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Job, JobError, NewJob } from '../../src/domain/job.ts';
import { logTrimMarker, type JobStore } from '../../src/store/job-store.ts';
import { jobFactory } from './new-job.ts';

/** Store-clock times: jobs are created at T0 + n; they end at the times each test gives. */
const T0 = 1_700_000_000_000;
const BOOM: JobError = { class: 'application', message: 'boom', exitCode: 3 };
type Ended = 'succeeded' | 'failed' | 'timed_out' | 'cancelled' | 'dead_lettered';

/**
 * The job lifecycle's store operations, run against every JobStore: dead-letter edit and replay, and the
 * retention primitives (purge of ended jobs, log trimming). `makeStore` returns a fresh store.
 */
export function describeLifecycleContract(name: string, makeStore: () => Promise<JobStore>): void {
  describe(`JobStore lifecycle contract: ${name}`, () => {
    let store: JobStore;
    const newJob = jobFactory(T0, { maxAttempts: 2 });
    /** Inserts a job, claims it and ends it in `to` at `at`. */
    const ended = async (to: Ended, at: number, over: Partial<NewJob> = {}): Promise<Job> => {
      const [job] = await store.insert([newJob(over)]);
      const [claimed] = await store.claim({
        type: 'render',
        owner: 'w',
        limit: 1,
        now: T0 + 1e6, // after every job's runAt; the end time is `at`
        leaseExpiresAt: T0 + 2e6,
        to: 'running',
        jobIds: [job!.id],
      });
      const token = claimed!.leaseToken!;
      const update =
        to === 'succeeded'
          ? { id: job!.id, token, now: at, to, result: { ok: true } }
          : to === 'cancelled'
            ? { id: job!.id, token, now: at, to }
            : { id: job!.id, token, now: at, to, error: BOOM };
      const [after] = await store.finish([update]);
      assert.equal(after?.state, to);
      return after!;
    };
    const stateOf = async (id: string) => (await store.get(id))?.state;

    beforeEach(async () => {
      store = await makeStore();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('dead letters', () => {
      test('a dead-lettered job is edited, then replayed as a fresh run counted in replays', async () => {
        const dead = await ended('dead_lettered', T0 + 100);
        assert.equal(dead.attempt, 1);
        assert.deepEqual(dead.error, BOOM);

        const edited = await store.editDeadLettered(dead.id, {
          payload: { fixed: true },
          maxAttempts: 5,
          priority: 7,
        });
        assert.deepEqual(
          [edited?.state, edited?.payload, edited?.maxAttempts, edited?.priority],
          ['dead_lettered', { fixed: true }, 5, 7],
        );
        assert.deepEqual(edited?.error, BOOM, 'the last error stays visible until the replay');

        const [replayed] = await store.replayDeadLettered([dead.id], T0 + 200);
        assert.equal(replayed?.state, 'queued');
        assert.equal(replayed?.attempt, 0);
        assert.equal(replayed?.replays, 1);
        assert.equal(replayed?.runAt, T0 + 200);
        assert.equal(replayed?.error, null);
        assert.equal(replayed?.finishedAt, null);
        assert.deepEqual(await store.get(dead.id), replayed);

        const [again] = await store.claim({
          type: 'render',
          owner: 'w2',
          limit: 1,
          now: T0 + 200,
          leaseExpiresAt: T0 + 2e6,
          to: 'running',
        });
        assert.deepEqual(
          [again?.id, again?.attempt, again?.payload],
          [dead.id, 1, { fixed: true }],
        );
      });

      test('an edit changes only the fields given; null is a payload like any other', async () => {
        const dead = await ended('dead_lettered', T0 + 100, { priority: 3 });
        const edited = await store.editDeadLettered(dead.id, { payload: null });
        assert.deepEqual([edited?.payload, edited?.priority, edited?.maxAttempts], [null, 3, 2]);
        const raised = await store.editDeadLettered(dead.id, { maxAttempts: 9 });
        assert.deepEqual([raised?.payload, raised?.maxAttempts], [null, 9]);
        assert.deepEqual(await store.editDeadLettered(dead.id, {}), raised);
      });

      test('edit and replay leave jobs in any other state alone (compare-and-set)', async () => {
        const [queued] = await store.insert([newJob()]);
        const failed = await ended('failed', T0 + 100);
        const dead = await ended('dead_lettered', T0 + 100);

        assert.deepEqual(await store.editDeadLettered(queued!.id, { payload: 'x' }), queued);
        assert.deepEqual(await store.editDeadLettered(failed.id, { priority: 1 }), failed);
        assert.equal(await store.editDeadLettered('missing', { priority: 1 }), undefined);

        const replayed = await store.replayDeadLettered(
          [queued!.id, failed.id, 'missing', dead.id],
          T0 + 300,
        );
        assert.deepEqual(
          replayed.map((j) => j.id),
          [dead.id],
        );
        assert.deepEqual(await store.replayDeadLettered([dead.id], T0 + 301), [], 'only once');
        assert.equal(await stateOf(failed.id), 'failed');
      });

      test('replays keep the order of the ids given', async () => {
        const a = await ended('dead_lettered', T0 + 100);
        const b = await ended('dead_lettered', T0 + 100);
        const c = await ended('dead_lettered', T0 + 100);
        const out = await store.replayDeadLettered([c.id, a.id, b.id], T0 + 200);
        assert.deepEqual(
          out.map((j) => j.id),
          [c.id, a.id, b.id],
        );
      });

      test('a manual retry (requeue) counts as a replay too', async () => {
        const failed = await ended('failed', T0 + 100);
        const requeued = await store.requeue(failed.id, T0 + 200);
        assert.deepEqual([requeued?.state, requeued?.attempt, requeued?.replays], ['queued', 0, 1]);
      });
    });

    describe('retention: purge of ended jobs', () => {
      const ALL_ENDED = ['succeeded', 'failed', 'timed_out', 'cancelled'] as const;

      test('deletes ended jobs older than the cut, with their logs; never others', async () => {
        const old = await ended('succeeded', T0 + 1000);
        const oldFailed = await ended('failed', T0 + 1500);
        const oldDead = await ended('dead_lettered', T0 + 1000);
        const fresh = await ended('succeeded', T0 + 5000);
        const [queued] = await store.insert([newJob()]);
        await store.appendLog(old.id, 'stdout', 'old line\n', T0);
        await store.appendLog(fresh.id, 'stdout', 'fresh line\n', T0);

        const deleted = await store.purgeEnded({
          states: ALL_ENDED,
          endedBefore: T0 + 2000,
          keepNewest: null,
          limit: 100,
        });
        assert.equal(deleted, 2);
        assert.equal(await store.get(old.id), undefined);
        assert.equal(await store.get(oldFailed.id), undefined);
        assert.deepEqual(await store.logs(old.id), [], 'logs go with their job');
        assert.equal(await stateOf(oldDead.id), 'dead_lettered', 'not in the states given');
        assert.equal(await stateOf(fresh.id), 'succeeded');
        assert.equal((await store.logs(fresh.id)).length, 1);
        assert.equal(await stateOf(queued!.id), 'queued');

        const withDead = await store.purgeEnded({
          states: [...ALL_ENDED, 'dead_lettered'],
          endedBefore: T0 + 2000,
          keepNewest: null,
          limit: 100,
        });
        assert.equal(withDead, 1);
        assert.equal(await store.get(oldDead.id), undefined);
      });

      test('keeps the newest N ended jobs by end time, in chunks of `limit`', async () => {
        const jobs: Job[] = [];
        for (const at of [50, 10, 40, 20, 30]) jobs.push(await ended('succeeded', T0 + at));
        const running = await store.insert([newJob()]);
        await store.claim({
          type: 'render',
          owner: 'w',
          limit: 1,
          now: T0 + 1e6,
          leaseExpiresAt: T0 + 9e9,
          to: 'running',
          jobIds: [running[0]!.id],
        });
        const req = { states: ALL_ENDED, endedBefore: null, keepNewest: 2, limit: 2 };
        assert.equal(await store.purgeEnded(req), 2, 'a chunk at most');
        assert.equal(await store.purgeEnded(req), 1);
        assert.equal(await store.purgeEnded(req), 0);
        const left = (await store.list({ limit: 10 })).jobs.map((j) => [j.finishedAt, j.state]);
        assert.deepEqual(
          left.sort(),
          [
            [T0 + 40, 'succeeded'],
            [T0 + 50, 'succeeded'],
            [null, 'running'],
          ].sort(),
        );
        assert.equal(await store.purgeEnded({ ...req, keepNewest: 0, limit: 100 }), 2);
      });

      test('the cut by age and the cut by count add up (either one deletes)', async () => {
        await ended('cancelled', T0 + 10);
        await ended('timed_out', T0 + 20);
        await ended('failed', T0 + 30);
        const deleted = await store.purgeEnded({
          states: ALL_ENDED,
          endedBefore: T0 + 15,
          keepNewest: 2,
          limit: 100,
        });
        assert.equal(deleted, 1);
        assert.equal(
          await store.purgeEnded({
            states: ALL_ENDED,
            endedBefore: T0 + 25,
            keepNewest: 2,
            limit: 100,
          }),
          1,
        );
      });
    });

    describe('retention: log trimming', () => {
      const line = (i: number) => `line ${String(i).padStart(3, '0')} ${'x'.repeat(90)}\n`; // 100 B
      const bytes = (lines: { data: string }[]) =>
        lines.reduce((sum, l) => sum + Buffer.byteLength(l.data), 0);

      test('keeps the newest lines that fit under a marker; idempotent; again after more lines', async () => {
        const [big, small] = await store.insert([newJob(), newJob()]);
        for (let i = 0; i < 30; i++) await store.appendLog(big!.id, 'stdout', line(i), T0 + i);
        await store.appendLog(small!.id, 'stdout', line(0), T0);
        const max = 1024;
        const marker = logTrimMarker(max);

        const first = await store.trimLogs(max, 0);
        assert.deepEqual(first.trimmed, [big!.id]);
        const kept = await store.logs(big!.id);
        // Each 100-byte entry is one line: the entry at the cut keeps no whole line, only the marker.
        assert.equal(kept[0]?.data, marker);
        assert.ok(bytes(kept) <= max, `${bytes(kept)} bytes kept`);
        const fit = Math.floor((max - Buffer.byteLength(marker)) / 100);
        assert.deepEqual(
          kept.slice(1).map((l) => l.data),
          Array.from({ length: fit }, (_, k) => line(30 - fit + k)),
          'the newest lines, oldest first',
        );
        assert.ok(kept.every((l, i) => i === 0 || l.seq > kept[i - 1]!.seq));
        assert.equal((await store.logs(small!.id)).length, 1);

        assert.deepEqual((await store.trimLogs(max, first.lastSeq)).trimmed, []);
        assert.deepEqual((await store.trimLogs(max, 0)).trimmed, [], 'a cut log is within its cap');

        for (let i = 30; i < 35; i++) await store.appendLog(big!.id, 'stdout', line(i), T0 + i);
        const second = await store.trimLogs(max, first.lastSeq);
        assert.deepEqual(second.trimmed, [big!.id]);
        const after = await store.logs(big!.id);
        assert.equal(after.filter((l) => l.data.includes(marker)).length, 1, 'one marker');
        assert.ok(after[0]?.data.startsWith(marker));
        assert.equal(after.at(-1)?.data, line(34));
        assert.ok(bytes(after) <= max);
        assert.ok(second.lastSeq > first.lastSeq);
      });

      test('an entry of many lines at the cut keeps its newest whole lines after the marker', async () => {
        const [job] = await store.insert([newJob()]);
        const chunk = Array.from({ length: 40 }, (_, i) => line(i)).join(''); // 4000 B, one entry
        await store.appendLog(job!.id, 'stdout', 'an older entry\n', T0);
        await store.appendLog(job!.id, 'stdout', chunk, T0 + 1);
        const max = 1024;
        assert.deepEqual((await store.trimLogs(max, 0)).trimmed, [job!.id]);
        const kept = await store.logs(job!.id);
        assert.equal(kept.length, 1);
        const marker = logTrimMarker(max);
        assert.ok(kept[0]!.data.startsWith(marker));
        const tail = kept[0]!.data.slice(marker.length);
        const fit = Math.floor((max - Buffer.byteLength(marker)) / 100);
        assert.equal(tail, Array.from({ length: fit }, (_, k) => line(40 - fit + k)).join(''));
        assert.deepEqual((await store.trimLogs(max, 0)).trimmed, [], 'within its cap now');
      });
    });
  });
}
