import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decide } from '../../src/autoscaler/decide.ts';
import type { Observation } from '../../src/autoscaler/policy.ts';
import {
  historyKeepMs,
  neededWorkers,
  retirees,
  settings,
  stableNeed,
} from '../../src/autoscaler/rules.ts';
import type { ScalingConfig } from '../../src/config/schema.ts';
import type { WorkerState } from '../../src/domain/events.ts';
import { arbWorkerAt, observationAt, workerAt } from './workers.ts';

const NOW = 10_000_000;
const SCALING: ScalingConfig = { min: 0, max: 50, threshold: 40, burst: 5, idleSeconds: 30 };

const worker = (id: string, state: WorkerState, idleForSec: number | null = null) =>
  workerAt(NOW, id, state, idleForSec);
const obs = (partial: Partial<Observation> = {}) => observationAt(NOW, partial);

describe('neededWorkers: ceil((a + headroom·√a) ÷ concurrency), a = λ·S', () => {
  const cases: [string, number, number | null, number, number, number | null][] = [
    // name, λ /s, S ms, concurrency, headroom → needed
    ['no run time observed: not measured', 5, null, 1, 2, null],
    ['no arrivals: none', 0, 1000, 1, 2, 0],
    ['5/s × 1 s, no headroom', 5, 1000, 1, 0, 5],
    ['5/s × 1 s, headroom 2: 5 + 2·√5 = 9.47', 5, 1000, 1, 2, 10],
    ['2/s × 8 s = 16, headroom 2: 16 + 8 = 24', 2, 8000, 1, 2, 24],
    ['concurrency divides: 24 slots ÷ 4', 2, 8000, 4, 2, 6],
    ['float noise adds no worker: 0.1/s × 30 s = 3', 0.1, 30_000, 1, 0, 3],
    ['a trickle still needs one', 0.01, 500, 1, 2, 1],
  ];
  for (const [name, arrivalRate, runMs, concurrency, headroom, want] of cases) {
    test(name, () =>
      assert.equal(neededWorkers({ arrivalRate, runMs, concurrency, headroom }), want),
    );
  }

  // λ 2/s × S 8 s = 16 in service, headroom 2: the spares follow the reaction time R.
  const reacting: [string, number | null, number][] = [
    ['R unknown: the full headroom, 16 + 2·4', null, 24],
    ['R 1.2 s of 8 s: share 2(1 − e^(−0.15)) = 0.28, 16 + 2·√4.47', 1_200, 21],
    ['R 0: no spares, the jobs in service', 0, 16],
    ['R long (20 s): share capped at 1, as unknown', 20_000, 24],
  ];
  for (const [name, reactionMs, want] of reacting) {
    test(name, () =>
      assert.equal(
        neededWorkers({ arrivalRate: 2, runMs: 8_000, concurrency: 1, headroom: 2, reactionMs }),
        want,
      ),
    );
  }

  test('property: a reaction time never needs more than none known, nor fewer than a', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.integer({ min: 1, max: 16 }),
        fc.double({ min: 0, max: 4, noNaN: true }),
        fc.integer({ min: 0, max: 600_000 }),
        (arrivalRate, runMs, concurrency, headroom, reactionMs) => {
          const base = { arrivalRate, runMs, concurrency, headroom };
          const full = neededWorkers(base)!;
          const fast = neededWorkers({ ...base, reactionMs })!;
          const bare = neededWorkers({ ...base, headroom: 0 })!;
          assert.ok(fast <= full && fast >= bare, `${bare} ≤ ${fast} ≤ ${full}`);
        },
      ),
    );
  });
});

describe('stableNeed: the highest need of the window', () => {
  const history = [
    { at: NOW - 90_000, desired: 0, needed: 30 },
    { at: NOW - 40_000, desired: 0, needed: 12 },
    { at: NOW - 5_000, desired: 0 },
  ];
  test('keeps the window peak', () => assert.equal(stableNeed(4, history, NOW, 60), 12));
  test('older needs are forgotten', () => assert.equal(stableNeed(4, history, NOW, 30), 4));
  test('a higher need now wins', () => assert.equal(stableNeed(20, history, NOW, 60), 20));
  test('not measured now: null', () => assert.equal(stableNeed(null, history, NOW, 60), null));
  test('the caller keeps history for the longest window', () => {
    assert.equal(historyKeepMs({}), 60_000);
    assert.equal(historyKeepMs({ scaleDownStabilizationSeconds: 300 }), 300_000);
    assert.equal(historyKeepMs({ demandWindowSeconds: 10 }), 10_000);
  });
});

