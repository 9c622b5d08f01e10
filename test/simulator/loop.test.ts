import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from '../../src/autoscaler/decide.ts';
import type { DecideFn } from '../../src/autoscaler/policy.ts';
import { competing, defaultTraces, periodicBursts } from '../../src/simulator/generators.ts';
import { kedaScaledJob, kedaScaledObject } from '../../src/simulator/keda.ts';
import { EventQueue } from '../../src/simulator/events.ts';
import { Executor } from '../../src/simulator/executor.ts';
import { simulate } from '../../src/simulator/loop.ts';
import { summarize } from '../../src/simulator/metrics.ts';
import { allotment, gafferPolicy, lowerBound } from '../../src/simulator/policy.ts';
import { renderReport } from '../../src/simulator/report.ts';
import { runSuite, standardPolicies } from '../../src/simulator/suite.ts';
import { tiny, waitsOf } from './helpers.ts';

describe('event loop', () => {
  it('is deterministic: same seed → same metrics and samples, for every policy', () => {
    for (const policy of [gafferPolicy(decide), kedaScaledObject({ target: 5 }), kedaScaledJob()]) {
      const a = simulate(periodicBursts(3), policy, { startupMs: 5000, seed: 9 });
      const b = simulate(periodicBursts(3), policy, { startupMs: 5000, seed: 9 });
      assert.deepEqual(summarize(a), summarize(b));
      assert.deepEqual(a.samples, b.samples);
    }
  });

  it('the same seed gives a byte-identical report', () => {
    const traces = [
      tiny([
        [0, 3],
        [1, 3],
        [30, 100],
        [31, 2],
      ]),
      periodicBursts(5),
    ];
    const report = () => renderReport(runSuite(traces, standardPolicies(), { seed: 2 }));
    assert.equal(report(), report());
  });

  it('the lower bound starts max workers at t = 0 and never removes one', () => {
    const trace = tiny(
      [
        [0, 10],
        [0, 10],
        [0, 10],
        [20, 10],
      ],
      { max: 2 },
    );
    const r = simulate(trace, lowerBound(), { startupMs: 200 });
    assert.deepEqual(waitsOf(r.waits), [0, 0.2, 0.2, 10.2]);
    assert.equal(r.peakWorkers, 2);
    assert.equal(r.scalingActions, 1);
    // Held until the last job ends at 30 s: 2 workers × 30 s.
    assert.equal(r.workerSeconds, 60);
  });

  it('the lower bound shares a global capacity in proportion to each type max', () => {
    assert.deepEqual(allotment(competing(1)), { interactive: 20, batch: 20 });
    const t = competing(1);
    t.types['batch']!.scaling.max = 10;
    assert.deepEqual(allotment(t), { interactive: 30, batch: 10 });
    t.capacity = 7;
    assert.deepEqual(allotment(t), { interactive: 5, batch: 2 });
  });

  it('no policy places more workers than the global capacity', () => {
    for (const p of [...standardPolicies(), lowerBound()]) {
      const r = simulate(competing(1), p, { startupMs: 5000 });
      assert.ok(r.peakWorkers <= 40, `${p.name}: ${r.peakWorkers}`);
      assert.equal(r.unfinished, 0, p.name);
    }
  });

  it('takes the policy as a parameter: any DecideFn is fed real observations', () => {
    const seen: number[] = [];
    const spy: DecideFn = (obs, scaling) => {
      seen.push(obs.ready);
      assert.equal(obs.mode, 'pool');
      for (const w of obs.workers) {
        assert.ok(['starting', 'idle', 'busy', 'draining'].includes(w.state));
      }
      return decide(obs, scaling);
    };
    const r = simulate(
      tiny([
        [0, 5],
        [0, 5],
        [2, 5],
      ]),
      gafferPolicy(spy),
      { startupMs: 200 },
    );
    assert.ok(seen.length > 0);
    assert.equal(seen[0], 2, 'the first tick sees the two jobs that arrived at 0');
    assert.equal(r.unfinished, 0);
  });
});

describe("gaffer's policy in the simulator", () => {
  for (const startupMs of [200, 5000]) {
    it(`never drains or kills a busy worker, and finishes every job (start-up ${startupMs} ms)`, () => {
      for (const trace of defaultTraces(1)) {
        const r = simulate(trace, gafferPolicy(decide), { startupMs });
        assert.equal(r.busyDrained, 0, trace.name);
        assert.equal(r.busyKilled, 0, trace.name);
        assert.equal(r.jobsRerun, 0, trace.name);
        assert.equal(r.unfinished, 0, trace.name);
      }
    });
  }
});

describe("gaffer's ticks and dispatch, as its control loop and gateway have them", () => {
  it('ticks periodically and when poked (jobs for a type with no worker, a worker stopped), 100 ms apart at least', () => {
    const at: number[] = [];
    // Starts a worker when there is none and work is ready; retires idle workers from 1 s on.
    const policy: DecideFn = (obs) => {
      at.push(obs.now);
      const start = obs.workers.length === 0 && obs.ready > 0 ? 1 : 0;
      const retire = obs.now >= 1000 ? obs.workers.filter((w) => w.state === 'idle') : [];
      const from = obs.workers.length;
      const to = from + start - retire.length;
      const ids = retire.map((w) => w.id);
      return { type: obs.type, from, to, start, retire: ids, reason: '', inputs: {} };
    };
    const trace = tiny([
      [0, 0.1],
      [0.02, 0.1],
      [3, 0.1], // keeps the run going past the pool's end (it stops at 2.1 s)
    ]);
    simulate(trace, gafferPolicy(policy, { phaseMs: 50 }), { startupMs: 200, stopAtMs: 2100 });
    // 0: poked, no worker; 50: periodic, deferred to the gap's end; 20 ms: a worker is starting, so
    // no poke; 1050: periodic, retires the idle worker; 1150: poked by its stop, after the gap.
    assert.deepEqual(at, [0, 100, 1050, 1150, 2050]);
  });

  it("a new job goes to gaffer's first-started waiting worker, KEDA's longest-waiting one", () => {
    for (const [dispatch, taker] of [
      ['pack', 0],
      ['spread', 1],
    ] as const) {
      const ex = new Executor(
        tiny([
          [0, 1],
          [2, 1],
        ]),
        0,
        new EventQueue(),
        dispatch,
      );
      ex.start('t', 2, 0, false);
      ex.ready(0, 0);
      ex.ready(1, 0);
      ex.arrive(0, 0);
      assert.ok(ex.workers[0]!.jobs.has(0), dispatch);
      ex.done(0, 0, 0, 1000);
      ex.arrive(1, 2000);
      assert.ok(ex.workers[taker]!.jobs.has(1), dispatch);
    }
    assert.equal(gafferPolicy(decide).dispatch, 'pack');
  });
});
