import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decide } from '../../src/autoscaler/decide.ts';
import type { Observation } from '../../src/autoscaler/policy.ts';
import {
  clampDesired,
  queueDesired,
  rateDesired,
  retirees,
  scaleOut,
  settings,
  stabilize,
} from '../../src/autoscaler/rules.ts';
import type { ScalingConfig } from '../../src/config/schema.ts';
import type { WorkerState } from '../../src/domain/events.ts';
import { observationAt, workerAt } from './workers.ts';

const NOW = 10_000_000;
const SCALING: ScalingConfig = { min: 0, max: 10, threshold: 40, burst: 5, idleSeconds: 30 };

const worker = (id: string, state: WorkerState, idleForSec: number | null = null) =>
  workerAt(NOW, id, state, idleForSec);

const obs = (partial: Partial<Observation> = {}) => observationAt(NOW, partial);

describe('settings', () => {
  test('defaults: rate term 30 s, windows 0, scale to zero after idleSeconds, no resource cap', () => {
    const s = settings(SCALING, obs());
    assert.deepEqual(
      [s.drainTargetSeconds, s.upWindowSeconds, s.downWindowSeconds, s.zeroAfterSeconds, s.max],
      [30, 0, 0, 30, 10],
    );
  });
  test('the executor resource limit caps max (and min with it)', () => {
    const s = settings({ ...SCALING, min: 6 }, obs({ resourceLimit: 4 }));
    assert.deepEqual([s.min, s.max], [4, 4]);
  });
  test('target: targetPerWorker, else the concurrency', () => {
    assert.equal(settings(SCALING, obs({ concurrency: 4 })).target, 4);
    assert.equal(settings({ ...SCALING, targetPerWorker: 7 }, obs({ concurrency: 4 })).target, 7);
  });
});

describe('queueDesired and clampDesired', () => {
  const cases: [number, number, number, number][] = [
    // ready, inFlight, target → raw
    [0, 0, 1, 0],
    [1, 0, 5, 1],
    [10, 6, 4, 4],
    [10_000, 0, 4, 2500],
  ];
  for (const [ready, inFlight, target, want] of cases) {
    test(`ceil((${ready} + ${inFlight}) / ${target}) = ${want}`, () =>
      assert.equal(queueDesired(ready, inFlight, target), want));
  }
  test('clamped to [min, max], at least 1 with work ready', () => {
    assert.equal(clampDesired(2500, 1, 0, 50), 50);
    assert.equal(clampDesired(0, 0, 2, 50), 2);
    assert.equal(clampDesired(0, 3, 0, 50), 1);
    assert.equal(clampDesired(0, 3, 0, 0), 0);
  });
});

describe('rateDesired', () => {
  const base = {
    ready: 0,
    inFlight: 0,
    arrivalRate: 0,
    runMs: 10_000,
    provenRunMs: null as number | null,
    concurrency: 1,
  };
  const cases: { name: string; r: Partial<typeof base>; drain: number; want: number | null }[] = [
    { name: 'off at drain target 0', r: { ready: 100 }, drain: 0, want: null },
    { name: 'nothing to do', r: {}, drain: 60, want: 0 },
    // the example: ready 40, in flight 6, p50 90 s, target 60 s → 6 + 40·90/60 = 66
    {
      name: 'backlog drained by the target',
      r: { ready: 40, inFlight: 6, runMs: 90_000 },
      drain: 60,
      want: 66,
    },
    {
      name: "Little's law: 2/s × 8 s = 16",
      r: { arrivalRate: 2, runMs: 8000 },
      drain: 30,
      want: 16,
    },
    {
      name: 'in flight counts when more than λ·S',
      r: { inFlight: 20, arrivalRate: 1, runMs: 8000 },
      drain: 30,
      want: 20,
    },
    {
      name: 'concurrency divides',
      r: { ready: 10_000, runMs: 2000, concurrency: 4 },
      drain: 30,
      want: 167,
    },
    {
      name: 'run time not observed, nothing in flight: nothing proven, the backlog is the queue rule’s',
      r: { ready: 10_000, runMs: null as unknown as number, concurrency: 4 },
      drain: 30,
      want: 0,
    },
    {
      name: 'run time not observed: arrivals × the run time in-flight ages prove (5/s × 4 s)',
      r: { arrivalRate: 5, inFlight: 3, runMs: null as unknown as number, provenRunMs: 4000 },
      drain: 30,
      want: 20,
    },
  ];
  for (const c of cases) {
    test(c.name, () =>
      assert.equal(rateDesired({ ...base, ...c.r, drainTargetSeconds: c.drain }), c.want),
    );
  }
});