describe('retirees by need', () => {
  const s = settings(SCALING, obs());
  const workers = [
    worker('long', 'idle', 20),
    worker('short', 'idle', 8),
    worker('fresh', 'idle', 1),
    worker('busy', 'busy'),
    worker('starting', 'starting'),
    worker('draining', 'draining'),
  ];
  const ids = (r: { retire: { id: string }[] }) => r.retire.map((w) => w.id);
  const cases: [string, number, number | undefined, string[]][] = [
    // name, surplus by idleness, over the need → retired
    ['without a measured need, only idleSeconds counts', 5, undefined, []],
    ['over the need: idle past the 5 s grace, longest first', 0, 5, ['long', 'short']],
    ['at most the workers over the need', 0, 1, ['long']],
    ['one that just finished is kept', 0, 3, ['long', 'short']],
    ['nothing over the need: nothing', 0, 0, []],
  ];
  for (const [name, surplus, overNeed, want] of cases) {
    test(name, () =>
      assert.deepEqual(
        ids(retirees({ obs: obs({ workers }), s, current: 5, surplus, overNeed })),
        want,
      ),
    );
  }
  test('the grace is idleSeconds when that is shorter', () => {
    const short = settings({ ...SCALING, idleSeconds: 0 }, obs());
    const r = retirees({ obs: obs({ workers }), s: short, current: 5, surplus: 0, overNeed: 5 });
    assert.deepEqual(ids(r), ['long', 'short', 'fresh']);
  });
  test('nothing while jobs are ready', () =>
    assert.deepEqual(
      retirees({ obs: obs({ workers, ready: 1 }), s, current: 5, surplus: 5, overNeed: 5 }).retire,
      [],
    ));
});

describe('decide: scale in by measured demand', () => {
  // 2 jobs/s of 1 s with 12 workers: 2 + 2·√2 = 4.8 → 5 needed.
  const pool = (idleFor: number[], partial: Partial<Observation> = {}) =>
    obs({
      arrivalRate: 2,
      runP50Ms: 1000,
      runMeanMs: 1000,
      inFlight: 2,
      workers: [
        worker('b1', 'busy'),
        worker('b2', 'busy'),
        ...idleFor.map((sec, i) => worker(`i${i}`, 'idle', sec)),
      ],
      ...partial,
    });
  test('retires the surplus over the need after the grace, with the need in the reason', () => {
    const d = decide(pool([9, 9, 9, 9, 9, 9, 9, 9, 9, 1]), SCALING);
    assert.equal(d.retire.length, 7);
    assert.equal(d.to, 5);
    assert.equal(d.inputs.needed, 5);
    assert.equal(d.inputs.neededStable, 5);
    assert.equal(
      d.reason,
      '12 → 5: worker i0 idle 9 s, worker i1 idle 9 s, worker i2 idle 9 s, worker i3 idle 9 s, ' +
        'worker i4 idle 9 s, worker i5 idle 9 s, worker i6 idle 9 s ≥ 5 s, over the need of 5: ' +
        'arrivals 2/s × mean run 1 s = 2 in service + headroom 2 × √2, ÷ concurrency 1, ' +
        'highest of the last 60 s, ready 0',
    );
  });
  test('workers that start fast need fewer spares, and the reason says why', () => {
    // Start-up 0.2 s + tick 1 s over a 1 s run: share min(1, 2(1 − e^(−1.2))) = 1.4 → 1: as before.
    // Start-up 0.1 s, tick 0.1 s: share 2(1 − e^(−0.2)) = 0.36, 2 + 2·√0.73 = 3.7 → 4.
    const d = decide(
      pool([9, 9, 9, 9, 9, 9, 9, 9, 9, 1], { startupMs: 100, tickMs: 100 }),
      SCALING,
    );
    assert.deepEqual([d.inputs.needed, d.inputs.reactionMs, d.to], [4, 200, 4]);
    assert.match(d.reason, /headroom 2 × √\(2 × 0\.36\) \(start-up \+ tick 0\.2 s\)/);
    const slow = decide(pool([9, 9, 9, 9, 9, 9, 9, 9, 9, 1], { startupMs: 200 }), SCALING);
    assert.equal(slow.inputs.needed, 5);
    assert.match(slow.reason, /headroom 2 × √2,/);
  });
  test('the window keeps a recent higher need', () => {
    const history = [{ at: NOW - 30_000, desired: 2, needed: 9 }];
    const d = decide(pool([9, 9, 9, 9, 9, 9, 9, 9, 9, 1], { history }), SCALING);
    assert.deepEqual([d.retire.length, d.to, d.inputs.neededStable], [3, 9, 9]);
  });
  test('a worker within the need still retires after idleSeconds idle', () => {
    // 2 busy + 3 idle 40 s: within the need of 5, but idle past idleSeconds (desired is 2).
    const d = decide(pool([40, 40, 40]), SCALING);
    assert.equal(d.retire.length, 3);
    assert.match(d.reason, /≥ 30 s, ready 0$/);
  });
  test('never below min', () => {
    const d = decide(pool([9, 9, 9, 9, 9, 9, 9, 9, 9, 9]), { ...SCALING, min: 8 });
    assert.equal(d.to, 8);
  });
  test('headroom and window are settings', () => {
    const d = decide(pool([9, 9, 9, 9, 9, 9, 9, 9, 9, 9]), { ...SCALING, headroom: 0 });
    assert.equal(d.to, 2);
  });
});

