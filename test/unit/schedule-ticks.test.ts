import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cronProblem, parseCron, timezoneProblem } from '../../src/schedules/cron.ts';
import {
  nextTick,
  ticksToFire,
  type TickDecision,
  type TickInput,
} from '../../src/schedules/ticks.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

/** Every 10 s; T is a tick. */
const every10s = parseCron('*/10 * * * * *');
const T = at('2026-01-01T00:00:00Z');
const s = (seconds: number) => T + seconds * 1000;

const base: TickInput = {
  cron: every10s,
  lastTick: T,
  since: T - 3_600_000,
  now: s(10),
  missed: 'skip',
  graceMs: 30_000,
  overlap: 'allow',
  running: false,
  paused: false,
};

test('ticksToFire: each rule, with its reason', () => {
  const cases: { why: string; input: Partial<TickInput>; want: TickDecision }[] = [
    {
      why: 'before the next tick nothing is due',
      input: { now: s(9.999) },
      want: { fire: [], advanceTo: null, reason: 'not_due' },
    },
    {
      why: 'a tick is due at its own second',
      input: { now: s(10) },
      want: { fire: [s(10)], advanceTo: s(10), reason: 'due' },
    },
    {
      why: 'and while the pass comes late, within the grace',
      input: { now: s(12.5) },
      want: { fire: [s(10)], advanceTo: s(10), reason: 'due' },
    },
    {
      why: 'a tick already fired is not due again',
      input: { lastTick: s(10), now: s(15) },
      want: { fire: [], advanceTo: null, reason: 'not_due' },
    },
    {
      why: 'skip: of several due ticks only the latest fires',
      input: { now: s(45) },
      want: { fire: [s(40)], advanceTo: s(40), reason: 'missed' },
    },
    {
      why: 'skip: none fires when the latest is older than the grace',
      input: { now: s(45), graceMs: 4_000 },
      want: { fire: [], advanceTo: s(40), reason: 'missed' },
    },
    {
      why: 'skip: the grace is inclusive',
      input: { now: s(45), graceMs: 5_000 },
      want: { fire: [s(40)], advanceTo: s(40), reason: 'missed' },
    },
    {
      why: 'catchUp: every due tick fires, oldest first, when there are no more than N',
      input: { now: s(35), missed: { catchUp: 5 } },
      want: { fire: [s(10), s(20), s(30)], advanceTo: s(30), reason: 'due' },
    },
    {
      why: 'catchUp: at most the N most recent, oldest first; the older ones pass',
      input: { now: s(65), missed: { catchUp: 2 } },
      want: { fire: [s(50), s(60)], advanceTo: s(60), reason: 'missed' },
    },
    {
      why: 'catchUp has no grace: an old tick still fires',
      input: { lastTick: s(-3600), now: s(-3590) + 86_400_000, missed: { catchUp: 1 } },
      want: { fire: [s(-3590) + 86_400_000], advanceTo: s(-3590) + 86_400_000, reason: 'missed' },
    },
    {
      why: 'overlap skip: while the previous run is unfinished every due tick passes',
      input: { now: s(35), overlap: 'skip', running: true, missed: { catchUp: 5 } },
      want: { fire: [], advanceTo: s(30), reason: 'overlap' },
    },
    {
      why: 'overlap allow: a tick fires even while the previous run is unfinished',
      input: { now: s(10), running: true },
      want: { fire: [s(10)], advanceTo: s(10), reason: 'due' },
    },
    {
      why: 'overlap skip: one tick at a time, the oldest kept; the others stay due',
      input: { now: s(35), overlap: 'skip', missed: { catchUp: 5 } },
      want: { fire: [s(10)], advanceTo: s(10), reason: 'due' },
    },
    {
      why: 'overlap skip after a cut by catchUp: the oldest of the N kept',
      input: { now: s(65), overlap: 'skip', missed: { catchUp: 2 } },
      want: { fire: [s(50)], advanceTo: s(50), reason: 'missed' },
    },
    {
      why: 'paused: every due tick passes, and none is caught up later',
      input: { now: s(35), paused: true, missed: { catchUp: 5 } },
      want: { fire: [], advanceTo: s(30), reason: 'paused' },
    },
    {
      why: 'paused with nothing due changes nothing',
      input: { now: s(5), paused: true },
      want: { fire: [], advanceTo: null, reason: 'not_due' },
    },
    {
      why: 'a new schedule: only ticks after it was first seen are due',
      input: { lastTick: null, since: s(25), now: s(35), missed: { catchUp: 5 } },
      want: { fire: [s(30)], advanceTo: s(30), reason: 'due' },
    },
    {
      why: 'a new schedule seen on a tick does not fire that tick',
      input: { lastTick: null, since: s(30), now: s(35) },
      want: { fire: [], advanceTo: null, reason: 'not_due' },
    },
  ];
  for (const c of cases) {
    const got = ticksToFire({ ...base, ...c.input });
    assert.deepEqual(show(got), show(c.want), c.why);
  }
});

test('ticksToFire: a week of every-second ticks missed costs only the N latest', () => {
  const everySecond = parseCron('* * * * * *');
  const now = T + 7 * 86_400_000 + 500;
  const got = ticksToFire({ ...base, cron: everySecond, now, missed: { catchUp: 3 } });
  assert.deepEqual(got.fire.map(iso), [now - 2500, now - 1500, now - 500].map(iso));
  assert.equal(got.reason, 'missed');
});

