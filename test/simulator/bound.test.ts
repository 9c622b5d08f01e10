import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import { decide } from '../../src/autoscaler/decide.ts';
import { capacityBinds, costFloor, sharedCapacityBound } from '../../src/simulator/bound.ts';
import { competing, defaultScaling, periodicBursts } from '../../src/simulator/generators.ts';
import { kedaScaledObject } from '../../src/simulator/keda.ts';
import { simulate } from '../../src/simulator/loop.ts';
import { summarize } from '../../src/simulator/metrics.ts';
import { gafferPolicy, lowerBound } from '../../src/simulator/policy.ts';
import type { Trace } from '../../src/simulator/trace.ts';
import { tiny, waitsOf } from './helpers.ts';

function two(
  capacity: number,
  types: Record<string, { max: number; concurrency?: number }>,
  jobs: [string, number, number][],
): Trace {
  return {
    version: 1,
    name: 'two',
    capacity,
    types: Object.fromEntries(
      Object.entries(types).map(([n, t]) => [
        n,
        { concurrency: t.concurrency ?? 1, scaling: defaultScaling({ max: t.max }) },
      ]),
    ),
    jobs: jobs.map(([type, at, run]) => ({ type, at: at * 1000, run: run * 1000 })),
  };
}

describe('lower bound under a shared global capacity', () => {
  it('serves first come, first served across types, from the start-up delay on', () => {
    const t = two(2, { a: { max: 2 }, b: { max: 2 } }, [
      ['a', 0, 10],
      ['a', 0, 10],
      ['b', 1, 1],
    ]);
    assert.ok(capacityBinds(t));
    assert.deepEqual(waitsOf(sharedCapacityBound(t, 1000).waits), [1, 1, 10]);
  });

  it("never runs more than a type's max, even with capacity free", () => {
    const t = two(3, { a: { max: 1 }, b: { max: 3 } }, [
      ['a', 0, 5],
      ['a', 0, 5],
      ['b', 1, 1],
    ]);
    assert.deepEqual(waitsOf(sharedCapacityBound(t, 0).waits), [0, 0, 5]);
  });

  it('a worker of concurrency c holds c jobs of its type', () => {
    const t = two(1, { a: { max: 1, concurrency: 2 }, b: { max: 1 } }, [
      ['a', 0, 4],
      ['a', 0, 4],
      ['b', 0, 1],
    ]);
    // One worker: both a jobs on it at once, b after them.
    assert.deepEqual(waitsOf(sharedCapacityBound(t, 0).waits), [0, 0, 4]);
  });

  it('equals the per-type bound when the capacity does not bind', () => {
    for (const trace of [periodicBursts(2), { ...competing(1), capacity: 60 }]) {
      assert.ok(!capacityBinds(trace));
      const shared = sharedCapacityBound(trace, 5000);
      const perType = simulate(trace, lowerBound(), { startupMs: 5000 });
      assert.deepEqual([...shared.waits], [...perType.waits]);
    }
  });

  it('is a floor for the policies on the competing trace (no negative excess)', () => {
    const trace = competing(6);
    const bound = summarize(sharedCapacityBound(trace, 200));
    for (const policy of [gafferPolicy(decide), kedaScaledObject()]) {
      const m = summarize(simulate(trace, policy, { startupMs: 200 }));
      assert.ok(m.p95 >= bound.p95 - 1e-9, `${policy.name} p95 ${m.p95} < bound ${bound.p95}`);
    }
  });
});

test('costFloor: Σ run ÷ concurrency, per type, in seconds', () => {
  const cases: [string, Parameters<typeof costFloor>[0], number][] = [
    ['no jobs', tiny([]), 0],
    [
      'one worker a job',
      tiny([
        [0, 1],
        [5, 3],
      ]),
      4,
    ],
    [
      'two jobs a worker',
      tiny(
        [
          [0, 1],
          [5, 3],
        ],
        {},
        2,
      ),
      2,
    ],
    [
      'types of different concurrency',
      {
        types: { a: { ...tiny([]).types['t']!, concurrency: 4 }, b: tiny([]).types['t']! },
        jobs: [
          { type: 'a', at: 0, run: 8000 },
          { type: 'b', at: 0, run: 8000 },
        ],
      },
      10,
    ],
  ];
  for (const [name, trace, floor] of cases) assert.equal(costFloor(trace), floor, name);
});
