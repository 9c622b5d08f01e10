import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kedaScaledJob, kedaScaledObject } from '../../src/simulator/keda.ts';
import { simulate } from '../../src/simulator/loop.ts';
import { tiny, waitsOf, workersAt } from './helpers.ts';

// Hand-computed: KEDA polls at 15 s, 45 s, 75 s, … (first poll half an interval in); a worker is
// ready 0.2 s after it starts.
const startupMs = 200;

describe('KEDA ScaledObject model', () => {
  it('reacts at the first poll: ceil(ready / target) workers at once', () => {
    const r = simulate(
      tiny([
        [0, 100],
        [0, 100],
        [1, 100],
        [1, 100],
        [1, 100],
      ]),
      kedaScaledObject(),
      {
        startupMs,
      },
    );
    assert.deepEqual(waitsOf(r.waits), [14.2, 14.2, 14.2, 15.2, 15.2]);
    assert.equal(r.peakWorkers, 5);
  });

  it('counts ready messages only: a job behind a busy worker waits for it, not for a new one', () => {
    // Poll 15: ready 1 → 1 worker. At 20 a second job comes; at 45 ready 1, replicas 1: the
    // usage ratio is 1, so nothing starts; the job waits for the first to end at 115.2 s.
    const r = simulate(
      tiny([
        [0, 100],
        [20, 10],
      ]),
      kedaScaledObject(),
      { startupMs },
    );
    assert.deepEqual(waitsOf(r.waits), [15.2, 95.2]);
    assert.equal(r.peakWorkers, 1);
  });

  const cases: { name: string; min: number; cooldownMs: number; expect: [number, number][] }[] = [
    // Stabilization: the recommendation of 5 at 15 s holds the pool until 315 s, then HPA's floor
    // of 1 (min 1: KEDA never goes to 0).
    {
      name: 'HPA stabilization holds replicas 300 s',
      min: 1,
      cooldownMs: 300_000,
      expect: [
        [314_000, 5],
        [316_000, 1],
        [900_000, 1],
      ],
    },
    // min 0 and a longer cooldown: HPA goes to 1 at 315 s, KEDA to 0 only at 615 s (inactive
    // since the last poll that saw ready > 0, at 15 s).
    {
      name: 'cooldownPeriod applies only to 1 → 0',
      min: 0,
      cooldownMs: 600_000,
      expect: [
        [314_000, 5],
        [316_000, 1],
        [614_000, 1],
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const trace = tiny(
        [
          [0, 10],
          [0, 10],
          [0, 10],
          [0, 10],
          [0, 10],
        ],
        { min: c.min },
      );
      const r = simulate(trace, kedaScaledObject({ cooldownMs: c.cooldownMs }), { startupMs });
      for (const [at, n] of c.expect) assert.equal(workersAt(r.samples, at), n, `at ${at} ms`);
      // With min 0 the run ends when the pool is empty: at 615 s, KEDA's 1 → 0.
      if (c.min === 0) assert.equal(r.endAt, 615_000);
      assert.equal(r.busyKilled, 0, 'the jobs ended long before');
    });
  }

  it('scale-down kills the newest pods whether busy or not; their jobs run again', () => {
    // 3 jobs of 1000 s start at 15.2 s; at 315 s the pool goes 3 → 1 (min 1): 2 busy pods die.
    const trace = tiny(
      [
        [0, 1000],
        [0, 1000],
        [0, 1000],
      ],
      { min: 1 },
    );
    const r = simulate(trace, kedaScaledObject(), { startupMs, giveUpMs: 330_000 });
    assert.equal(r.busyKilled, 2);
    assert.equal(r.jobsRerun, 2);
    assert.equal(workersAt(r.samples, 316_000), 1);
  });

  it('1 → 0 after the cooldown kills a busy worker too (ready-only signal)', () => {
    const r = simulate(tiny([[0, 1000]]), kedaScaledObject(), { startupMs, giveUpMs: 330_000 });
    assert.equal(r.busyKilled, 1);
    assert.equal(workersAt(r.samples, 316_000), 0);
  });

  it('random victims are seeded: same seed, same victims', () => {
    const trace = tiny(
      Array.from({ length: 8 }, (_, i): [number, number] => [0, 100 + 400 * (i % 2)]),
      { min: 1 },
    );
    const run = (seed: number) =>
      simulate(trace, kedaScaledObject({ victims: 'random' }), {
        startupMs,
        seed,
        giveUpMs: 400_000,
      });
    assert.deepEqual([...run(7).waits], [...run(7).waits]);
    assert.ok(run(7).busyKilled > 0);
  });
});

describe('KEDA ScaledJob model (default strategy)', () => {
  it('creates min(ready − running, max − running) Jobs per poll, one job each', () => {
    // Poll 15: 5 ready, max 3 → 3 Jobs (run 15.2–25.2, then exit). Poll 45: 2 ready → 2 Jobs.
    const r = simulate(
      tiny(
        [
          [0, 10],
          [0, 10],
          [0, 10],
          [0, 10],
          [0, 10],
        ],
        { max: 3 },
      ),
      kedaScaledJob(),
      {
        startupMs,
      },
    );
    assert.deepEqual(waitsOf(r.waits), [15.2, 15.2, 15.2, 45.2, 45.2]);
    assert.equal(r.busyKilled, 0);
    assert.equal(r.scalingActions, 2);
  });

  it('running Jobs that already took their message still count: new work waits (keda #1222)', () => {
    // Poll 15: 2 Jobs take the 2 jobs. At 20, 2 more arrive; polls at 45…105 see ready 2,
    // running 2 → create 0. The first Jobs end at 115.2; poll 135 creates 2, ready at 135.2.
    const r = simulate(
      tiny([
        [0, 100],
        [0, 100],
        [20, 5],
        [20, 5],
      ]),
      kedaScaledJob(),
      { startupMs },
    );
    assert.deepEqual(waitsOf(r.waits), [15.2, 15.2, 115.2, 115.2]);
  });
});
