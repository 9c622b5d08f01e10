import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ControlLoop, type ScalingTarget } from '../../src/autoscaler/control-loop.ts';
import type { ScalingConfig } from '../../src/config/schema.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { GafferEvents, type GafferEventMap } from '../../src/domain/events.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { recordingLogger } from '../helpers/log.ts';

// The control loop reports each failure to act once, with its stage, and the metric counts it;
// its log says why, once per failed tick.
// The loop's target is its seam (the orchestrator in production): here one whose store read or
// executor start fails.

const scaling: ScalingConfig = { min: 0, max: 5, threshold: 0, burst: 5, idleSeconds: 30 };

function target(fail: { queueStats?: boolean; start?: boolean }): ScalingTarget {
  return {
    types: () => [{ name: 'echo', mode: 'pool', concurrency: 1, scaling }],
    queueStats: () =>
      fail.queueStats
        ? Promise.reject(new Error('store down'))
        : Promise.resolve([
            { type: 'echo', ready: 3, delayed: 0, inFlight: 0, byState: {}, oldestReadyAt: null },
          ]),
    workers: () => [],
    start: () => (fail.start ? Promise.reject(new Error('spawn failed')) : Promise.resolve()),
    retire: () => {},
    record: () => Promise.resolve(),
  };
}

const CASES: {
  name: string;
  fail: { queueStats?: boolean; start?: boolean };
  want: GafferEventMap['scaler:error'][];
}[] = [
  {
    name: 'a tick that cannot read the store',
    fail: { queueStats: true },
    want: [{ stage: 'tick', type: null, message: 'Error: store down' }],
  },
  {
    name: 'an executor start that fails: counted once, as start, not again as a tick',
    fail: { start: true },
    want: [{ stage: 'start', type: 'echo', message: 'Error: spawn failed' }],
  },
  { name: 'a tick that works', fail: {}, want: [] },
];

for (const c of CASES) {
  test(`scaler errors: ${c.name}`, async () => {
    const log = recordingLogger();
    const events = new GafferEvents(log);
    const seen: GafferEventMap['scaler:error'][] = [];
    events.on('scaler:error', (e) => seen.push(e));
    const { registry } = createMetrics(events, {
      queueStats: async () => [],
      workers: () => [],
      now: () => 0,
      throughput: { perMinute: () => 0, types: () => [] },
    });
    const loop = new ControlLoop({
      target: target(c.fail),
      clock: new ManualClock(0),
      events,
      intervalMs: 60_000,
      log,
    });
    try {
      loop.start();
      await loop.idle();
    } finally {
      loop.stop();
    }
    assert.deepEqual(seen, c.want);
    assert.deepEqual(
      log.records.map((r) => [r.level, r.msg, String(r.fields['err'])]),
      c.want.map((w) => ['error', 'autoscaler tick failed', w.message]),
    );
    const { values } = await registry.getSingleMetric('gaffer_scaler_errors_total')!.get();
    assert.equal(
      values.reduce((sum, v) => sum + v.value, 0),
      c.want.length,
    );
  });
}
