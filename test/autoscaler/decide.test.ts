import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decide } from '../../src/autoscaler/decide.ts';
import type { Observation } from '../../src/autoscaler/policy.ts';
import type { ScalingConfig } from '../../src/config/schema.ts';
import type { WorkerState } from '../../src/domain/events.ts';
import { arbWorkerAt, observationAt, workerAt } from './workers.ts';

const NOW = 1_000_000;
const SCALING: ScalingConfig = {
  min: 0,
  max: 10,
  threshold: 40,
  burst: 5,
  targetPerWorker: 5,
  idleSeconds: 30,
  // The plain burst policy: the rate term off (its default, 30 s, jumps instead of bursting).
  drainTargetSeconds: 0,
};

const worker = (id: string, state: WorkerState, idleForSec: number | null = null) =>
  workerAt(NOW, id, state, idleForSec);

const obs = (partial: Partial<Observation> = {}) => observationAt(NOW, partial);

describe('decide, pool mode', () => {
  const cases: {
    name: string;
    obs: Partial<Observation>;
    scaling?: Partial<ScalingConfig>;
    start: number;
    retire: string[];
    to: number;
  }[] = [
    { name: 'holds at zero with no work', obs: {}, start: 0, retire: [], to: 0 },
    { name: 'scales from zero', obs: { ready: 1 }, start: 1, retire: [], to: 1 },
    {
      name: 'scales from zero even when concurrency exceeds the backlog',
      obs: { ready: 1, concurrency: 50 },
      start: 1,
      retire: [],
      to: 1,
    },
    {
      name: 'bursts over the threshold (10,000 jobs → 5 at once)',
      obs: { ready: 10_000 },
      start: 5,
      retire: [],
      to: 5,
    },
    {
      name: 'one step at exactly the threshold',
      obs: { ready: 40 },
      start: 1,
      retire: [],
      to: 1,
    },
    {
      name: 'bursts at one over the threshold',
      obs: { ready: 41 },
      start: 5,
      retire: [],
      to: 5,
    },
    {
      name: 'single step under the threshold',
      obs: { ready: 10, workers: [worker('w-1', 'busy')] },
      start: 1,
      retire: [],
      to: 2,
    },
    {
      name: 'never past max, counting starting workers',
      obs: {
        ready: 10_000,
        workers: [worker('a', 'starting'), worker('b', 'starting'), worker('c', 'busy')],
      },
      scaling: { max: 4 },
      start: 1,
      retire: [],
      to: 4,
    },
    {
      name: 'starting workers are capacity on the way: no start when they cover desired',
      obs: { ready: 2, workers: [worker('a', 'starting'), worker('b', 'starting')] },
      start: 0,
      retire: [],
      to: 2,
    },
    {
      name: 'draining workers do not count as capacity',
      obs: { ready: 1, workers: [worker('a', 'draining')] },
      start: 1,
      retire: [],
      to: 1,
    },
    {
      name: 'holds at max',
      obs: { ready: 500, workers: ['a', 'b'].map((id) => worker(id, 'busy')) },
      scaling: { max: 2 },
      start: 0,
      retire: [],
      to: 2,
    },
    {
      name: 'max 0 never starts',
      obs: { ready: 500 },
      scaling: { max: 0 },
      start: 0,
      retire: [],
      to: 0,
    },
    {
      name: 'fills the min floor with no work, bounded by burst',
      obs: {},
      scaling: { min: 8 },
      start: 5,
      retire: [],
      to: 5,
    },
    {
      name: 'concurrency divides the need',
      obs: { ready: 3, inFlight: 4, concurrency: 4, workers: [worker('a', 'busy')] },
      start: 1,
      retire: [],
      to: 2,
    },
    {
      name: 'does not retire before the idle window',
      obs: { workers: [worker('a', 'idle', 29)] },
      start: 0,
      retire: [],
      to: 1,
    },
    {
      name: 'retires after the idle window (exactly 30 s)',
      obs: { workers: [worker('a', 'idle', 30)] },
      start: 0,
      retire: ['a'],
      to: 0,
    },
    {
      name: 'never retires while jobs are ready',
      obs: { ready: 1, inFlight: 0, workers: [worker('a', 'idle', 300), worker('b', 'busy')] },
      start: 0,
      retire: [],
      to: 2,
    },
    {
      name: 'never a busy, starting or draining worker',
      obs: {
        workers: [
          { ...worker('busy', 'busy'), idleSince: NOW - 999_000 },
          { ...worker('starting', 'starting'), idleSince: NOW - 999_000 },
          { ...worker('draining', 'draining'), idleSince: NOW - 999_000 },
          { ...worker('leased', 'idle', 999), active: 1 },
        ],
      },
      start: 0,
      retire: [],
      to: 3,
    },
    {
      name: 'longest idle first, keeping what in-flight work needs',
      obs: {
        inFlight: 1,
        workers: [worker('a', 'idle', 40), worker('b', 'idle', 90), worker('c', 'idle', 60)],
      },
      start: 0,
      retire: ['b', 'c'],
      to: 1,
    },
    {
      name: 'never below min',
      obs: { workers: [worker('a', 'idle', 100), worker('b', 'idle', 200)] },
      scaling: { min: 1 },
      start: 0,
      retire: ['b'],
      to: 1,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const d = decide(obs(c.obs), { ...SCALING, ...c.scaling });
      assert.equal(d.start, c.start, d.reason);
      assert.deepEqual(d.retire, c.retire, d.reason);
      assert.equal(d.to, c.to, d.reason);
    });
  }

  test('reasons carry the numbers', () => {
    assert.equal(
      decide(obs({ ready: 10_000 }), SCALING).reason,
      '0 → 5: ready 10000 over threshold 40, burst 5, desired 10, max 10',
    );
    const w = { ...worker('w-1', 'idle'), idleSince: NOW - 31_000 };
    const keep = ['w-2', 'w-3'].map((id) => worker(id, 'idle', 5));
    assert.equal(
      decide(obs({ workers: [w, ...keep] }), SCALING).reason,
      '3 → 2: worker w-1 idle 31 s ≥ 30 s, ready 0',
    );
    assert.match(decide(obs({ workers: keep }), SCALING).reason, /^hold at 2: ready 0/);
    const d = decide(obs({ ready: 3, workers: keep }), SCALING);
    assert.deepEqual(
      { ready: d.inputs.ready, current: d.inputs.current, idle: d.inputs.idle },
      { ready: 3, current: 2, idle: 2 },
    );
  });
});

