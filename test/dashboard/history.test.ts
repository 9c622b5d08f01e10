import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/domain/clock.ts';
import { GafferEvents } from '../../src/domain/events.ts';
import type { Job } from '../../src/domain/job.ts';
import { HistorySampler, Ring, emptyWorkers } from '../../src/history/index.ts';
import { stderrLogger } from '../helpers/log.ts';

describe('Ring', () => {
  const cases: { capacity: number; pushed: number[]; expected: number[] }[] = [
    { capacity: 3, pushed: [], expected: [] },
    { capacity: 3, pushed: [1, 2], expected: [1, 2] },
    { capacity: 3, pushed: [1, 2, 3], expected: [1, 2, 3] },
    { capacity: 3, pushed: [1, 2, 3, 4], expected: [2, 3, 4] },
    { capacity: 3, pushed: [1, 2, 3, 4, 5, 6, 7], expected: [5, 6, 7] },
    { capacity: 1, pushed: [1, 2], expected: [2] },
  ];
  for (const c of cases) {
    test(`capacity ${c.capacity}, pushed ${c.pushed.length}: keeps the newest, oldest first`, () => {
      const ring = new Ring<number>(c.capacity);
      for (const n of c.pushed) ring.push(n);
      assert.deepEqual(ring.toArray(), c.expected);
      assert.equal(ring.size, c.expected.length);
    });
  }

  test('refuses a capacity that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5]) assert.throws(() => new Ring(bad), RangeError);
  });
});

describe('HistorySampler', () => {
  const job = (type: string) => ({ type }) as Job;

  function setup(keepMs = 15_000) {
    const clock = new ManualClock(1_000_000);
    const events = new GafferEvents(stderrLogger());
    let ready = 0;
    const sampler = new HistorySampler({
      clock,
      events,
      intervalMs: 5000,
      keepMs,
      read: async () => ({
        render: { ready, inFlight: 2, workers: { ...emptyWorkers(), busy: 2 } },
      }),
      log: stderrLogger(),
    });
    return { clock, events, sampler, setReady: (n: number) => (ready = n) };
  }

  test('samples depth and workers at the clock time, throughput per minute over the interval', async () => {
    const { clock, events, sampler, setReady } = setup();
    clock.advance(5000);
    setReady(7);
    for (let i = 0; i < 3; i++) events.emit('job:succeeded', { job: job('render') });
    events.emit('job:failed', { job: job('ocr') });
    await sampler.sample();
    const [s] = sampler.since();
    assert.equal(s!.at, 1_005_000);
    assert.deepEqual(s!.types['render'], {
      ready: 7,
      inFlight: 2,
      workers: { starting: 0, idle: 0, busy: 2, draining: 0 },
      finishedPerMin: 36, // 3 in 5 s
      failedPerMin: 0,
    });
    assert.equal(s!.types['ocr']!.failedPerMin, 12, 'a type seen only in events is sampled too');
    clock.advance(5000);
    await sampler.sample();
    assert.equal(sampler.since().at(-1)!.types['render']!.finishedPerMin, 0, 'counts restart');
    await sampler.stop();
  });

  test('keeps keepMs of history and answers since', async () => {
    const { clock, sampler } = setup(15_000);
    for (let i = 0; i < 5; i++) {
      clock.advance(5000);
      await sampler.sample();
    }
    const all = sampler.since();
    assert.deepEqual(
      all.map((s) => s.at),
      [1_015_000, 1_020_000, 1_025_000],
      'three samples of 5 s fill 15 s',
    );
    assert.deepEqual(
      sampler.since(1_020_000).map((s) => s.at),
      [1_020_000, 1_025_000],
    );
    await sampler.stop();
  });

  test("start samples at once, then every intervalMs of the clock's time; stop ends it", async () => {
    const { clock, sampler } = setup();
    sampler.start();
    await sampler.sample(); // joins the sample start took
    clock.advance(5000);
    await sampler.sample(); // joins the one the clock's timer took
    clock.advance(4999);
    assert.deepEqual(
      sampler.since().map((s) => s.at),
      [1_000_000, 1_005_000],
      'nothing before the next interval',
    );
    await sampler.stop();
    clock.advance(60_000);
    assert.equal(sampler.since().length, 2, 'no sample after stop');
  });

  test('stop ends the event counting', async () => {
    const { clock, events, sampler } = setup();
    await sampler.stop();
    events.emit('job:succeeded', { job: job('render') });
    clock.advance(5000);
    await sampler.sample();
    assert.equal(sampler.since()[0]!.types['render']!.finishedPerMin, 0);
  });
});
