import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ControlLoop, type ScalingTarget } from '../../src/autoscaler/control-loop.ts';
import type { ScalingConfig } from '../../src/config/schema.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { GafferEvents, type ScalingDecision, type WorkerInfo } from '../../src/domain/events.ts';
import type { Job } from '../../src/domain/job.ts';
import { stderrLogger } from '../helpers/log.ts';

// The loop feeds the pure policy what it needs beyond queue counts — arrival rate, p50 run time,
// last end (from job events), the desired history, the global capacity — and acts on it.
test('the control loop builds the observation from job events and shares the capacity', async () => {
  const clock = new ManualClock(1_000_000);
  const events = new GafferEvents(stderrLogger());
  const scaling: ScalingConfig = { min: 0, max: 30, threshold: 40, burst: 5, idleSeconds: 30 };
  const started: Record<string, number> = {};
  const records: ScalingDecision[] = [];
  const ready: Record<string, number> = { a: 100, b: 100 };
  const target: ScalingTarget = {
    types: () =>
      ['a', 'b'].map((name) => ({ name, mode: 'pool' as const, concurrency: 1, scaling })),
    queueStats: () =>
      Promise.resolve(
        ['a', 'b'].map((type) => ({
          type,
          ready: ready[type]!,
          delayed: 0,
          inFlight: 0,
          byState: {},
          oldestReadyAt: null,
        })),
      ),
    workers: (): WorkerInfo[] => [],
    start: (type, count) => {
      started[type] = (started[type] ?? 0) + count;
      return Promise.resolve();
    },
    retire: () => {},
    record: (d) => {
      records.push(d);
      return Promise.resolve();
    },
    capacity: () => 40,
  };
  const loop = new ControlLoop({
    target,
    clock,
    events,
    intervalMs: 1000,
    log: stderrLogger(),
  });
  const job = (type: string, startedAt: number, finishedAt: number) =>
    ({ type, startedAt, finishedAt }) as unknown as Job;
  events.emit('job:queued', { jobs: Array.from({ length: 120 }, () => job('a', 0, 0)) });
  for (const run of [4000, 6000, 8000]) {
    events.emit('job:succeeded', { job: job('a', 990_000 - run, 990_000) });
  }
  await loop.tick();
  assert.deepEqual(started, { a: 20, b: 20 }, 'capacity 40 split evenly');
  const a = loop.lastDecisions().get('a')!;
  assert.equal(a.inputs.arrivalRate, 2);
  assert.equal(a.inputs.runP50Ms, 6000);
  assert.equal(a.inputs.lastFinishedAt, 990_000);
  assert.match(
    a.reason,
    /global capacity 40 .* allows 20 of 30; alone: 0 → 30: ready 100, in flight 0, arrivals 2\/s, p50 run 6 s, drain target 30 s/,
  );
  assert.equal(records.length, 2);
});

test('a delayed job is no arrival: it is demand once due, as a ready job', async () => {
  const clock = new ManualClock(1_000_000);
  const events = new GafferEvents(stderrLogger());
  const loop = new ControlLoop({
    target: {
      types: () => [
        { name: 'a', mode: 'pool' as const, concurrency: 1, scaling: { min: 0, max: 5 } },
      ],
      queueStats: async () => [],
      workers: () => [],
      start: async () => {},
      retire: () => {},
      record: async () => {},
      capacity: () => null,
    } as unknown as ScalingTarget,
    clock,
    events,
    intervalMs: 1000,
    log: stderrLogger(),
  });
  const job = (runAt: number) => ({ type: 'a', runAt }) as unknown as Job;
  events.emit('job:queued', { jobs: Array.from({ length: 60 }, () => job(clock.now() + 60_000)) });
  assert.equal(loop.activity.rate('a', clock.now()), 0);
  events.emit('job:queued', { jobs: [job(clock.now())] });
  assert.ok(loop.activity.rate('a', clock.now()) > 0, 'a due job is an arrival');
});

