import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from '../../src/autoscaler/decide.ts';
import type { DecideFn } from '../../src/autoscaler/policy.ts';
import {
  dailyCurve,
  diurnal,
  longTail,
  periodicBursts,
  poissonShort,
  steady,
} from '../../src/simulator/generators.ts';
import { simulate } from '../../src/simulator/loop.ts';
import { summarize } from '../../src/simulator/metrics.ts';
import { gafferPolicy } from '../../src/simulator/policy.ts';
import { Random } from '../../src/simulator/random.ts';
import type { Trace, TraceJob } from '../../src/simulator/trace.ts';
import { tiny } from './helpers.ts';

/** gaffer's policy blind to what is known ahead: no bursts, no due jobs. */
const cold: DecideFn = (obs, scaling) => decide({ ...obs, bursts: [], dueSoon: null }, scaling);

/** Bursts of `size` jobs every `periodS` seconds from `firstS`, each within 3 s, run 2 s. */
function bursts(seed: number, periodS: number, count: number, size: number): Trace {
  const rng = new Random(seed);
  const jobs: [number, number][] = [];
  for (let k = 0; k < count; k++) {
    for (let i = 0; i < size; i++) jobs.push([60 + k * periodS + rng.next() * 3, 2]);
  }
  const trace = tiny(
    jobs.sort((a, b) => a[0] - b[0]),
    { max: 20 },
  );
  trace.jobs = trace.jobs.map((j): TraceJob => ({ ...j, at: Math.round(j.at) }));
  return trace;
}

function p95(waits: number[]): number {
  const sorted = [...waits].sort((a, b) => a - b);
  return sorted[Math.ceil(0.95 * sorted.length) - 1]!;
}

describe('warming ahead in the simulator', () => {
  it('bursts every 7 min (a period no standard trace has): from the 4th on, each waits less', () => {
    for (const seed of [1, 2, 3]) {
      const trace = bursts(seed, 420, 8, 100);
      const from = (60 + 3 * 420) * 1000;
      const run = (p: DecideFn) => {
        const r = simulate(trace, gafferPolicy(p), { startupMs: 5000, seed });
        const late = trace.jobs.flatMap((j, i) => (j.at >= from ? [r.waits[i]!] : []));
        return { p95: p95(late), busyKilled: r.busyKilled };
      };
      const [before, after] = [run(cold), run(decide)];
      assert.ok(after.p95 < before.p95 - 2_000, `seed ${seed}: p95 ${after.p95} vs ${before.p95}`);
      assert.equal(after.busyKilled, 0);
    }
  });

  it('traffic with no recurring bursts runs exactly as without the warm floors', () => {
    const traces = [steady(1), diurnal(2), longTail(3), dailyCurve(200)(4), poissonShort(50)(5)];
    for (const trace of traces) {
      const run = (p: DecideFn) =>
        summarize(simulate(trace, gafferPolicy(p), { startupMs: 5000, seed: 1 }));
      assert.deepEqual(run(decide), run(cold), trace.name);
    }
  });

  it('on the periodic-bursts trace, excess waits fall and worker-seconds stay within 2%', () => {
    const trace = periodicBursts(3);
    const run = (p: DecideFn) =>
      summarize(simulate(trace, gafferPolicy(p), { startupMs: 5000, seed: 1 }));
    const [before, after] = [run(cold), run(decide)];
    assert.ok(after.p95 < before.p95, `p95 ${after.p95} vs ${before.p95}`);
    assert.ok(after.workerSeconds <= before.workerSeconds * 1.02);
  });
});
