import assert from 'node:assert/strict';
import { test } from 'node:test';
import { every, type Scheduler } from '../../src/executors/kubernetes/scheduler.ts';

/** A scheduler whose time moves only by `advance`, firing the timers due on the way, in order. */
function manualScheduler(start = 0): Scheduler & { advance(ms: number): void } {
  let now = start;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return { cancel: () => (timers = timers.filter((t) => t !== timer)) };
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((t) => t !== due);
        now = due.at;
        due.fn();
      }
      now = end;
    },
  };
}

test('every: calls once per period until cancelled, including from within a call', () => {
  const scheduler = manualScheduler();
  const calls: number[] = [];
  const timer = every(scheduler, 100, () => {
    calls.push(scheduler.now());
    if (calls.length === 3) timer.cancel();
  });
  scheduler.advance(99);
  assert.deepEqual(calls, []);
  scheduler.advance(1000);
  assert.deepEqual(calls, [100, 200, 300]);
});

test('every: a cancel before the first period calls nothing', () => {
  const scheduler = manualScheduler();
  let calls = 0;
  every(scheduler, 100, () => calls++).cancel();
  scheduler.advance(1000);
  assert.equal(calls, 0);
});
