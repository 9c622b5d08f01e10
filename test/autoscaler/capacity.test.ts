import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Activity, DesiredHistory } from '../../src/autoscaler/activity.ts';
import { allot, type Claim } from '../../src/autoscaler/capacity.ts';
import { decideAll } from '../../src/autoscaler/decide.ts';
import type { Observation } from '../../src/autoscaler/policy.ts';
import type { ScalingConfig } from '../../src/config/schema.ts';
import type { WorkerInfo, WorkerState } from '../../src/domain/events.ts';

const NOW = 10_000_000;

function claim(type: string, want: number, extra: Partial<Claim> = {}): Claim {
  return { type, held: 0, want, priority: 0, weight: 1, ...extra };
}

describe('allot (priority, weight, per-type max)', () => {
  const cases: { name: string; claims: Claim[]; free: number; want: number[] }[] = [
    { name: 'enough for all', claims: [claim('a', 3), claim('b', 4)], free: 10, want: [3, 4] },
    {
      name: 'equal weights split evenly',
      claims: [claim('a', 30), claim('b', 30)],
      free: 40,
      want: [20, 20],
    },
    {
      name: 'a small want is met, the rest goes to the other',
      claims: [claim('a', 5), claim('b', 30)],
      free: 40,
      want: [5, 30],
    },
    {
      name: 'higher priority first',
      claims: [claim('low', 30, { priority: 1 }), claim('high', 30, { priority: 3 })],
      free: 40,
      want: [10, 30],
    },
    {
      name: 'by weight among equal priorities (3 : 1)',
      claims: [claim('heavy', 40, { weight: 3 }), claim('light', 40, { weight: 1 })],
      free: 40,
      want: [30, 10],
    },
    {
      name: 'fairness counts what each already holds',
      claims: [claim('a', 20, { held: 15 }), claim('b', 20)],
      free: 15,
      want: [0, 15],
    },
    { name: 'no room', claims: [claim('a', 3)], free: 0, want: [0] },
    { name: 'negative room is no room', claims: [claim('a', 3)], free: -4, want: [0] },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(allot(c.claims, c.free), c.want));
  }
});

const STATES: WorkerState[] = ['starting', 'idle', 'busy', 'draining', 'stopped'];
const arbWorker = (type: string) =>
  fc
    .record({
      n: fc.integer({ min: 0, max: 1_000_000 }),
      state: fc.constantFrom(...STATES),
      active: fc.integer({ min: 0, max: 3 }),
      idleSince: fc.option(fc.integer({ min: NOW - 120_000, max: NOW }), { nil: null }),
    })
    .map(({ n, state, active, idleSince }): WorkerInfo => ({
      id: `${type}-${n}`,
      type,
      mode: 'pool',
      state,
      // A real idle worker holds nothing; keep the odd ones too, the policy must not trust state alone.
      active,
      concurrency: 1,
      startedAt: 0,
      idleSince,
      pid: null,
    }));
const arbScaling = fc
  .record({
    min: fc.integer({ min: 0, max: 6 }),
    extra: fc.integer({ min: 0, max: 30 }),
    threshold: fc.integer({ min: 0, max: 100 }),
    burst: fc.integer({ min: 1, max: 8 }),
    idleSeconds: fc.integer({ min: 0, max: 90 }),
    drainTargetSeconds: fc.constantFrom(0, 10, 30, 120),
    scaleUpStabilizationSeconds: fc.constantFrom(0, 15),
    scaleDownStabilizationSeconds: fc.constantFrom(0, 60),
    scaleToZeroSeconds: fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }),
    priority: fc.integer({ min: 0, max: 3 }),
    weight: fc.constantFrom(0.5, 1, 3),
  })
  .map(({ min, extra, ...rest }): ScalingConfig => ({ ...rest, min, max: min + extra }));
const arbObs = (type: string) =>
  fc.record({
    type: fc.constant(type),
    mode: fc.constantFrom<'pool' | 'per-job'>('pool', 'pool', 'per-job'),
    now: fc.constant(NOW),
    ready: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20_000 })),
    inFlight: fc.integer({ min: 0, max: 50 }),
    workers: fc.uniqueArray(arbWorker(type), { maxLength: 25, selector: (w) => w.id }),
    concurrency: fc.integer({ min: 1, max: 8 }),
    arrivalRate: fc.double({ min: 0, max: 200, noNaN: true }),
    runP50Ms: fc.option(fc.integer({ min: 1, max: 600_000 }), { nil: null }),
    lastFinishedAt: fc.option(fc.integer({ min: NOW - 200_000, max: NOW }), { nil: null }),
    history: fc.array(
      fc.record({
        at: fc.integer({ min: NOW - 120_000, max: NOW }),
        desired: fc.integer({ min: 0, max: 40 }),
      }),
      { maxLength: 5 },
    ),
    resourceLimit: fc.option(fc.integer({ min: 0, max: 40 }), { nil: null }),
  });