describe('stabilize', () => {
  const h = [
    { at: NOW - 90_000, desired: 1 },
    { at: NOW - 40_000, desired: 9 },
    { at: NOW - 5_000, desired: 3 },
  ];
  const cases: [string, number, number, number, { up: number; down: number }][] = [
    ['windows 0: the current value', 5, 0, 0, { up: 5, down: 5 }],
    ['up window 10 s: lowest of the last 10 s', 5, 10, 0, { up: 3, down: 5 }],
    ['up window 60 s', 5, 60, 0, { up: 3, down: 5 }],
    ['down window 60 s: highest of the last 60 s', 5, 0, 60, { up: 5, down: 9 }],
    ['down window 120 s', 0, 0, 120, { up: 0, down: 9 }],
    ['down window 10 s', 0, 0, 10, { up: 0, down: 3 }],
  ];
  for (const [name, desired, up, down, want] of cases) {
    test(name, () => assert.deepEqual(stabilize(desired, h, NOW, up, down), want));
  }
});

describe('scaleOut', () => {
  const s = settings(SCALING, obs());
  const cases: [string, Parameters<typeof scaleOut>[0], number][] = [
    ['one at a time under the threshold', { current: 0, upTarget: 8, ready: 40, rate: null, s }, 1],
    ['burst over the threshold', { current: 0, upTarget: 10, ready: 41, rate: null, s }, 5],
    ['never past the up target', { current: 8, upTarget: 9, ready: 500, rate: null, s }, 1],
    ['rate term jumps to its count', { current: 1, upTarget: 10, ready: 500, rate: 8, s }, 7],
    ['rate jump capped at max', { current: 1, upTarget: 10, ready: 500, rate: 80, s }, 9],
    [
      'burst when the rate count is smaller',
      { current: 1, upTarget: 10, ready: 500, rate: 2, s },
      5,
    ],
    [
      'below min refills at burst speed',
      { current: 0, upTarget: 0, ready: 0, rate: null, s: { ...s, min: 8 } },
      5,
    ],
  ];
  for (const [name, o, start] of cases) {
    test(name, () => assert.equal(scaleOut(o).start, start));
  }
});

describe('retirees', () => {
  const s = settings(SCALING, obs());
  const idleOld = worker('a', 'idle', 100);
  const idleNew = worker('b', 'idle', 40);
  const idleShort = worker('c', 'idle', 5);
  const busy = worker('d', 'busy');
  const starting = worker('e', 'starting');
  const draining = worker('f', 'draining');
  const workers = [idleNew, busy, idleOld, idleShort, starting, draining];
  test('only idle past the window, longest idle first, at most the surplus', () => {
    const r = retirees({ obs: obs({ workers }), s, current: 5, surplus: 5 });
    assert.deepEqual(
      r.retire.map((w) => w.id),
      ['a', 'b'],
    );
    const one = retirees({ obs: obs({ workers }), s, current: 5, surplus: 1 });
    assert.deepEqual(
      one.retire.map((w) => w.id),
      ['a'],
    );
  });
  test('nothing while jobs are ready', () =>
    assert.deepEqual(
      retirees({ obs: obs({ workers, ready: 1 }), s, current: 5, surplus: 5 }).retire,
      [],
    ));
  test('the last worker waits for the idle window after the last job ended', () => {
    const o = obs({ workers: [idleOld], lastFinishedAt: NOW - 10_000 });
    const held = retirees({ obs: o, s, current: 1, surplus: 1 });
    assert.deepEqual([held.retire, held.heldForZero], [[], true]);
    const later = retirees({
      obs: { ...o, lastFinishedAt: NOW - 30_000 },
      s,
      current: 1,
      surplus: 1,
    });
    assert.deepEqual(
      later.retire.map((w) => w.id),
      ['a'],
    );
    const custom = retirees({
      obs: o,
      s: settings({ ...SCALING, scaleToZeroSeconds: 5 }, o),
      current: 1,
      surplus: 1,
    });
    assert.deepEqual(
      custom.retire.map((w) => w.id),
      ['a'],
    );
  });
});

