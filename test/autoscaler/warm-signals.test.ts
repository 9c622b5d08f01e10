import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BASELINE_TAU_MS,
  BurstLog,
  BURSTS_KEPT,
  MIN_BURST_JOBS,
  StartupDelays,
} from '../../src/autoscaler/warm-signals.ts';
import type { WorkerState } from '../../src/domain/events.ts';
import { poolWorker } from './workers.ts';

const MIN = 60_000;

/** `count` arrivals of type t, one every `stepMs` from `from`. */
function feed(log: BurstLog, from: number, count: number, stepMs: number, type = 't'): void {
  for (let i = 0; i < count; i++) log.arrived(type, from + i * stepMs);
}

describe('BurstLog', () => {
  test('a burst begins at its first arrival and ends at its last, with its size', () => {
    const log = new BurstLog();
    feed(log, 1_000, 50, 100); // 50 jobs within 5 s
    assert.deepEqual(log.bursts('t', 6_000), [{ at: 1_000, size: 50, endAt: null }]);
    assert.deepEqual(log.bursts('t', 20_000), [{ at: 1_000, size: 50, endAt: 5_900 }]);
  });

  test(`fewer than ${MIN_BURST_JOBS} arrivals in the window are no burst`, () => {
    const log = new BurstLog();
    feed(log, 0, MIN_BURST_JOBS - 1, 100);
    assert.deepEqual(log.bursts('t', 60_000), []);
  });

  test('steady traffic is no burst once the baseline has caught up, and never again', () => {
    const log = new BurstLog();
    feed(log, 0, 2 * 3600, 500); // 2 jobs/s for 1 h
    const bursts = log.bursts('t', 3600_000);
    assert.ok(bursts.length <= 1, `at most the start counts: ${JSON.stringify(bursts)}`);
    assert.ok(bursts.every((b) => b.at < 2 * BASELINE_TAU_MS));
  });

  test('periodic bursts over steady traffic are each recorded, one period apart', () => {
    const log = new BurstLog();
    const times = Array.from({ length: 3600 }, (_, i) => i * 1_000); // 1 job/s background
    for (let k = 1; k <= 5; k++) {
      for (let i = 0; i < 300; i++) times.push(k * 10 * MIN + i * 20); // 300 in 6 s
    }
    for (const at of times.sort((a, b) => a - b)) log.arrived('t', at);
    const bursts = log.bursts('t', 3600_000).filter((b) => b.size >= 300);
    assert.equal(bursts.length, 5);
    for (const [i, b] of bursts.entries()) {
      assert.ok(Math.abs(b.at - (i + 1) * 10 * MIN) <= 10_000, `burst ${i} at ${b.at}`);
    }
  });

  test('a stream that starts steady is one burst at most, however fast it is', () => {
    for (const perSecond of [2, 20, 200]) {
      const log = new BurstLog();
      feed(log, 0, perSecond * 600, 1000 / perSecond); // 10 min
      assert.ok(log.bursts('t', 600_000).length <= 1, `${perSecond}/s`);
    }
  });

  test('a dip shorter than the window does not split a burst in two', () => {
    const log = new BurstLog();
    feed(log, 0, 120, 5_000); // 10 min of 0.2 jobs/s
    feed(log, 600_000, 100, 50); // 100 in 5 s
    feed(log, 611_000, 100, 50); // 6 s later, 1 s after the first half left the window
    const bursts = log.bursts('t', 700_000);
    assert.equal(bursts.length, 1, JSON.stringify(bursts));
    assert.ok(bursts[0]!.size >= 200, 'both halves (and the window it began in)');
  });

  test(`keeps the last ${BURSTS_KEPT} bursts per type`, () => {
    const log = new BurstLog();
    for (let k = 0; k < BURSTS_KEPT + 3; k++) feed(log, k * MIN, 20, 10);
    const bursts = log.bursts('t', 100 * MIN);
    assert.equal(bursts.length, BURSTS_KEPT);
    assert.equal(bursts[0]!.at, 3 * MIN);
    assert.deepEqual(log.bursts('other', 100 * MIN), []);
  });
});

describe('StartupDelays', () => {
  const w = (id: string, state: WorkerState, startedAt: number, idleSince: number | null) =>
    poolWorker(id, state, { startedAt, idleSince });

  test('from start to ready, for workers seen starting; p90 of the recent ones', () => {
    const d = new StartupDelays();
    assert.equal(d.p90('t'), null);
    d.observe('t', [w('a', 'starting', 0, null), w('b', 'idle', 0, 0)], 1_000);
    d.observe('t', [w('a', 'idle', 0, 4_000)], 5_000);
    assert.equal(d.p90('t'), 4_000, 'b was never seen starting: not measured');
    d.observe('t', [w('c', 'starting', 10_000, null)], 10_000);
    d.observe('t', [w('c', 'busy', 10_000, null)], 16_000);
    assert.equal(d.p90('t'), 6_000, 'straight to busy: ready when seen');
    assert.equal(d.p90('other'), null);
  });

  test('a worker that says when it was ready is measured exactly, once, seen starting or not', () => {
    const d = new StartupDelays();
    const ready = (id: string, state: WorkerState, startedAt: number, readyAt: number) =>
      poolWorker(id, state, { startedAt, idleSince: null, readyAt });
    for (let view = 0; view < 10; view++) {
      d.observe('t', [ready('a', 'busy', 0, 300)], 5_000 + view);
    }
    assert.equal(d.p90('t'), 300, 'never seen starting, measured to when it said it was ready');
    d.observe('t', [ready('a', 'busy', 0, 300), ready('b', 'idle', 1_000, 2_000)], 6_000);
    assert.equal(d.p90('t'), 1_000, 'a counted once (ten samples of a would keep the p90 at 300)');
  });

  test('a worker stopped while starting is forgotten, not measured', () => {
    const d = new StartupDelays();
    d.observe('t', [w('a', 'starting', 0, null)], 0);
    d.observe('t', [], 1_000);
    d.observe('t', [w('a', 'idle', 0, 9_000)], 9_000);
    assert.equal(d.p90('t'), null);
  });
});