describe('decide, flow control', () => {
  const paused = { paused: true, startsPerSecond: null };
  const rate = (startsPerSecond: number) => ({ paused: false, startsPerSecond });
  const idle = (id: string, sec: number) => worker(id, 'idle', sec);
  const cases: {
    name: string;
    obs: Partial<Observation>;
    scaling?: Partial<ScalingConfig>;
    start: number;
    retire: string[];
  }[] = [
    {
      name: 'paused: its backlog starts no worker',
      obs: { ready: 500, flow: paused },
      start: 0,
      retire: [],
    },
    {
      name: 'paused: jobs still arriving start no worker either (the rate term on)',
      obs: { ready: 500, arrivalRate: 20, flow: paused },
      scaling: { drainTargetSeconds: 30 },
      start: 0,
      retire: [],
    },
    {
      name: 'paused: an idle worker retires as usual, with jobs waiting',
      obs: { ready: 500, flow: paused, workers: [idle('w-1', 31)] },
      start: 0,
      retire: ['w-1'],
    },
    {
      name: 'paused: a busy worker is kept (its job finishes)',
      obs: { ready: 500, inFlight: 1, flow: paused, workers: [worker('w-1', 'busy')] },
      start: 0,
      retire: [],
    },
    {
      name: '10 starts/s × 0.2 s runs feed 2 workers: a backlog of 10,000 starts 2, not 5',
      obs: { ready: 10_000, runP50Ms: 200, flow: rate(10) },
      start: 2,
      retire: [],
    },
    {
      name: 'the rate cap counts concurrency: 10/s × 2 s on 4 slots → 5 workers',
      obs: { ready: 10_000, runP50Ms: 2000, concurrency: 4, flow: rate(10) },
      scaling: { targetPerWorker: 4 },
      start: 5,
      retire: [],
    },
    {
      name: 'run time not observed yet: one second assumed',
      obs: { ready: 10_000, flow: rate(2) },
      start: 2,
      retire: [],
    },
    {
      name: 'over what the limit feeds: idle workers retire though jobs are ready',
      obs: {
        ready: 1000,
        runP50Ms: 100,
        flow: rate(10),
        workers: [worker('w-1', 'busy'), idle('w-2', 31), idle('w-3', 40)],
      },
      start: 0,
      retire: ['w-3', 'w-2'],
    },
    {
      name: 'over what the limit feeds: a worker idle less than idleSeconds retires too (the limit spreads its starts over every worker, so none stays idle that long)',
      obs: {
        ready: 1000,
        runP50Ms: 100,
        flow: rate(10),
        workers: [worker('w-1', 'busy'), idle('w-2', 0.2), idle('w-3', 0)],
      },
      start: 0,
      retire: ['w-2', 'w-3'],
    },
    {
      name: 'min stays a floor under the rate cap',
      obs: { ready: 1000, runP50Ms: 100, flow: rate(1) },
      scaling: { min: 3 },
      start: 3,
      retire: [],
    },
    {
      name: 'a rate that feeds more than max changes nothing',
      obs: { ready: 10_000, runP50Ms: 10_000, flow: rate(100) },
      start: 5,
      retire: [],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const d = decide(obs(c.obs), { ...SCALING, ...c.scaling });
      assert.equal(d.start, c.start, d.reason);
      assert.deepEqual(d.retire, c.retire, d.reason);
    });
  }
  test('a retirement over the rate cap says so', () => {
    const d = decide(
      obs({
        ready: 1000,
        runP50Ms: 100,
        flow: rate(10),
        workers: [idle('w-1', 0), idle('w-2', 0)],
      }),
      SCALING,
    );
    assert.equal(d.reason, '2 → 1: worker w-1 idle 0 s, over the 1 the rate limit feeds');
  });
  test('per-job: paused launches nothing; a rate caps the launches', () => {
    const perJob = (o: Partial<Observation>) => obs({ mode: 'per-job', ...o });
    assert.equal(decide(perJob({ ready: 30, flow: paused }), SCALING).start, 0);
    assert.equal(decide(perJob({ ready: 30, runP50Ms: 500, flow: rate(4) }), SCALING).start, 2);
  });
});

