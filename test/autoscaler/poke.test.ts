import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ControlLoop, pokeDelay, type ScalingTarget } from '../../src/autoscaler/control-loop.ts';
import type { ScalingConfig } from '../../src/config/schema.ts';
import { ManualClock, type TimedClock } from '../../src/domain/clock.ts';
import { GafferEvents, type WorkerInfo } from '../../src/domain/events.ts';
import { stderrLogger } from '../helpers/log.ts';

const GAP = 100;

test('pokeDelay: at once after a quiet gap, else the rest of it, never more than the gap', () => {
  const cases: [lastStartAt: number | null, now: number, expected: number][] = [
    [null, 5, 0],
    [1000, 1000, GAP],
    [1000, 1040, 60],
    [1000, 1100, 0],
    [1000, 5000, 0],
    [1000, 900, GAP], // the clock stepped back: wait one gap, not 200 ms
  ];
  for (const [last, now, expected] of cases) {
    assert.equal(pokeDelay(last, now, GAP), expected, `last ${last}, now ${now}`);
  }
});

/** A loop over one type with no worker, counting ticks (queueStats reads) and starts. */
function setup() {
  const clock = new ManualClock(1_000_000);
  // The loop's timers run on a clock of their own, so moving `clock` fires nothing: a deferred
  // tick runs only when the test fires it, as a timer held up by a busy event loop would.
  const timers = new ManualClock(0);
  const loopClock: TimedClock = {
    now: () => clock.now(),
    after: (ms, fn) => timers.after(ms, fn),
    every: (ms, fn) => timers.every(ms, fn),
  };
  const scaling: ScalingConfig = { min: 0, max: 5, threshold: 1, burst: 5, idleSeconds: 30 };
  const counts = { ticks: 0, started: 0 };
  const target: ScalingTarget = {
    types: () => [{ name: 'a', mode: 'pool', concurrency: 1, scaling }],
    queueStats: async () => {
      counts.ticks++;
      const stats = { ready: 10, delayed: 0, inFlight: 0, byState: {}, oldestReadyAt: null };
      return [{ type: 'a', ...stats }];
    },
    workers: (): WorkerInfo[] => [],
    start: async (_type, n) => {
      counts.started += n;
    },
    retire: () => {},
    record: async () => {},
  };
  // A long interval: only pokes cause ticks in these tests.
  const loop = new ControlLoop({
    target,
    clock: loopClock,
    events: new GafferEvents(stderrLogger()),
    intervalMs: 3_600_000,
    pokeGapMs: GAP,
    log: stderrLogger(),
  });
  // The deferred ticks: one-shot timers with how long each waits (`ms`); `fn` fires one.
  const pending = () =>
    timers
      .pending()
      .filter((t) => t.every === null)
      .map((t) => ({
        ms: t.dueAt - timers.now(),
        fn: () => timers.advance(t.dueAt - timers.now()),
      }));
  return { clock, loop, counts, pending };
}

test('a burst of pokes: one tick at once, then one deferred tick for the whole burst', async () => {
  const { loop, counts, pending } = setup();
  loop.start(); // start pokes once: the leading-edge tick
  await loop.idle();
  assert.equal(counts.ticks, 1);
  assert.ok(counts.started > 0, 'a type with no worker got workers on the first tick');

  for (let i = 0; i < 1000; i++) loop.poke();
  await loop.idle();
  assert.equal(counts.ticks, 1, 'pokes inside the gap do not tick');
  assert.equal(pending().length, 1, 'one deferred tick for all of them');
  assert.equal(pending()[0]!.ms, GAP);

  pending()[0]!.fn();
  await loop.idle();
  assert.equal(counts.ticks, 2);
  loop.stop();
});

test('a poke after the gap ticks at once and replaces the deferred tick', async () => {
  const { clock, loop, counts, pending } = setup();
  loop.start();
  await loop.idle();
  clock.advance(40);
  loop.poke();
  assert.equal(pending()[0]!.ms, GAP - 40, 'waits the rest of the gap');
  clock.advance(GAP);
  loop.poke();
  await loop.idle();
  assert.equal(counts.ticks, 2);
  assert.equal(pending().length, 0, 'the deferred tick was cancelled');
  loop.stop();
});

test('pokes during a tick cause exactly one more, still after the gap', async () => {
  const { loop, counts, pending } = setup();
  loop.start();
  loop.poke(); // the first tick is still running
  loop.poke();
  await loop.idle();
  assert.equal(counts.ticks, 1);
  assert.equal(pending().length, 1);
  pending()[0]!.fn();
  await loop.idle();
  assert.equal(counts.ticks, 2);
  loop.stop();
});

test('stop cancels the deferred tick; pokes after stop do nothing', async () => {
  const { loop, counts, pending } = setup();
  loop.start();
  await loop.idle();
  loop.poke();
  assert.equal(pending().length, 1);
  loop.stop();
  assert.equal(pending().length, 0);
  loop.poke();
  await loop.idle();
  assert.equal(counts.ticks, 1);
});
