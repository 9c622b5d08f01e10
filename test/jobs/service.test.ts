import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import type { JobError } from '../../src/domain/job.ts';
import { GafferError } from '../../src/errors.ts';
import { jobsHarness, T0, type JobsHarness } from '../helpers/jobs.ts';

// The job service on a manual clock and a :memory: store: every time it writes is the clock's,
// every worker write is fenced by the lease token. No process, no sleep.

const TTL = 10_000;
const BOOM: JobError = { class: 'application', message: 'boom' };

function setup(t: TestContext, raw: Record<string, unknown> = {}): JobsHarness {
  const h = jobsHarness(raw);
  t.after(() => h.close());
  return h;
}

/** A type that retries twice in all, after `backoffMs`. */
const retrying = (backoffMs: number) => ({
  jobTypes: {
    echo: { worker: { command: ['true'] }, retry: { maxAttempts: 2, backoffMs } },
  },
});

const isCode = (code: string) => (err: unknown) => err instanceof GafferError && err.code === code;

describe('submit and claim on the clock', () => {
  test('a job is created, leased and started at the clock time; its lease runs the TTL', async (t) => {
    const h = setup(t);
    h.clock.advance(500);
    const job = await h.submit();
    assert.deepEqual(
      [job.state, job.createdAt, job.runAt, job.attempt],
      ['queued', T0 + 500, T0 + 500, 0],
    );
    h.clock.advance(250);
    const [claimed] = await h.service.claim('echo', 'w-1', 1, 'running');
    assert.deepEqual(
      [claimed?.id, claimed?.state, claimed?.attempt, claimed?.leaseOwner],
      [job.id, 'running', 1, 'w-1'],
    );
    assert.equal(claimed?.startedAt, T0 + 750);
    assert.equal(claimed?.leaseExpiresAt, T0 + 750 + TTL);
    assert.deepEqual(await h.service.claim('echo', 'w-2', 1, 'running'), [], 'leased once');
  });

  test('an idempotency key returns the first job for an equal submission, refuses a different one', async (t) => {
    const h = setup(t);
    const first = await h.service.submit({ type: 'echo', payload: { n: 1 }, idempotencyKey: 'k' });
    const again = await h.service.submit({ type: 'echo', payload: { n: 1 }, idempotencyKey: 'k' });
    assert.deepEqual([first.created, again.created, again.job.id], [true, false, first.job.id]);
    await assert.rejects(
      h.service.submit({ type: 'echo', payload: { n: 2 }, idempotencyKey: 'k' }),
      isCode('GAFFER_IDEMPOTENCY_CONFLICT'),
    );
  });

  test('a claim of named jobs leases only those queued and due (the broker-mode refusals)', async (t) => {
    const h = setup(t, retrying(5_000));
    const running = await h.submit();
    const [leased] = await h.service.claim('echo', 'w-1', 1, 'running', [running.id]);
    const cancelled = await h.submit();
    await h.service.cancel(cancelled.id);
    const backingOff = await h.submit();
    const [b] = await h.service.claim('echo', 'w-1', 1, 'running', [backingOff.id]);
    await h.service.complete(b!, b!.leaseToken!, { status: 'failed', error: BOOM });
    const queued = await h.submit();

    const ids = [running.id, cancelled.id, backingOff.id, queued.id, 'no-such-job'];
    const got = await h.service.claim('echo', 'w-2', ids.length, 'running', ids);
    assert.deepEqual(
      got.map((j) => j.id),
      [queued.id],
      'running elsewhere, ended, not due yet or unknown: refused',
    );
    assert.equal((await h.service.get(running.id)).leaseToken, leased!.leaseToken, 'untouched');
  });
});

describe('fencing: every worker write carries the current lease token', () => {
  test('a heartbeat renews the lease from the clock time; a stale token renews nothing', async (t) => {
    const h = setup(t);
    await h.submit();
    const [job] = await h.service.claim('echo', 'w-1', 1, 'running');
    h.clock.advance(7_000);
    assert.equal(await h.service.heartbeat(job!.id, job!.leaseToken!), true);
    assert.equal((await h.service.get(job!.id)).leaseExpiresAt, T0 + 7_000 + TTL);
    assert.equal(await h.service.heartbeat(job!.id, job!.leaseToken! - 1), false);
    assert.equal((await h.service.get(job!.id)).leaseExpiresAt, T0 + 7_000 + TTL);
  });

  test('an attempt ends once: a second completion, or one under a stale token, is refused', async (t) => {
    const h = setup(t);
    await h.submit();
    const [job] = await h.service.claim('echo', 'w-1', 1, 'running');
    h.clock.advance(1_000);
    assert.equal(
      await h.service.complete(job!, job!.leaseToken! + 1, { status: 'succeeded', result: 'x' }),
      null,
    );
    const done = await h.service.complete(job!, job!.leaseToken!, {
      status: 'succeeded',
      result: 1,
    });
    assert.deepEqual([done?.state, done?.result, done?.finishedAt], ['succeeded', 1, T0 + 1_000]);
    const twice = await h.service.complete(job!, job!.leaseToken!, {
      status: 'failed',
      error: BOOM,
    });
    assert.equal(twice, null);
    assert.equal((await h.service.get(job!.id)).state, 'succeeded');
  });
});