describe('decide, per-job mode', () => {
  const perJob = (o: Partial<Observation>) => obs({ mode: 'per-job', ...o });
  test('launches one per ready job up to max', () => {
    assert.equal(decide(perJob({ ready: 3 }), SCALING).start, 3);
    assert.equal(decide(perJob({ ready: 300 }), SCALING).start, 10);
  });
  test('counts running jobs against max and never retires', () => {
    const running = ['a', 'b', 'c'].map((id) => worker(id, 'busy'));
    const idle = worker('d', 'idle', 999);
    const d = decide(perJob({ ready: 300, workers: [...running, idle] }), SCALING);
    assert.equal(d.start, 6);
    assert.deepEqual(d.retire, []);
    assert.equal(d.to, 10);
    assert.deepEqual(decide(perJob({ workers: [idle] }), SCALING).retire, []);
  });
});

describe('decide, properties', () => {
  const arbWorker = arbWorkerAt(NOW);
  const arbScaling = fc
    .record({
      min: fc.integer({ min: 0, max: 6 }),
      extra: fc.integer({ min: 0, max: 10 }),
      threshold: fc.integer({ min: 0, max: 100 }),
      burst: fc.integer({ min: 1, max: 8 }),
      idleSeconds: fc.integer({ min: 0, max: 90 }),
    })
    .map(({ min, extra, ...rest }) => ({ ...rest, min, max: min + extra, targetPerWorker: 5 }));
  const arbObs = fc.record({
    type: fc.constant('t'),
    mode: fc.constantFrom<'pool' | 'per-job'>('pool', 'per-job'),
    now: fc.constant(NOW),
    ready: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20_000 })),
    inFlight: fc.integer({ min: 0, max: 50 }),
    workers: fc.uniqueArray(arbWorker, { maxLength: 20, selector: (w) => w.id }),
    concurrency: fc.integer({ min: 1, max: 8 }),
  });
  const live = (o: Observation) =>
    o.workers.filter((w) => w.state !== 'draining' && w.state !== 'stopped').length;

  test('invariants hold for random observations', () => {
    fc.assert(
      fc.property(arbObs, arbScaling, (o, s) => {
        const d = decide(o, s);
        const current = live(o);
        assert.equal(d.from, current);
        assert.equal(d.to, current + d.start - d.retire.length);
        assert.ok(d.start >= 0);
        // Never exceeds max by its own starts.
        if (d.start > 0) assert.ok(d.to <= s.max, `to ${d.to} > max ${s.max}`);
        // Never retires while work is ready; never a worker that is not idle past the window.
        if (o.ready > 0) assert.deepEqual(d.retire, []);
        for (const id of d.retire) {
          const w = o.workers.find((x) => x.id === id);
          assert.ok(w && w.state === 'idle' && w.active === 0 && w.idleSince !== null);
          assert.ok(o.now - w.idleSince >= s.idleSeconds * 1000);
        }
        assert.equal(new Set(d.retire).size, d.retire.length);
        if (o.mode === 'per-job') assert.deepEqual(d.retire, []);
        // Never below min unless it already was.
        if (o.mode === 'pool' && current >= s.min) assert.ok(d.to >= s.min);
        // Never start and retire in the same decision.
        assert.ok(d.start === 0 || d.retire.length === 0);
      }),
      { numRuns: 1000 },
    );
  });
});