describe('decide, the full policy', () => {
  test('spike of 10,000 on a 4-concurrency type: straight to max, with the inputs in the reason', () => {
    const d = decide(obs({ ready: 10_000, concurrency: 4 }), { ...SCALING, max: 50 });
    assert.equal(d.start, 50);
    assert.equal(
      d.reason,
      '0 → 50: ready 10000, in flight 0, arrivals 0/s, run time not yet observed, drain target 30 s, straight to the queue count, desired 50, max 50',
    );
  });
  test("the issue's example reason", () => {
    const workers = ['1', '2', '3'].map((id) => worker(id, 'busy'));
    const d = decide(obs({ ready: 40, inFlight: 6, runP50Ms: 90_000, workers }), {
      ...SCALING,
      max: 8,
      drainTargetSeconds: 60,
    });
    assert.equal(
      d.reason,
      '3 → 8: ready 40, in flight 6, arrivals 0/s, p50 run 90 s, drain target 60 s, straight to the rate count, desired 8, max 8',
    );
    assert.equal(d.inputs.runP50Ms, 90_000);
    assert.equal(d.inputs.rateDesired, 66);
  });
  test('drainTargetSeconds 0 turns the rate term off: bursts of 5 at a time', () => {
    const d = decide(obs({ ready: 10_000 }), { ...SCALING, drainTargetSeconds: 0 });
    assert.equal(d.start, 5);
  });
  test('scale-up window holds a brief rise', () => {
    const history = [{ at: NOW - 5000, desired: 1 }];
    const workers = [worker('1', 'busy')];
    const d = decide(obs({ ready: 3, inFlight: 1, workers, history }), {
      ...SCALING,
      scaleUpStabilizationSeconds: 30,
    });
    assert.equal(d.start, 0);
    assert.match(d.reason, /scale-up window 30 s holds it to 1/);
    const none = decide(obs({ ready: 3, inFlight: 1, workers, history }), SCALING);
    assert.ok(none.start > 0);
    const zero = [{ at: NOW - 5000, desired: 0 }];
    const fromZero = decide(obs({ ready: 3, history: zero }), {
      ...SCALING,
      scaleUpStabilizationSeconds: 30,
    });
    assert.equal(fromZero.start, 1, 'still scales from zero');
  });
  test('scale-down window keeps recent peaks', () => {
    const workers = ['1', '2', '3'].map((id) => worker(id, 'idle', 60));
    const history = [{ at: NOW - 20_000, desired: 3 }];
    const held = decide(obs({ workers, history }), {
      ...SCALING,
      scaleDownStabilizationSeconds: 60,
    });
    assert.deepEqual(held.retire, []);
    const gone = decide(obs({ workers, history }), SCALING);
    assert.equal(gone.retire.length, 3);
  });
  test('the resource limit caps the jump', () => {
    const d = decide(obs({ ready: 10_000, resourceLimit: 3 }), SCALING);
    assert.deepEqual([d.start, d.inputs.max, d.inputs.resourceLimit], [3, 3, 3]);
    assert.match(d.reason, /max 3 \(executor room\)/);
  });
  test('scale to zero waits for the window after the last job ended', () => {
    const workers = [worker('1', 'idle', 40)];
    const d = decide(obs({ workers, lastFinishedAt: NOW - 20_000 }), SCALING);
    assert.deepEqual(d.retire, []);
    assert.match(d.reason, /last worker kept: last job ended 20 s ago < 30 s/);
  });
});