describe('failures, retries and recovery', () => {
  test('a failure with attempts left is due again after its backoff on the clock; the last one ends it', async (t) => {
    const h = setup(t, retrying(4_000));
    await h.submit();
    const [first] = await h.service.claim('echo', 'w-1', 1, 'running');
    const retry = h.events.once('job:retrying');
    const queued = await h.service.complete(first!, first!.leaseToken!, {
      status: 'failed',
      error: BOOM,
    });
    assert.equal(queued?.state, 'queued');
    assert.deepEqual((await retry).error, BOOM);
    const wait = queued!.runAt - h.clock.now();
    assert.ok(wait >= 3_200 && wait <= 4_800, `backoff 4 s ± 20%: ${wait}`);

    h.clock.advance(wait - 1);
    assert.deepEqual(await h.service.claim('echo', 'w-1', 1, 'running'), [], 'not due yet');
    h.clock.advance(1);
    const [second] = await h.service.claim('echo', 'w-1', 1, 'running');
    assert.equal(second?.attempt, 2);
    const failed = h.events.once('job:failed');
    const ended = await h.service.complete(second!, second!.leaseToken!, {
      status: 'failed',
      error: BOOM,
    });
    assert.equal(ended?.state, 'dead_lettered', 'attempts spent: to the dead-letter queue');
    assert.equal((await failed).job.id, second!.id);
  });

  test('an abandoned attempt (its holder gone) is redelivered by cause; a suspect stays one', async (t) => {
    const h = setup(t, {
      jobTypes: {
        echo: { worker: { command: ['true'] }, retry: { maxAttempts: 3, backoffMs: 0 } },
      },
    });
    await h.submit();
    const [first] = await h.service.claim('echo', 'w-1', 1, 'running');
    const lost: JobError = { class: 'infrastructure', message: 'worker exited', workerLost: true };
    const redelivered = h.events.once('job:redelivered');
    const [back] = await h.service.abandon([first!], lost);
    assert.deepEqual(await redelivered, { job: back, cause: 'worker_lost' });
    assert.equal(back?.error?.workerLost, true, 'a suspect: its process died with it');

    const [second] = await h.service.claim('echo', 'w-2', 1, 'running');
    const expired: JobError = { class: 'infrastructure', message: 'lease expired' };
    const again = h.events.once('job:redelivered');
    const [still] = await h.service.abandon([second!], expired, 'lease_expired');
    assert.equal((await again).cause, 'lease_expired');
    assert.equal(still?.error?.workerLost, true, 'no word from the job clears no suspicion');
  });

  test("gaffer's stop hands an attempt back: queued at once, the attempt not counted", async (t) => {
    const h = setup(t);
    await h.submit();
    const [job] = await h.service.claim('echo', 'w-1', 1, 'running');
    h.clock.advance(2_000);
    const [back] = await h.service.interrupt([{ job: job!, token: job!.leaseToken! }]);
    assert.deepEqual([back?.state, back?.runAt, back?.attempt], ['queued', T0 + 2_000, 0]);
    assert.equal(back?.error?.interrupted, true);
  });
});

describe('cancel and retry', () => {
  test('cancel: a queued job ends at once; a running one is flagged, and its failure ends it cancelled', async (t) => {
    const h = setup(t, retrying(0));
    const queued = await h.submit();
    assert.equal((await h.service.cancel(queued.id)).state, 'cancelled');
    await assert.rejects(h.service.cancel(queued.id), isCode('GAFFER_NOT_CANCELLABLE'));

    await h.submit();
    const [running] = await h.service.claim('echo', 'w-1', 1, 'running');
    const flagged = await h.service.cancel(running!.id);
    assert.deepEqual([flagged.state, flagged.cancelRequested], ['running', true]);
    const after = await h.service.complete(running!, running!.leaseToken!, {
      status: 'failed',
      error: BOOM,
    });
    assert.equal(
      after?.state,
      'cancelled',
      'not retried: a retry of a cancelled job would never run',
    );
  });

  test('retry: an ended job goes back to the queue; a succeeded or queued one is refused', async (t) => {
    const h = setup(t);
    const queued = await h.submit();
    await assert.rejects(h.service.retry(queued.id), isCode('GAFFER_NOT_RETRYABLE'));
    await h.service.cancel(queued.id);
    h.clock.advance(3_000);
    const again = await h.service.retry(queued.id);
    assert.deepEqual([again.state, again.runAt], ['queued', T0 + 3_000]);
    const [job] = await h.service.claim('echo', 'w-1', 1, 'running');
    await h.service.complete(job!, job!.leaseToken!, { status: 'succeeded', result: null });
    await assert.rejects(h.service.retry(queued.id), isCode('GAFFER_NOT_RETRYABLE'));
  });
});

