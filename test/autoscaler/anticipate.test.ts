import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  burstFloor,
  DEFAULT_STARTUP_MS,
  dueFloor,
  gapFloor,
  leadMs,
  MIN_BURSTS,
  PATTERN_BURSTS,
  predictBurst,
  warmFloor,
  type Burst,
  type WarmInput,
  type WarmLimits,
} from '../../src/autoscaler/anticipate.ts';
import { decide } from '../../src/autoscaler/decide.ts';
import type { ScalingConfig } from '../../src/config/schema.ts';
import { observationAt, workerAt } from './workers.ts';

const MIN = 60_000;
/** 10:20:00 UTC on some day: reasons print the time of day. */
const T = Date.UTC(2026, 0, 5, 10, 20, 0);
const LIM: WarmLimits = { max: 30, target: 2, idleSeconds: 30 };
const at = (partial: Partial<WarmInput>): WarmInput => ({
  now: T,
  ready: 0,
  inFlight: 0,
  startupMs: 5_000,
  tickMs: 1_000,
  ...partial,
});
/** Bursts of `size` every `period` ms, the last starting at `lastAt`, each lasting 10 s. */
const every = (period: number, lastAt: number, count = 3, size = 100): Burst[] =>
  Array.from({ length: count }, (_, i) => {
    const start = lastAt - (count - 1 - i) * period;
    return { at: start, size, endAt: start + 10_000 };
  });

describe('leadMs', () => {
  test('the measured start-up plus one tick; a default before any start was measured', () => {
    assert.equal(leadMs(5_000, 1_000), 6_000);
    assert.equal(leadMs(null, 1_000), DEFAULT_STARTUP_MS + 1_000);
    assert.equal(leadMs(undefined), DEFAULT_STARTUP_MS + 1_000);
  });
});

describe('dueFloor: delayed jobs falling due within the lead', () => {
  const cases: { name: string; input: Partial<WarmInput>; workers: number | null }[] = [
    { name: 'none due', input: {}, workers: null },
    {
      name: 'none due soon (count 0)',
      input: { dueSoon: { count: 0, firstAt: T } },
      workers: null,
    },
    {
      name: '3 due in 4 s, 2 per worker',
      input: { dueSoon: { count: 3, firstAt: T + 4_000 } },
      workers: 2,
    },
    {
      name: 'beside the work already here',
      input: { ready: 1, inFlight: 2, dueSoon: { count: 3, firstAt: T + 4_000 } },
      workers: 3,
    },
    {
      name: 'first due beyond the lead',
      input: { dueSoon: { count: 3, firstAt: T + 6_001 } },
      workers: null,
    },
    {
      name: 'the lead follows the measured start-up',
      input: { startupMs: 20_000, dueSoon: { count: 3, firstAt: T + 20_000 } },
      workers: 2,
    },
    { name: 'bounded by max', input: { dueSoon: { count: 1_000, firstAt: T + 1 } }, workers: 30 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(dueFloor(at(c.input), LIM)?.workers ?? null, c.workers);
    });
  }

  test('its reason names the jobs, their due time and the start-up delay', () => {
    const f = dueFloor(at({ dueSoon: { count: 3, firstAt: T + 5_000 } }), LIM);
    assert.equal(f?.reason, '3 jobs due at 10:20:05, start-up ~5 s');
  });
});

