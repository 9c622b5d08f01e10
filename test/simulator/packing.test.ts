import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from '../../src/autoscaler/decide.ts';
import { EventQueue } from '../../src/simulator/events.ts';
import { Executor, type DispatchOrder } from '../../src/simulator/executor.ts';
import { simulate } from '../../src/simulator/loop.ts';
import { gafferPolicy } from '../../src/simulator/policy.ts';
import { tiny, workersAt } from './helpers.ts';

/** Runs `trace` on 3 workers started at t = 0 (no policy); each worker's last idleSince, ms. */
function idleSinceAfter(order: DispatchOrder, trace = spaced()): (number | null)[] {
  const events = new EventQueue();
  const ex = new Executor(trace, 200, events, order);
  ex.start('t', 3, 0, false);
  let next = 0;
  for (;;) {
    const at = Math.min(events.peekAt(), trace.jobs[next]?.at ?? Infinity);
    if (at === Infinity) break;
    while (events.peekAt() === at) {
      const { event } = events.pop()!;
      if (event.kind === 'ready') ex.ready(event.worker, at);
      else if (event.kind === 'done') ex.done(event.worker, event.job, event.epoch, at);
    }
    while (next < trace.jobs.length && trace.jobs[next]!.at === at) ex.arrive(next++, at);
  }
  return ex.workers.map((w) => w.idleSince);
}

/** One 0.5 s job a second, from 1 s to 4 s: never more than one at a time. */
const spaced = () =>
  tiny([
    [1, 0.5],
    [2, 0.5],
    [3, 0.5],
    [4, 0.5],
  ]);

describe('dispatch order', () => {
  it('pack: every job goes to the first worker, the others stay idle since they were ready', () =>
    assert.deepEqual(idleSinceAfter('pack'), [4500, 200, 200]));
  it('spread (a broker’s round robin): jobs rotate over the workers', () =>
    assert.deepEqual(idleSinceAfter('spread'), [4500, 2500, 3500]));
  it('pack fills the worker with the fewest free slots first', () => {
    // Concurrency 2: the second job joins the first worker rather than an empty one.
    const trace = tiny(
      [
        [1, 5],
        [2, 0.5],
      ],
      {},
      2,
    );
    assert.deepEqual(idleSinceAfter('pack', trace), [6000, 200, 200]);
  });
});

describe('gaffer in the simulator: scale-in by need', () => {
  // 5 jobs/s of 1 s jobs for 10 minutes, 5 s start-up, max 50: about 5 busy at a time.
  const steady = () =>
    tiny(
      Array.from({ length: 5 * 600 }, (_, i) => [i / 5, 1] as [number, number]),
      { max: 50 },
    );
  it('never starts close to max before a run time is known, and shrinks to the need', () => {
    const r = simulate(steady(), gafferPolicy(decide), { startupMs: 5000 });
    assert.equal(r.busyDrained, 0);
    // The queue rule alone starts about one per job queued during the 5 s start-up (25).
    assert.ok(r.peakWorkers <= 32, `peak ${r.peakWorkers}`);
    // need: 5 + 2·√5 = 9.5 → 10 workers.
    for (const at of [120_000, 300_000, 590_000]) {
      const n = workersAt(r.samples, at);
      assert.ok(n <= 10, `${n} workers at ${at / 1000} s`);
    }
  });
});