describe('decide: no over-start before a run time is known', () => {
  // 5 jobs/s of 1 s jobs, none ended yet, 20 ready, 3 in flight for a median 0.5 s.
  const early = (partial: Partial<Observation> = {}) =>
    obs({
      arrivalRate: 5,
      ready: 20,
      inFlight: 3,
      inFlightAgeP50Ms: 500,
      workers: [worker('1', 'busy'), worker('2', 'busy'), worker('3', 'busy')],
      ...partial,
    });
  test('the rate rule counts the run time in-flight ages prove, not the drain target', () => {
    const d = decide(early(), SCALING);
    // rate: ceil(max(5 × 0.5, 3) + 20 × 0.5 / 30) = 4, not 5 × 30 = 150; the queue rule: 23.
    assert.equal(d.inputs.rateDesired, 4);
    assert.equal(d.inputs.provenRunMs, 500);
    assert.equal(d.to, 23);
    assert.match(d.reason, /run time not yet observed, at least 0\.5 s \(median age in flight\)/);
  });
  test('the rate rule grows as the jobs in flight age', () => {
    const d = decide(early({ inFlightAgeP50Ms: 20_000 }), SCALING);
    // ceil(max(5 × 20, 3) + 20 × 20 / 30) = 114 → max 50
    assert.equal(d.inputs.rateDesired, 114);
    assert.equal(d.start, 47);
  });
  test('the backlog is the queue rule’s: straight to its count, with the reason', () => {
    const d = decide(early({ ready: 41 }), SCALING);
    assert.equal(d.to, 44);
    assert.match(d.reason, /straight to the queue count, desired 44/);
  });
});

describe('decide, properties with measured demand', () => {
  const arbWorker = arbWorkerAt(NOW);
  const arbScaling = fc
    .record({
      min: fc.integer({ min: 0, max: 6 }),
      extra: fc.integer({ min: 0, max: 30 }),
      threshold: fc.integer({ min: 0, max: 100 }),
      burst: fc.integer({ min: 1, max: 8 }),
      idleSeconds: fc.integer({ min: 0, max: 90 }),
      headroom: fc.option(fc.double({ min: 0, max: 4, noNaN: true }), { nil: undefined }),
      demandWindowSeconds: fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }),
    })
    .map(({ min, extra, ...rest }) => ({ ...rest, min, max: min + extra }));
  const arbMs = fc.option(fc.integer({ min: 0, max: 600_000 }), { nil: null });
  const arbObs = fc.record({
    type: fc.constant('t'),
    mode: fc.constant<'pool'>('pool'),
    now: fc.constant(NOW),
    ready: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 5000 })),
    inFlight: fc.integer({ min: 0, max: 50 }),
    workers: fc.uniqueArray(arbWorker, { maxLength: 40, selector: (w) => w.id }),
    concurrency: fc.integer({ min: 1, max: 8 }),
    arrivalRate: fc.double({ min: 0, max: 50, noNaN: true }),
    runP50Ms: arbMs,
    runMeanMs: arbMs,
    inFlightAgeP50Ms: arbMs,
    history: fc.array(
      fc.record({
        at: fc.integer({ min: NOW - 400_000, max: NOW }),
        desired: fc.integer({ min: 0, max: 60 }),
        needed: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
      }),
      { maxLength: 10 },
    ),
  });
  const live = (o: Observation) =>
    o.workers.filter((w) => w.state !== 'draining' && w.state !== 'stopped').length;

  test('never over max, never a busy, starting or draining victim, never below min', () => {
    fc.assert(
      fc.property(arbObs, arbScaling, (o, s) => {
        const d = decide(o, s);
        const current = live(o);
        assert.equal(d.to, current + d.start - d.retire.length);
        if (d.start > 0) assert.ok(d.to <= s.max, `to ${d.to} > max ${s.max}`);
        if (o.ready > 0) assert.deepEqual(d.retire, []);
        const grace = Math.min(s.idleSeconds, 5) * 1000;
        for (const id of d.retire) {
          const w = o.workers.find((x) => x.id === id);
          assert.ok(w && w.state === 'idle' && w.active === 0 && w.idleSince !== null);
          assert.ok(o.now - w.idleSince >= grace);
        }
        assert.equal(new Set(d.retire).size, d.retire.length);
        if (current >= s.min) assert.ok(d.to >= s.min);
        assert.ok(d.start === 0 || d.retire.length === 0);
        assert.ok(d.reason.length > 0);
      }),
      { numRuns: 1000 },
    );
  });
});