test('a started loop ticks every intervalMs of its clock, and no more once stopped', async () => {
  const clock = new ManualClock(1_000_000);
  let ticks = 0;
  const loop = new ControlLoop({
    target: {
      types: () => [],
      queueStats: async () => (ticks++, []),
      workers: () => [],
      start: async () => {},
      retire: () => {},
      record: async () => {},
    },
    clock,
    events: new GafferEvents(stderrLogger()),
    intervalMs: 1000,
    log: stderrLogger(),
  });
  loop.start(); // the first tick at once
  await loop.idle();
  clock.advance(999);
  await loop.idle();
  assert.equal(ticks, 1);
  clock.advance(1);
  await loop.idle();
  assert.equal(ticks, 2);
  clock.advance(1000);
  await loop.idle();
  assert.equal(ticks, 3);
  loop.stop();
  clock.advance(10_000);
  await loop.idle();
  assert.equal(ticks, 3);
});

test('jobs running prove a run time: their median age, until they end or go back to the queue', () => {
  const clock = new ManualClock(1_000_000);
  const events = new GafferEvents(stderrLogger());
  const loop = new ControlLoop({
    target: {} as ScalingTarget,
    clock,
    events,
    intervalMs: 1000,
    log: stderrLogger(),
  });
  const job = (id: string, startedAt: number) =>
    ({ id, type: 'a', runAt: 0, startedAt, finishedAt: clock.now() }) as unknown as Job;
  assert.equal(loop.activity.inFlightAgeP50('a', clock.now()), null);
  for (const [id, age] of [
    ['j1', 1000],
    ['j2', 4000],
    ['j3', 9000],
  ] as const) {
    events.emit('job:started', { job: job(id, clock.now() - age) });
  }
  assert.equal(loop.activity.inFlightAgeP50('a', clock.now()), 4000);
  events.emit('job:succeeded', { job: job('j2', clock.now() - 4000) });
  events.emit('job:expired', { job: job('j1', clock.now() - 1000) });
  assert.equal(loop.activity.inFlightAgeP50('a', clock.now()), 9000);
  assert.equal(loop.activity.runMean('a'), 4000);
  events.emit('job:queued', { jobs: [job('j3', 0)] });
  assert.equal(loop.activity.inFlightAgeP50('a', clock.now()), null);
});

test('jobs due within the lead: workers started for them, waiting workers served when due', async () => {
  const clock = new ManualClock(1_000_000);
  const t0 = clock.now();
  const started: number[] = [];
  const served: number[] = [];
  const asked: { now: number; upTo: number }[] = [];
  const loop = new ControlLoop({
    target: {
      types: () => [
        {
          name: 'a',
          mode: 'pool' as const,
          concurrency: 1,
          scaling: { min: 0, max: 5, threshold: 40, burst: 5, idleSeconds: 30 },
        },
      ],
      queueStats: async () => [
        { type: 'a', ready: 0, delayed: 2, inFlight: 0, byState: {}, oldestReadyAt: null },
      ],
      dueWithin: async (_type, now, upTo) => {
        asked.push({ now, upTo });
        return { count: 2, firstAt: t0 + 4_000 };
      },
      fellDue: () => served.push(clock.now()),
      workers: () => [],
      start: async (_type, count) => void started.push(count),
      retire: () => {},
      record: async () => {},
    },
    clock,
    events: new GafferEvents(stderrLogger()),
    intervalMs: 1000,
    log: stderrLogger(),
  });
  loop.start();
  await loop.idle();
  assert.deepEqual(asked, [{ now: t0, upTo: t0 + 6_000 }], 'default start-up 5 s + one tick');
  assert.deepEqual(started, [2]);
  assert.match(loop.lastDecisions().get('a')!.reason, /^0 → 2: 2 jobs due at \d\d:\d\d:\d\d/);
  clock.advance(3_999);
  await loop.idle();
  assert.deepEqual(served, [], 'not before they are due');
  clock.advance(2);
  assert.deepEqual(served, [t0 + 4_001], 'once, when the first falls due');
  loop.stop();
});
