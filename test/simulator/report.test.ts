import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, test } from 'node:test';
import type { SimResult } from '../../src/simulator/loop.ts';
import { main } from '../../src/simulator/main.ts';
import { judge, waitBar } from '../../src/simulator/report.ts';
import type { Run } from '../../src/simulator/suite.ts';
import { tiny } from './helpers.ts';

// The report checked into docs/ is what `npm run simulate` writes today: a change to the policy,
// the models or the traces that moves a number must come with the regenerated report.
test('docs/simulator/report.md is current (npm run simulate regenerates it byte for byte)', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'gaffer-sim-'));
  try {
    const write = process.stderr.write;
    process.stderr.write = () => true; // the per-run progress lines
    try {
      await main(['--out', out]);
    } finally {
      process.stderr.write = write;
    }
    const docs = new URL('../../docs/simulator/report.md', import.meta.url);
    assert.equal(readFileSync(path.join(out, 'report.md'), 'utf8'), readFileSync(docs, 'utf8'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

describe('the bars', () => {
  it('wait bar: 0.05 × KEDA’s excess, at least 0.25 s where that is under 5 s', () => {
    const cases: [number, number][] = [
      [0, 0.25],
      [2, 0.25],
      [4.99, 0.25],
      [5, 0.25],
      [20, 1],
      [100, 5],
    ];
    for (const [keda, bar] of cases) assert.ok(Math.abs(waitBar(keda) - bar) < 1e-9, `${keda}`);
  });

  /** A run result with these waits (s) and worker-seconds. */
  const result = (policy: string, waits: number[], workerSeconds: number, unfinished = 0) =>
    ({
      trace: 't',
      policy,
      startupMs: 200,
      waits: Float64Array.from(waits.map((w) => w * 1000)),
      workerSeconds,
      peakWorkers: 1,
      scalingActions: 0,
      busyKilled: 0,
      jobsRerun: 0,
      unfinished,
      endAt: 0,
      samples: [],
      busyDrained: 0,
    }) satisfies SimResult;
  const run = (results: SimResult[]): Run => ({
    trace: tiny([[0, 1]]),
    seed: 1,
    startupMs: 200,
    bound: result('lower bound', [0], 10),
    results,
  });

  it('judges against the fastest setting for waits and the cheapest for cost', () => {
    const v = judge(
      run([
        result('gaffer', [0.2], 50),
        result('keda-t1', [10], 100),
        result('keda-t20', [40], 30),
      ]),
    );
    assert.equal(v.fastest.policy, 'keda-t1');
    assert.equal(v.cheapest.policy, 'keda-t20');
    assert.equal(v.waitOk, true, '0.2 s ≤ 0.5 s');
    assert.equal(v.costOk, false, '50 > 30');
    assert.equal(v.cheapestExcess, 40);
    assert.equal(v.floor, 1, 'the trace is one job of 1 s: no policy runs it in less');
  });

  it('a setting that left jobs unfinished is not eligible as best, unless none finished', () => {
    const v = judge(
      run([
        result('gaffer', [0.2], 50),
        result('keda-t1', [10], 100),
        result('keda-t5', [Infinity], 5, 1),
      ]),
    );
    assert.equal(v.cheapest.policy, 'keda-t1');
    const none = judge(run([result('gaffer', [0.2], 50), result('keda-t5', [Infinity], 5, 1)]));
    assert.equal(none.cheapest.policy, 'keda-t5');
  });
});