const arbTypes = fc
  .array(fc.tuple(fc.constant(0), arbScaling), { minLength: 1, maxLength: 4 })
  .chain((types) =>
    fc.tuple(
      ...types.map(([, scaling], i) =>
        arbObs(`t${i}`).map((obs): { obs: Observation; scaling: ScalingConfig } => ({
          obs,
          scaling,
        })),
      ),
    ),
  );
const live = (o: Observation) => o.workers.filter((w) => w.state !== 'stopped').length;
const counted = (o: Observation) =>
  o.workers.filter((w) => w.state !== 'draining' && w.state !== 'stopped').length;

describe('the policy, properties', () => {
  test('never past max or the resource limit, never past the global capacity, never retires a busy, starting or draining worker', () => {
    fc.assert(
      fc.property(
        arbTypes,
        fc.option(fc.integer({ min: 0, max: 80 }), { nil: null }),
        (items, capacity) => {
          const decisions = decideAll(items, capacity);
          let startedAll = 0;
          let after = 0;
          for (const [i, d] of decisions.entries()) {
            const { obs, scaling } = items[i]!;
            const max = Math.min(scaling.max, obs.resourceLimit ?? Infinity);
            assert.equal(d.from, counted(obs));
            assert.equal(d.to, d.from + d.start - d.retire.length);
            assert.ok(d.start >= 0);
            if (d.start > 0) assert.ok(d.to <= max, `${d.type}: to ${d.to} > max ${max}`);
            assert.ok(d.start === 0 || d.retire.length === 0, 'start and retire at once');
            assert.equal(new Set(d.retire).size, d.retire.length);
            for (const id of d.retire) {
              const w = obs.workers.find((x) => x.id === id);
              assert.ok(w, `retires unknown ${id}`);
              assert.equal(w.state, 'idle', `retires a ${w.state} worker`);
              assert.equal(w.active, 0, 'retires a worker holding a lease');
            }
            if (obs.mode === 'per-job') assert.deepEqual(d.retire, []);
            // Never scale in with work ready, capacity or not.
            if (obs.ready > 0) assert.deepEqual(d.retire, []);
            startedAll += d.start;
            after += live(obs) + d.start - d.retire.length;
          }
          if (capacity !== null && startedAll > 0) {
            assert.ok(after <= capacity, `${after} workers > capacity ${capacity}`);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  test('same observation → same decision', () => {
    fc.assert(
      fc.property(
        arbTypes,
        fc.option(fc.integer({ min: 0, max: 80 }), { nil: null }),
        (items, capacity) => {
          assert.deepEqual(decideAll(items, capacity), decideAll(items, capacity));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('Activity and DesiredHistory (the observation inputs the loop keeps)', () => {
  test('arrival rate over a sliding window, median run time, last end', () => {
    const a = new Activity(60_000);
    a.arrived('t', 0, 60);
    a.arrived('t', 30_000, 60);
    assert.equal(a.rate('t', 30_000), 2);
    assert.equal(a.rate('t', 60_000), 1);
    assert.equal(a.rate('t', 90_000), 0);
    assert.equal(a.rate('other', 0), 0);
    assert.equal(a.runP50('t'), null);
    for (const run of [5000, 1000, 9000]) a.finished('t', 40_000 + run, run);
    a.finished('t', 20_000, null);
    assert.equal(a.runP50('t'), 5000);
    assert.equal(a.lastFinishedAt('t'), 49_000);
  });
  test('history keeps the longest window, at least the latest value', () => {
    const h = new DesiredHistory();
    h.push('t', 0, 1, 30_000);
    h.push('t', 20_000, 2, 30_000);
    h.push('t', 40_000, 3, 30_000);
    assert.deepEqual(
      h.get('t').map((x) => x.desired),
      [2, 3],
    );
    h.push('t', 41_000, 4, 0);
    assert.deepEqual(h.get('t'), [{ at: 41_000, desired: 4 }]);
  });
});
