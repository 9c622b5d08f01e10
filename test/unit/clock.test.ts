import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, withTimers, type Timer } from '../../src/domain/clock.ts';

/** One step of a case: schedule, cancel or advance; `fired` logs `label@now` as timers run. */
type Step =
  | { after: number; label: string; then?: { after: number; label: string } }
  | { every: number; label: string }
  | { cancel: string }
  | { advance: number };

const CASES: { name: string; steps: Step[]; fired: string[]; pending?: number }[] = [
  {
    name: 'nothing fires before its due time; it fires when time reaches it',
    steps: [{ after: 100, label: 'a' }, { advance: 99 }, { advance: 1 }],
    fired: ['a@100'],
  },
  {
    name: 'timers fire in due order, whatever the order they were scheduled in',
    steps: [
      { after: 30, label: 'c' },
      { after: 10, label: 'a' },
      { after: 20, label: 'b' },
      { advance: 50 },
    ],
    fired: ['a@10', 'b@20', 'c@30'],
  },
  {
    name: 'timers due at the same time fire in scheduling order',
    steps: [{ after: 10, label: 'x' }, { after: 10, label: 'y' }, { advance: 10 }],
    fired: ['x@10', 'y@10'],
  },
  {
    name: 'an interval fires once per period crossed, interleaved with one-shots',
    steps: [{ every: 10, label: 'i' }, { after: 15, label: 'o' }, { advance: 35 }],
    fired: ['i@10', 'o@15', 'i@20', 'i@30'],
    pending: 1,
  },
  {
    name: 'a cancelled timer never fires; a cancelled interval stops',
    steps: [
      { after: 10, label: 'a' },
      { every: 5, label: 'i' },
      { cancel: 'a' },
      { advance: 12 },
      { cancel: 'i' },
      { advance: 100 },
    ],
    fired: ['i@5', 'i@10'],
    pending: 0,
  },
  {
    name: 'a timer scheduled by a firing timer fires in the same advance if it falls due in it',
    steps: [{ after: 10, label: 'a', then: { after: 5, label: 'b' } }, { advance: 15 }],
    fired: ['a@10', 'b@15'],
  },
  {
    name: '…and waits for a later advance if it does not',
    steps: [{ after: 10, label: 'a', then: { after: 20, label: 'b' } }, { advance: 15 }],
    fired: ['a@10'],
    pending: 1,
  },
  {
    name: 'a zero delay fires on the next advance, even advance(0)',
    steps: [{ after: 0, label: 'z' }, { advance: 0 }],
    fired: ['z@0'],
  },
];

for (const c of CASES) {
  test(`ManualClock: ${c.name}`, () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    const timers = new Map<string, Timer>();
    const log = (label: string) => fired.push(`${label}@${clock.now()}`);
    for (const step of c.steps) {
      if ('advance' in step) clock.advance(step.advance);
      else if ('cancel' in step) timers.get(step.cancel)!.cancel();
      else if ('every' in step) {
        timers.set(
          step.label,
          clock.every(step.every, () => log(step.label)),
        );
      } else {
        const { then } = step;
        const fn = () => {
          log(step.label);
          if (then) clock.after(then.after, () => log(then.label));
        };
        timers.set(step.label, clock.after(step.after, fn));
      }
    }
    assert.deepEqual(fired, c.fired);
    if (c.pending !== undefined) assert.equal(clock.pending().length, c.pending);
  });
}

test('ManualClock: after an advance, now() reads the target time whatever fired', () => {
  const clock = new ManualClock(1000);
  clock.after(10, () => {});
  clock.advance(25);
  assert.equal(clock.now(), 1025);
  assert.deepEqual(clock.pending(), []);
});

test('withTimers: a clock with timers is kept; a { now } clock gets real ones on its time', () => {
  const manual = new ManualClock(0);
  assert.equal(withTimers(manual), manual);
  const plain = withTimers({ now: () => 42 });
  assert.equal(plain.now(), 42);
  let ran = false;
  plain.after(0, () => (ran = true)).cancel();
  assert.equal(ran, false);
});
