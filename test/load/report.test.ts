import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCounts, formatMs, progressLine } from '../../src/load/report.ts';
import { currentRate, percentile, summarize } from '../../src/load/stats.ts';

describe('percentiles (nearest rank)', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);
  const cases: [name: string, values: number[], p: number, want: number][] = [
    ['p50 of 1..100', oneToHundred, 50, 50],
    ['p90 of 1..100', oneToHundred, 90, 90],
    ['p99 of 1..100', oneToHundred, 99, 99],
    ['p100 is the max', oneToHundred, 100, 100],
    ['p0 is the min', oneToHundred, 0, 1],
    ['one value is every percentile', [7], 99, 7],
    ['p50 of two is the lower', [1, 2], 50, 1],
    ['p99 of ten is the max', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99, 10],
  ];
  for (const [name, values, p, want] of cases) {
    it(name, () => assert.equal(percentile(values, p), want));
  }

  it('summarize sorts numerically, not as text, and is ordered', () => {
    assert.deepEqual(summarize([100, 9, 20, 3]), {
      count: 4,
      p50: 9,
      p90: 100,
      p99: 100,
      max: 100,
    });
    assert.equal(summarize([]), null);
    const s = summarize(Array.from({ length: 1000 }, () => Math.random() * 100))!;
    assert.ok(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.max);
  });
});

describe('live rate', () => {
  const cases: [name: string, samples: [number, number][], want: number][] = [
    ['no samples', [], 0],
    ['one sample', [[0, 10]], 0],
    [
      'steady 50/s',
      [
        [0, 0],
        [500, 25],
        [1000, 50],
      ],
      50,
    ],
    [
      'only the last second counts',
      [
        [0, 0],
        [1000, 500],
        [1500, 525],
        [2000, 550],
      ],
      50,
    ],
  ];
  for (const [name, samples, want] of cases) {
    it(name, () => assert.equal(currentRate(samples), want));
  }
});

describe('report formatting', () => {
  const cases: [name: string, got: () => string, want: string][] = [
    ['counts, most first', () => formatCounts({ B: 1, A: 3, C: 0 }), '3 A, 1 B'],
    ['no counts', () => formatCounts({}), ''],
    ['ms under a second', () => formatMs(12.345), '12.3 ms'],
    ['seconds above', () => formatMs(1534), '1.53 s'],
    [
      'the progress line while submitting',
      () =>
        progressLine({
          phase: 'submitting',
          submitted: 120,
          accepted: 118,
          rejected: 2,
          completed: 90,
          ratePerSec: 49.84,
        }),
      'submitted 120 · accepted 118 · rejected 2 · completed 90 · 49.8/s',
    ],
    [
      'the progress line while waiting',
      () =>
        progressLine({
          phase: 'waiting',
          submitted: 1,
          accepted: 1,
          rejected: 0,
          completed: 0,
          ratePerSec: 0,
        }),
      'submitted 1 · accepted 1 · rejected 0 · completed 0 · waiting for completions',
    ],
  ];
  for (const [name, got, want] of cases) it(name, () => assert.equal(got(), want));
});
