import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OffsetClock } from '../../../src/domain/clock.ts';
import type { Job } from '../../../src/domain/job.ts';
import { startGaffer, until, type TestGaffer } from '../../helpers/gaffer.ts';
import type { BrokerModeSetup } from './suite.ts';
import { mostAtOnce } from '../../helpers/in-flight.ts';

const HANDLERS = 'test/e2e/fixtures/handlers.ts';
const DELAYS = 'test/e2e/fixtures/delays.ts';

/**
 * Time and flow control in broker mode, the same on every broker: schedules, catch-up, rate and
 * key limits, pause, expiry, snooze, retry-after and debounce, each through a real gaffer, real worker
 * processes and a real broker. Every test checks that each job started once (more only where a
 * snooze or a retry runs it again), that none is lost, and that the broker holds nothing after.
 */
export function describeBrokerFlow(
  name: string,
  setup: () => Promise<BrokerModeSetup>,
  options: { skip?: boolean } = {},
): void {
  const skip = options.skip ?? false;
  describe(`broker mode, time and flow control: ${name}`, { skip }, () => {
    let g: TestGaffer;
    let s: BrokerModeSetup;
    /** How often each job was handed to a worker (`job:started`), by id. */
    const starts = new Map<string, number>();
    const queue = (type: string) => `${type}-${process.pid}`;
    before(async () => {
      s = await setup();
      g = await startGaffer({
        broker: s.config(),
        autoscaler: { intervalMs: 100 },
        jobTypes: {
          tick: { queue: queue('tick'), worker: { handler: `${HANDLERS}#row` } },
          metered: {
            queue: queue('metered'),
            worker: { handler: `${HANDLERS}#row` },
            concurrency: 4,
            rateLimit: { starts: 10, perSeconds: 1 },
            scaling: { min: 0, max: 3 },
          },
          keyed: {
            queue: queue('keyed'),
            worker: { handler: `${HANDLERS}#row`, env: { ROW_DELAY_MS: '100' } },
            concurrency: 2,
            keyLimit: { key: 'payload.tenant', running: 2 },
            scaling: { min: 0, max: 4, threshold: 4 },
          },
          pausable: {
            queue: queue('pausable'),
            worker: { handler: `${HANDLERS}#row` },
            concurrency: 4,
            scaling: { min: 0, max: 1, idleSeconds: 2 },
          },
          snoozer: {
            queue: queue('snoozer'),
            worker: { handler: `${DELAYS}#snoozeOnce` },
            concurrency: 4,
            scaling: { min: 0, max: 1 },
          },
          retrier: {
            queue: queue('retrier'),
            worker: { handler: `${DELAYS}#retryAfterOnce` },
            retry: { maxAttempts: 2, backoffMs: 600_000 },
            concurrency: 4,
            scaling: { min: 0, max: 1 },
          },
          expiring: {
            queue: queue('expiring'),
            worker: { handler: `${HANDLERS}#row` },
            scaling: { min: 0, max: 1 },
          },
          debounced: {
            queue: queue('debounced'),
            worker: { handler: `${HANDLERS}#row` },
            scaling: { min: 0, max: 1 },
          },
        },
      });
      g.orch.events.on('job:started', ({ job }) => {
        starts.set(job.id, (starts.get(job.id) ?? 0) + 1);
      });
    });
    after(() => g?.close());

    const submit = async (type: string, items: object[]): Promise<string[]> => {
      const res = await g.app.inject({
        method: 'POST',
        url: '/v1/jobs/batch',
        payload: { type, jobs: items },
      });
      assert.equal(res.statusCode, 201, res.body);
      return (res.json() as { jobIds: string[] }).jobIds;
    };
    const jobsOf = async (type: string): Promise<Job[]> =>
      (await g.orch.store.list({ type, limit: 1000 })).jobs;
    const allSucceeded = (ids: readonly string[]) =>
      until(
        g,
        async () =>
          (await Promise.all(ids.map((id) => g.orch.store.get(id)))).every(
            (j) => j?.state === 'succeeded',
          ),
        ['job:succeeded'],
      );
    const startedOnce = (ids: readonly string[]) =>
      assert.deepEqual(
        ids.filter((id) => starts.get(id) !== 1),
        [],
        'every job started once',
      );

    test('a schedule firing every second: each tick publishes one job, which runs once', async () => {
      // `catchUp`: a pass that runs late (a loaded machine) fires every tick it missed, not the
      // latest only, so each second has its job.
      const put = await g.app.inject({
        method: 'PUT',
        url: '/v1/schedules/every-second',
        payload: {
          cron: '* * * * * *',
          submit: { type: 'tick', payload: { id: 'tick' } },
          missed: { catchUp: 10 },
        },
      });
      assert.equal(put.statusCode, 201, put.body);
      await until(g, async () => {
        const done = (await jobsOf('tick')).filter((j) => j.state === 'succeeded');
        return done.length >= 3;
      }, ['job:succeeded']);
      const del = await g.app.inject({ method: 'DELETE', url: '/v1/schedules/every-second' });
      assert.equal(del.statusCode, 204, del.body);
      // A pass under way when it was deleted may still submit its tick: settle on what is there;
      // one submitted after that is left out of the count (the broker check waits for it).
      const settled = async () => (await jobsOf('tick')).every((j) => j.state === 'succeeded');
      await until(g, settled, ['job:succeeded', 'job:queued']);
      const jobs = (await jobsOf('tick')).filter((j) => j.state === 'succeeded');
      const ticks = jobs.map((j) => Date.parse(j.idempotencyKey!.split(':').slice(2).join(':')));
      ticks.sort((x, y) => x - y);
      assert.equal(new Set(ticks).size, ticks.length, 'one job per tick');
      assert.deepEqual(
        ticks.map((t) => t - ticks[0]!),
        ticks.map((_, i) => i * 1000),
        'every second, none skipped',
      );
      startedOnce(jobs.map((j) => j.id));
      assert.ok(jobs.every((j) => j.attempt === 1));
      await brokerEmpty(s, g, 'tick');
    });

    test('a rate limit of 10 starts a second: 60 jobs, never an 11th start within a second', async (t) => {
      const ids = await submit(
        'metered',
        Array.from({ length: 60 }, (_, i) => ({ payload: { id: String(i) } })),
      );
      await allSucceeded(ids);
      const jobs = await Promise.all(ids.map(async (id) => (await g.orch.store.get(id))!));
      const at = jobs.map((j) => j.startedAt!).sort((x, y) => x - y);
      t.diagnostic(`60 starts over ${at.at(-1)! - at[0]!} ms`);
      for (let i = 0; i + 10 < at.length; i++) {
        assert.ok(
          at[i + 10]! - at[i]! >= 1000,
          `starts ${i}, ${i + 10}: ${at[i + 10]! - at[i]!} ms`,
        );
      }
      startedOnce(ids);
      assert.ok(
        jobs.every((j) => j.attempt === 1),
        'a held job spent no attempt',
      );
      await brokerEmpty(s, g, 'metered');
    });

    test('a key limit of 2: the big key never runs 3; the small key finishes while the big one waits', async (t) => {
      const big = await submit(
        'keyed',
        Array.from({ length: 60 }, (_, i) => ({ payload: { tenant: 'big', id: String(i) } })),
      );
      const small = await submit(
        'keyed',
        Array.from({ length: 10 }, (_, i) => ({ payload: { tenant: 'small', id: String(i) } })),
      );
      let bigLeft = -1;
      await until(g, async () => {
        const jobs = await jobsOf('keyed');
        const done = (tenant: string) =>
          jobs.filter(
            (j) => (j.payload as { tenant: string }).tenant === tenant && j.state === 'succeeded',
          ).length;
        if (done('small') < small.length) return false;
        if (bigLeft < 0) bigLeft = big.length - done('big');
        return done('big') === big.length;
      }, ['job:succeeded']);
      t.diagnostic(
        `the big key had ${bigLeft} of ${big.length} jobs left when the small one finished`,
      );
      // Fair turns run the small key's 10 beside the big key's first ~10: its backlog is not
      // ahead of them.
      assert.ok(bigLeft >= big.length / 2, 'the small key finished with the big key half to go');
      const jobs = await jobsOf('keyed');
      assert.ok(mostAtOnce(jobs, 'big') <= 2, `big: ${mostAtOnce(jobs, 'big')} at once`);
      assert.ok(mostAtOnce(jobs, 'small') <= 2, `small: ${mostAtOnce(jobs, 'small')} at once`);
      startedOnce([...big, ...small]);
      await brokerEmpty(s, g, 'keyed');
    });

    test('a paused type: its delivered messages start nothing and stay in the broker; resumed, its backlog drains', async () => {
      // A worker to receive the messages: it is up and idle when the type is paused.
      const [first] = await submit('pausable', [{ payload: { id: 'first' } }]);
      await allSucceeded([first!]);
      await g.orch.service.pause('pausable');
      const ids = await submit(
        'pausable',
        Array.from({ length: 5 }, (_, i) => ({ payload: { id: String(i) } })),
      );
      // A paused backlog is no demand: the idle worker retires, handing back what it holds.
      await until(g, () => g.orch.gateway.workers('pausable').length === 0, [
        'worker:stopped',
        'scaler:decision',
      ]);
      assert.deepEqual(
        ids.filter((id) => starts.has(id)),
        [],
        'nothing started while paused',
      );
      await brokerHolds(s, g, 'pausable', { ready: 5, unacked: 0 });
      await g.orch.service.resume('pausable');
      await allSucceeded(ids);
      startedOnce(ids);
      await brokerEmpty(s, g, 'pausable');
    });

    test('a snoozed job and a retry-after are published again when due and run to the end', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-snooze-'));
      try {
        const snoozed = await submit(
          'snoozer',
          Array.from({ length: 3 }, () => ({ payload: { dir, snoozeMs: 300 } })),
        );
        const retried = await submit(
          'retrier',
          Array.from({ length: 3 }, () => ({ payload: { retryAfterMs: 300 } })),
        );
        await allSucceeded([...snoozed, ...retried]);
        for (const id of snoozed) {
          const job = (await g.orch.store.get(id))!;
          assert.equal(starts.get(id), 2, 'snoozed once, then run');
          assert.deepEqual([job.attempt, job.result], [1, { attempt: 1 }], 'no attempt spent');
        }
        for (const id of retried) {
          const job = (await g.orch.store.get(id))!;
          assert.equal(starts.get(id), 2, 'failed once, then run');
          assert.deepEqual(
            job.result,
            { attempt: 2 },
            'after its delay, not the 10-minute backoff',
          );
        }
        await brokerEmpty(s, g, 'snoozer');
        await brokerEmpty(s, g, 'retrier');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('a job expired in the queue never runs: its message is spent when delivered', async () => {
      // Paused: nothing starts them before they expire; their messages wait in the broker.
      await g.orch.service.pause('expiring');
      const ids = await submit(
        'expiring',
        [1, 2, 3].map((n) => ({ payload: { id: String(n) }, expireIn: '1s' })),
      );
      await until(
        g,
        async () =>
          (await Promise.all(ids.map((id) => g.orch.store.get(id)))).every(
            (j) => j?.state === 'expired',
          ),
        ['job:expired'],
      );
      await g.orch.service.resume('expiring');
      // A job that may run brings a worker, which is delivered the expired ones' messages first.
      const fresh = await submit('expiring', [{ payload: { id: 'fresh' } }]);
      await allSucceeded(fresh);
      startedOnce(fresh);
      assert.deepEqual(
        ids.filter((id) => starts.has(id)),
        [],
        'no expired job started',
      );
      await brokerEmpty(s, g, 'expiring');
    });

    // Last: it moves gaffer's clock.
    test('a debounced job runs once, with the last payload, after its window', async () => {
      // Paused while submitting: no worker takes the job before the second submission moves it.
      await g.orch.service.pause('debounced');
      const one = (n: number) => ({
        payload: { id: String(n) },
        idempotencyKey: 'debounced',
        dedup: { mode: 'debounce', debounceSeconds: 5 },
      });
      const [a] = await submit('debounced', [one(1)]);
      const [b] = await submit('debounced', [one(2)]);
      assert.equal(b, a, 'the second submission replaced the first');
      await g.orch.service.resume('debounced');
      // Not due: a worker offered its first message is refused it.
      await until(g, () => g.orch.gateway.workers('debounced').length > 0, ['worker:state']);
      assert.equal(starts.has(a!), false);
      g.clock.advance(5_000);
      await g.orch.republishMissing(); // the due sweep: published as it falls due
      await allSucceeded([a!]);
      startedOnce([a!]);
      assert.deepEqual((await g.orch.store.get(a!))!.result, { id: '2' }, 'the last payload');
      await brokerEmpty(s, g, 'debounced');
    });
  });

  /** Stop gaffer, let ticks pass on its clock, start it again: `catchUp: 3` runs three, once. */
  describe(`broker mode, schedule catch-up: ${name}`, { skip }, () => {
    test('after downtime, catch-up 3 publishes the three latest missed ticks, each run once', async () => {
      const s = await setup();
      const clock = new OffsetClock();
      const config = {
        broker: s.config(),
        autoscaler: { intervalMs: 100 },
        jobTypes: {
          beat: { queue: `beat-${process.pid}`, worker: { handler: `${HANDLERS}#row` } },
        },
      };
      const first = await startGaffer(config, undefined, { clock });
      // Ten ticks, whole seconds from 2 s ahead (a new schedule fires no past tick): the cron's
      // seconds field lists them, so no other tick falls due during the test. Declared through
      // the API, so the store keeps it across the restart.
      const t0 = Math.ceil(clock.now() / 1000) * 1000 + 2000;
      const ticks = Array.from({ length: 10 }, (_, i) => t0 + i * 1000);
      const put = await first.app.inject({
        method: 'PUT',
        url: '/v1/schedules/beat',
        payload: {
          cron: `${ticks.map((t) => new Date(t).getUTCSeconds()).join(',')} * * * * *`,
          submit: { type: 'beat', payload: { id: 'beat' } },
          missed: { catchUp: 3 },
        },
      });
      assert.equal(put.statusCode, 201, put.body);
      const dir = first.dataDir;
      const started = new Map<string, number>();
      const count = (gaffer: TestGaffer) =>
        gaffer.orch.events.on('job:started', ({ job }) => {
          started.set(job.id, (started.get(job.id) ?? 0) + 1);
        });
      count(first);
      const tickOf = (j: Job) => Date.parse(j.idempotencyKey!.split(':').slice(2).join(':'));
      const beats = async (gaffer: TestGaffer) =>
        (await gaffer.orch.store.list({ type: 'beat', limit: 1000 })).jobs.sort(
          (x, y) => tickOf(x) - tickOf(y),
        );
      let second: TestGaffer | undefined;
      try {
        await until(first, async () => (await beats(first)).some((j) => j.state === 'succeeded'), [
          'job:succeeded',
        ]);
        await first.stop();
        // The downtime: past the last tick, on gaffer's clock.
        clock.advance(Math.max(0, ticks.at(-1)! + 500 - clock.now()));
        const restartedAt = clock.now();
        second = await startGaffer(config, dir, { clock });
        count(second);
        const g2 = second;
        await until(g2, async () => {
          const jobs = await beats(g2);
          return (
            jobs.filter((j) => j.createdAt >= restartedAt).length >= 3 &&
            jobs.every((j) => j.state === 'succeeded')
          );
        }, ['job:succeeded']);
        const jobs = await beats(g2);
        const before = jobs.filter((j) => j.createdAt < restartedAt).map(tickOf);
        const caught = jobs.filter((j) => j.createdAt >= restartedAt);
        assert.deepEqual(before, ticks.slice(0, before.length), 'before the stop, every tick');
        assert.deepEqual(caught.map(tickOf), ticks.slice(-3), 'the three latest missed ticks');
        assert.deepEqual(
          jobs.filter((j) => started.get(j.id) !== 1).map(tickOf),
          [],
          'each job started once',
        );
        await brokerEmpty(s, g2, 'beat');
      } finally {
        await second?.stop();
        await first.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** Re-reads the queue's stats until they are `want` (broker statistics trail acks), bounded. */
async function brokerHolds(
  s: BrokerModeSetup,
  g: TestGaffer,
  type: string,
  want: { ready: number; unacked: number },
): Promise<void> {
  const broker = await s.connect(g);
  try {
    const queue = g.orch.catalog.type(type)!.queue;
    let stats = await broker.stats(queue);
    for (
      let i = 0;
      i < 100 && (stats.ready !== want.ready || stats.unacked !== want.unacked);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 50));
      stats = await broker.stats(queue);
    }
    assert.deepEqual({ ready: stats.ready, unacked: stats.unacked }, want, `${type}'s queue`);
  } finally {
    await broker.close();
  }
}

const brokerEmpty = (s: BrokerModeSetup, g: TestGaffer, type: string) =>
  brokerHolds(s, g, type, { ready: 0, unacked: 0 });