test('nextTick: the first tick strictly after now', () => {
  assert.equal(nextTick(every10s, s(10)), s(20));
  assert.equal(nextTick(every10s, s(10.001)), s(20));
  assert.equal(nextTick(every10s, s(9.999)), s(10));
});

test('expressions: five fields are minutes, six start with seconds, a zone moves them', () => {
  assert.equal(iso(parseCron('30 2 * * *').next(T)!), '2026-01-01T02:30:00.000Z');
  assert.equal(iso(parseCron('15 30 2 * * *').next(T)!), '2026-01-01T02:30:15.000Z');
  assert.equal(
    iso(parseCron('30 2 * * *', 'America/New_York').next(T)!),
    '2026-01-01T07:30:00.000Z',
  );
  assert.equal(iso(parseCron('@hourly').next(T)!), '2026-01-01T01:00:00.000Z');
});

test('expressions: refused with a reason', () => {
  assert.match(cronProblem('61 * * * *') ?? '', /minute/);
  assert.match(cronProblem('* * * * * * *') ?? '', /5 or 6 parts/);
  assert.match(cronProblem('not cron') ?? '', /./);
  assert.match(cronProblem('0 0 30 2 *') ?? '', /never fires/);
  assert.match(cronProblem('* * * * *', 'Mars/Base') ?? '', /not an IANA time zone/);
  assert.equal(cronProblem('0 9 * * MON-FRI', 'Europe/Berlin'), null);
  assert.equal(timezoneProblem('Europe/Berlin'), null);
  assert.match(timezoneProblem('CEST+1') ?? '', /IANA/);
});

/**
 * Europe/Berlin: clocks go forward on 2026-03-29 at 02:00 (to 03:00, 01:00Z) and back on
 * 2026-10-25 at 03:00 (to 02:00, 01:00Z). The rules are croner's (src/schedules/cron.ts).
 */
test('DST: a fixed time in the spring gap fires once, right after the gap', () => {
  const daily = parseCron('30 2 * * *', 'Europe/Berlin');
  const ticks = walk(daily, at('2026-03-28T12:00:00Z'), 3);
  assert.deepEqual(ticks, [
    '2026-03-29T01:00:00.000Z', // 03:00 CEST: the first valid time after the gap
    '2026-03-30T00:30:00.000Z',
    '2026-03-31T00:30:00.000Z',
  ]);
});

test('DST: a fixed time that occurs twice in the autumn fires once, the first time', () => {
  const daily = parseCron('30 2 * * *', 'Europe/Berlin');
  assert.deepEqual(walk(daily, at('2026-10-24T12:00:00Z'), 2), [
    '2026-10-25T00:30:00.000Z', // 02:30 CEST; 02:30 CET (01:30Z) does not fire
    '2026-10-26T01:30:00.000Z',
  ]);
});

test('DST: an interval skips the spring gap and fires on both autumn occurrences', () => {
  const halfHours = parseCron('*/30 2 * * *', 'Europe/Berlin');
  assert.deepEqual(walk(halfHours, at('2026-03-28T23:00:00Z'), 1), ['2026-03-30T00:00:00.000Z']);
  assert.deepEqual(walk(halfHours, at('2026-10-24T23:00:00Z'), 4), [
    '2026-10-25T00:00:00.000Z',
    '2026-10-25T00:30:00.000Z',
    '2026-10-25T01:00:00.000Z',
    '2026-10-25T01:30:00.000Z',
  ]);
});

test('DST: catching up across the autumn overlap sees the same ticks as walking forward', () => {
  const halfHours = parseCron('*/30 2 * * *', 'Europe/Berlin');
  const got = ticksToFire({
    ...base,
    cron: halfHours,
    lastTick: at('2026-10-24T12:00:00Z'),
    now: at('2026-10-25T02:00:00Z'),
    missed: { catchUp: 10 },
  });
  assert.deepEqual(got.fire.map(iso), walk(halfHours, at('2026-10-24T12:00:00Z'), 4));
  assert.equal(got.reason, 'due');
});

test('DST: the N latest of more due ticks across the autumn overlap are the last N walked', () => {
  const halfHours = parseCron('*/30 2 * * *', 'Europe/Berlin');
  const from = at('2026-10-24T12:00:00Z');
  const got = ticksToFire({
    ...base,
    cron: halfHours,
    lastTick: from,
    now: at('2026-10-25T02:00:00Z'),
    missed: { catchUp: 3 },
  });
  assert.deepEqual(got.fire.map(iso), walk(halfHours, from, 4).slice(1));
  assert.equal(got.reason, 'missed');
});

/** The next `n` ticks after `from`, as ISO strings. */
function walk(cron: ReturnType<typeof parseCron>, from: number, n: number): string[] {
  const out: string[] = [];
  let t: number | null = from;
  while (out.length < n && (t = cron.next(t)) !== null) out.push(iso(t));
  return out;
}

/** A decision with its ticks as ISO strings: failures name times, not epoch numbers. */
function show(d: TickDecision) {
  return {
    fire: d.fire.map(iso),
    advanceTo: d.advanceTo === null ? null : iso(d.advanceTo),
    reason: d.reason,
  };
}