describe('predictBurst and burstFloor', () => {
  test(`no prediction from fewer than ${MIN_BURSTS} bursts`, () => {
    assert.equal(predictBurst(every(10 * MIN, T, MIN_BURSTS - 1)), null);
  });

  test('the next burst one mean gap after the last, with the median size', () => {
    const p = predictBurst(every(10 * MIN, T - 10 * MIN));
    assert.deepEqual(p, { at: T, periodMs: 10 * MIN, spreadMs: 0, size: 100, from: 3 });
  });

  test('two bursts predict a third one gap on; a third that does not match ends it', () => {
    const two = every(10 * MIN, T - 10 * MIN, 2);
    assert.deepEqual(predictBurst(two), {
      at: T,
      periodMs: 10 * MIN,
      spreadMs: 0,
      size: 100,
      from: 2,
    });
    assert.match(burstFloor(at({ now: T, bursts: two }), LIM)!.reason, /from the last 2 bursts/);
    const off = [...two, { at: T - 3 * MIN, size: 100, endAt: T - 3 * MIN + 10_000 }];
    assert.equal(predictBurst(off), null);
  });

  test('gaps that do not match: no prediction', () => {
    const bursts: Burst[] = [
      { at: T - 30 * MIN, size: 100, endAt: T - 30 * MIN + 10_000 },
      { at: T - 20 * MIN, size: 100, endAt: T - 20 * MIN + 10_000 },
      { at: T - 5 * MIN, size: 100, endAt: T - 5 * MIN + 10_000 },
    ];
    assert.equal(predictBurst(bursts), null);
  });

  const bursts = every(10 * MIN, T - 10 * MIN); // the next expected at T
  const cases: { name: string; now: number; workers: number | null }[] = [
    { name: 'long before the burst: nothing', now: T - 60_000, workers: null },
    { name: 'one lead before: the burst size ÷ 2 per worker', now: T - 6_000, workers: 30 },
    { name: 'just before the lead: nothing yet', now: T - 6_001, workers: null },
    { name: 'at the predicted time', now: T, workers: 30 },
    { name: 'late within the tolerance', now: T + 2_000, workers: 30 },
    { name: 'past the tolerance: a miss, dropped', now: T + 2_001, workers: null },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(burstFloor(at({ now: c.now, bursts }), LIM)?.workers ?? null, c.workers);
    });
  }

  test('sized by the burst, not the max', () => {
    const small = every(10 * MIN, T - 10 * MIN, 3, 9);
    assert.equal(burstFloor(at({ now: T - 1_000, bursts: small }), LIM)?.workers, 5);
  });

  test('a daily burst with a minute of spread is late after two minutes, not hours', () => {
    const DAY = 24 * 60 * MIN;
    const daily: Burst[] = [T - 3 * DAY, T - 2 * DAY - MIN, T - DAY].map((start) => ({
      at: start,
      size: 1_000,
      endAt: start + 10_000,
    }));
    const next = predictBurst(daily)!;
    assert.equal(Math.round(next.spreadMs), MIN);
    assert.equal(burstFloor(at({ now: next.at - 6_000 - MIN, bursts: daily }), LIM)?.workers, 30);
    assert.equal(burstFloor(at({ now: next.at + 2 * MIN, bursts: daily }), LIM)?.workers, 30);
    assert.equal(burstFloor(at({ now: next.at + 2 * MIN + 1, bursts: daily }), LIM), null);
  });

  test('not when warming ahead costs more than the waits it saves', () => {
    // 5 workers idle up to tick + spread (1 s + 20 s) = 105 worker-s vs 9 jobs × 5 s = 45 s.
    const jittery: Burst[] = [T - 20 * MIN - 20_000, T - 10 * MIN + 20_000, T].map((start) => ({
      at: start,
      size: 9,
      endAt: start + 10_000,
    }));
    const next = predictBurst(jittery)!;
    assert.ok(next.spreadMs >= 20_000);
    assert.equal(burstFloor(at({ now: next.at - 6_000, bursts: jittery }), LIM), null);
  });

  test('its reason names the expected time and the bursts it comes from', () => {
    const f = burstFloor(at({ now: T - 3_000, bursts }), LIM);
    assert.equal(
      f?.reason,
      'burst of ~100 expected at 10:20:00 from the last 3 bursts every 600 s, start-up ~5 s',
    );
  });
});

describe('gapFloor: warm between bursts when it costs less than the waits it saves', () => {
  // Bursts of 20 jobs lasting 10 s, 2 per worker: k = 10. Keep through gap g when
  // 10·g < 10·(min(g, 30) + 5) + 20·5 = 10·min(g, 30) + 150.
  const burstsWithGap = (gapMs: number): Burst[] => {
    const out: Burst[] = [];
    let start = T - 3 * (10_000 + gapMs);
    for (let i = 0; i < 3; i++) {
      out.push({ at: start, size: 20, endAt: start + 10_000 });
      start += 10_000 + gapMs;
    }
    return out;
  };
  const cases: { gapS: number; workers: number | null }[] = [
    { gapS: 20, workers: 10 },
    { gapS: 44, workers: 10 },
    { gapS: 45, workers: null },
    { gapS: 120, workers: null },
  ];
  for (const c of cases) {
    test(`gap ${c.gapS} s → ${c.workers ?? 'no floor'}`, () => {
      const bursts = burstsWithGap(c.gapS * 1000);
      const now = bursts.at(-1)!.endAt! + 1_000;
      assert.equal(gapFloor(at({ now, bursts }), LIM)?.workers ?? null, c.workers);
    });
  }

  test(`not on the evidence of fewer than ${PATTERN_BURSTS} bursts: a miss costs the whole gap`, () => {
    const bursts = burstsWithGap(20_000).slice(-(PATTERN_BURSTS - 1));
    const now = bursts.at(-1)!.endAt! + 1_000;
    assert.equal(gapFloor(at({ now, bursts }), LIM), null);
  });

  test('dropped once the next burst is overdue', () => {
    const bursts = burstsWithGap(20_000);
    const now = bursts.at(-1)!.endAt! + 20_000 + 2_001;
    assert.equal(gapFloor(at({ now, bursts }), LIM), null);
  });

  test('none while a burst goes on', () => {
    const bursts = burstsWithGap(20_000);
    bursts.at(-1)!.endAt = null;
    assert.equal(gapFloor(at({ now: bursts.at(-1)!.at + 1_000, bursts }), LIM), null);
  });
});