describe("a type's default dedup mode", () => {
  test('applies to keyed submissions naming none; a submission may name its own', async (t) => {
    const h = setup(t, {
      jobTypes: { echo: { worker: { command: ['true'] }, dedup: { mode: 'live' } } },
    });
    const first = await h.service.submit({ type: 'echo', payload: 1, idempotencyKey: 'k' });
    const again = await h.service.submit({ type: 'echo', payload: 2, idempotencyKey: 'k' });
    assert.deepEqual([again.created, again.job.id], [false, first.job.id], 'live: no conflict');
    const unkeyed = await h.service.submit({ type: 'echo', payload: 3 });
    assert.equal(unkeyed.created, true, 'no key: no dedup');
    const debounced = await h.service.submit({
      type: 'echo',
      payload: 4,
      idempotencyKey: 'k',
      dedup: { mode: 'debounce', debounceSeconds: 10 },
    });
    assert.deepEqual(
      [debounced.job.id, debounced.job.payload, debounced.job.runAt],
      [first.job.id, 4, T0 + 10_000],
      "the submission's own mode wins",
    );
  });
});

describe('handler-chosen delays', () => {
  test('a snooze queues the job again, due after the delay, its attempt not spent', async (t) => {
    const h = setup(t, retrying(5_000));
    await h.submit();
    const [job] = await h.service.claim('echo', 'w-1', 1, 'running');
    h.clock.advance(1_000);
    const retrying_ = h.events.once('job:retrying');
    const after = await h.service.complete(job!, job!.leaseToken!, {
      status: 'snoozed',
      delayMs: 30_000,
    });
    assert.deepEqual(
      [after?.state, after?.runAt, after?.attempt, after?.error?.snoozedMs],
      ['queued', T0 + 31_000, 0, 30_000],
    );
    assert.equal((await retrying_).job.id, job!.id, 'announced as due later (published then)');
    const [history] = await h.service.attempts(job!.id);
    assert.deepEqual([history?.outcome, history?.jobState], ['snoozed', 'queued']);
    // Snoozed many times over, a job with 2 attempts still has both.
    for (let i = 0; i < 3; i++) {
      h.clock.advance(30_000);
      const [again] = await h.service.claim('echo', 'w-1', 1, 'running');
      assert.equal(again?.attempt, 1);
      await h.service.complete(again!, again!.leaseToken!, { status: 'snoozed', delayMs: 30_000 });
    }
    h.clock.advance(30_000);
    const [last] = await h.service.claim('echo', 'w-1', 1, 'running');
    const failed = await h.service.complete(last!, last!.leaseToken!, {
      status: 'failed',
      error: BOOM,
    });
    assert.deepEqual([failed?.state, failed?.attempt], ['queued', 1], 'a failure then counts');
  });

  test('a snooze past the maximum fails the attempt, the refusal on the record', async (t) => {
    const h = setup(t, retrying(5_000));
    await h.submit();
    const [job] = await h.service.claim('echo', 'w-1', 1, 'running');
    const after = await h.service.complete(job!, job!.leaseToken!, {
      status: 'snoozed',
      delayMs: 8 * 24 * 3600 * 1000,
    });
    assert.equal(after?.state, 'queued');
    assert.equal(after?.attempt, 1, 'the attempt counted');
    assert.match(after?.error?.message ?? '', /snooze of 691200000 ms refused: at most/);
    assert.ok(after!.runAt <= T0 + 6_000, "retried after the type's backoff");
  });

  test('a retry-after replaces the backoff and spends the attempt; out of bounds, the backoff', async (t) => {
    const h = setup(t, retrying(5_000));
    await h.submit();
    const [job] = await h.service.claim('echo', 'w-1', 1, 'running');
    const after = await h.service.complete(job!, job!.leaseToken!, {
      status: 'failed',
      error: { ...BOOM, retryAfterMs: 60_000 },
    });
    assert.deepEqual([after?.state, after?.runAt, after?.attempt], ['queued', T0 + 60_000, 1]);

    await h.submit();
    const [other] = await h.service.claim('echo', 'w-1', 1, 'running');
    const refused = await h.service.complete(other!, other!.leaseToken!, {
      status: 'failed',
      error: { ...BOOM, retryAfterMs: -5 },
    });
    assert.equal(refused?.error?.retryAfterMs, undefined);
    assert.match(refused?.error?.message ?? '', /^boom \(retry after of -5 ms refused/);
    assert.ok(refused!.runAt <= T0 + 6_000, "the type's backoff");
  });

  test('a snooze after a cancel request ends the job cancelled', async (t) => {
    const h = setup(t);
    await h.submit();
    const [job] = await h.service.claim('echo', 'w-1', 1, 'running');
    await h.service.cancel(job!.id);
    const after = await h.service.complete(job!, job!.leaseToken!, {
      status: 'snoozed',
      delayMs: 1_000,
    });
    assert.equal(after?.state, 'cancelled');
  });
});
