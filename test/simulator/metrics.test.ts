import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { excessP95, percentile, summarize } from '../../src/simulator/metrics.ts';
import { simulate } from '../../src/simulator/loop.ts';
import { lowerBound } from '../../src/simulator/policy.ts';
import { tiny } from './helpers.ts';

describe('percentile (nearest rank)', () => {
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const cases: [number[], number, number][] = [
    [ten, 50, 5],
    [ten, 95, 10],
    [ten, 99, 10],
    [ten, 10, 1],
    [ten, 0, 1],
    [[42], 99, 42],
    [[], 50, 0],
    [Array.from({ length: 100 }, (_, i) => i + 1), 95, 95],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99, 99],
  ];
  for (const [values, p, want] of cases) {
    it(`p${p} of ${values.length} values is ${want}`, () =>
      assert.equal(percentile(values, p), want));
  }
});

describe('summarize and excess p95', () => {
  it('reports seconds, and excess against the bound', () => {
    const trace = tiny(
      [
        [0, 10],
        [0, 10],
        [0, 10],
        [0, 10],
      ],
      { max: 2 },
    );
    const bound = summarize(simulate(trace, lowerBound(), { startupMs: 5000 }));
    // 2 workers ready at 5 s: two jobs wait 5 s, two wait for the first to end at 15 s.
    assert.equal(bound.p50, 5);
    assert.equal(bound.p95, 15);
    assert.equal(bound.p99, 15);
    assert.equal(excessP95({ ...bound, p95: 20 }, bound), 5);
  });
});