describe('warmFloor properties', () => {
  const burstArb = fc.record({
    at: fc.integer({ min: 0, max: 10_000_000 }),
    size: fc.integer({ min: 0, max: 100_000 }),
    endAt: fc.option(fc.integer({ min: 0, max: 10_000_000 })),
  });
  const inputArb = fc.record({
    now: fc.integer({ min: 0, max: 12_000_000 }),
    ready: fc.integer({ min: 0, max: 10_000 }),
    inFlight: fc.integer({ min: 0, max: 10_000 }),
    startupMs: fc.option(fc.integer({ min: 0, max: 120_000 })),
    tickMs: fc.integer({ min: 1, max: 60_000 }),
    dueSoon: fc.option(
      fc.record({
        count: fc.integer({ min: 0, max: 10_000 }),
        firstAt: fc.integer({ min: 0, max: 12_000_000 }),
      }),
    ),
    bursts: fc.array(burstArb, { maxLength: 8 }).map((bs) => [...bs].sort((a, b) => a.at - b.at)),
  });
  const limArb = fc.record({
    max: fc.integer({ min: 0, max: 500 }),
    target: fc.integer({ min: 1, max: 50 }),
    idleSeconds: fc.integer({ min: 0, max: 600 }),
  });

  test('never above max, never negative', () => {
    fc.assert(
      fc.property(inputArb, limArb, (input, lim) => {
        const f = warmFloor(input, lim);
        if (f === null) return;
        assert.ok(f.workers >= 1, `floor ${f.workers} is positive when present`);
        assert.ok(f.workers <= lim.max, `floor ${f.workers} ≤ max ${lim.max}`);
      }),
    );
  });

  test(`no burst floor without evidence of ${MIN_BURSTS} bursts`, () => {
    fc.assert(
      fc.property(inputArb, limArb, (input, lim) => {
        const few = { ...input, dueSoon: null, bursts: input.bursts.slice(0, MIN_BURSTS - 1) };
        assert.equal(warmFloor(few, lim), null);
      }),
    );
  });

  test('decide never plans above max with a floor, and never retires below it', () => {
    const scaling: ScalingConfig = { min: 0, max: 7, threshold: 40, burst: 5, idleSeconds: 0 };
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 0, max: 12 }), (input, idle) => {
        const workers = Array.from({ length: idle }, (_, i) =>
          workerAt(input.now, `w${i}`, 'idle', 100),
        );
        const d = decide(observationAt(input.now, { ...input, workers }), scaling);
        assert.ok(d.to <= Math.max(scaling.max, idle), `to ${d.to}`);
        const floor = d.inputs.warmFloor ?? 0;
        assert.ok(d.to >= Math.min(floor, idle) || d.start > 0, `to ${d.to} under floor ${floor}`);
      }),
    );
  });
});

describe('decide with a warm floor', () => {
  const scaling: ScalingConfig = { min: 0, max: 30, threshold: 40, burst: 5, idleSeconds: 30 };

  test('starts straight to the floor ahead of a predicted burst, and says why', () => {
    const bursts = every(10 * MIN, T - 10 * MIN);
    const d = decide(
      observationAt(T - 5_000, { concurrency: 2, startupMs: 5_000, tickMs: 1_000, bursts }),
      scaling,
    );
    assert.equal(d.start, 30);
    assert.equal(
      d.reason,
      '0 → 30: burst of ~100 expected at 10:20:00 from the last 3 bursts every 600 s, start-up ~5 s, desired 30, max 30',
    );
  });

  test('starts workers for jobs due within the lead', () => {
    const d = decide(
      observationAt(T, { startupMs: 5_000, dueSoon: { count: 3, firstAt: T + 5_000 } }),
      scaling,
    );
    assert.equal(d.start, 3);
    assert.match(d.reason, /^0 → 3: 3 jobs due at 10:20:05, start-up ~5 s/);
    assert.equal(d.inputs.dueSoon, 3);
  });

  test('keeps idle workers the floor needs instead of retiring them', () => {
    const workers = [workerAt(T, 'a', 'idle', 100), workerAt(T, 'b', 'idle', 100)];
    const d = decide(
      observationAt(T, { workers, startupMs: 5_000, dueSoon: { count: 2, firstAt: T + 3_000 } }),
      scaling,
    );
    assert.deepEqual(d.retire, []);
    assert.match(d.reason, /^hold at 2: .*2 jobs due at 10:20:03/);
  });

  test('a floor no higher than what the rules want changes nothing (burst steps stay)', () => {
    const plain = { ...scaling, drainTargetSeconds: 0 };
    const o = { ready: 100, startupMs: 5_000 };
    const withDue = decide(
      observationAt(T, { ...o, dueSoon: { count: 2, firstAt: T + 1_000 } }),
      plain,
    );
    assert.deepEqual(withDue, decide(observationAt(T, o), plain));
    assert.equal(withDue.start, 5);
  });

  test('a paused type warms nothing', () => {
    const d = decide(
      observationAt(T, {
        flow: { paused: true, startsPerSecond: null },
        dueSoon: { count: 3, firstAt: T + 1_000 },
      }),
      scaling,
    );
    assert.equal(d.start, 0);
  });

  test('a rate limit caps the floor at the workers it can feed', () => {
    const d = decide(
      observationAt(T, {
        flow: { paused: false, startsPerSecond: 2 },
        runP50Ms: 1_000,
        dueSoon: { count: 100, firstAt: T + 1_000 },
      }),
      scaling,
    );
    assert.equal(d.to, 2);
  });
});
