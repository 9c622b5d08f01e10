import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  hpaScaleUpLimit,
  hpaSync,
  hpaUsageReplicas,
  kedaPoll,
  kedaScaledJob,
  kedaScaledObject,
  kedaSettings,
  replicaSetVictims,
  scaledJobCreates,
  type HpaRecommendation,
} from '../../src/simulator/keda.ts';
import { simulate } from '../../src/simulator/loop.ts';
import type { WorkerInfo } from '../../src/domain/events.ts';
import { tiny, waitsOf, workersAt } from './helpers.ts';
import { poolWorker } from '../autoscaler/workers.ts';

// Schedules (keda.ts): HPA syncs at 7.5 s, 22.5 s, 37.5 s, …; KEDA polls at 15 s, 45 s, 75 s, …
// A worker is ready 0.2 s after it starts.
const startupMs = 200;

describe('HPA rules (pure)', () => {
  it('usage: ceil(metric / target), unless within the tolerance of the current count', () => {
    const cases: [metric: number, target: number, current: number, want: number][] = [
      [10, 1, 0, 10], // no tolerance at 0 replicas
      [10, 5, 1, 2],
      [21, 5, 4, 4], // ratio 1.05: within 0.1
      [12, 5, 2, 3], // ratio 1.2: outside
      [9, 5, 2, 2], // ratio 0.9: within
      [8, 5, 2, 2], // ratio 0.8: outside → ceil(1.6) = 2
      [0, 5, 3, 0],
      [101, 20, 5, 5], // ratio 1.01
    ];
    for (const [metric, target, current, want] of cases) {
      assert.equal(
        hpaUsageReplicas(metric, target, current),
        want,
        `${metric}/${target}@${current}`,
      );
    }
  });

  it('scale-up limit: max(2 × current, 4) per sync', () => {
    const cases: [number, number][] = [
      [1, 4],
      [2, 4],
      [3, 6],
      [4, 8],
      [25, 50],
    ];
    for (const [current, want] of cases) assert.equal(hpaScaleUpLimit(current), want);
  });

  const base = { target: 1, min: 1, max: 100 };
  const cases: {
    name: string;
    recs: HpaRecommendation[];
    now: number;
    metric: number;
    current: number;
    want: number;
  }[] = [
    { name: 'up, limited to 4 from 1', recs: [], now: 0, metric: 50, current: 1, want: 4 },
    { name: 'up, limited to 2× from 10', recs: [], now: 0, metric: 50, current: 10, want: 20 },
    { name: 'up, under the limit', recs: [], now: 0, metric: 15, current: 10, want: 15 },
    { name: 'up, capped at max', recs: [], now: 0, metric: 500, current: 80, want: 100 },
    {
      name: 'down held by the highest recommendation of the last 300 s',
      recs: [{ at: 1_000, replicas: 30 }],
      now: 300_000,
      metric: 0,
      current: 30,
      want: 30,
    },
    {
      name: 'down once that recommendation is 300 s old',
      recs: [{ at: 1_000, replicas: 30 }],
      now: 301_000,
      metric: 2,
      current: 30,
      want: 2,
    },
    {
      name: 'down to the HPA floor (minReplicas 1), not 0',
      recs: [],
      now: 0,
      metric: 0,
      current: 5,
      want: 1,
    },
    {
      name: 'within tolerance: no change',
      recs: [],
      now: 0,
      metric: 21,
      current: 20,
      want: 20,
    },
    {
      name: 'at 0 replicas the HPA is disabled',
      recs: [],
      now: 0,
      metric: 50,
      current: 0,
      want: 0,
    },
  ];
  for (const c of cases) {
    it(`sync: ${c.name}`, () => {
      const r = hpaSync(c.recs, { ...base, now: c.now, metric: c.metric, current: c.current });
      assert.equal(r.replicas, c.want);
    });
  }

  it('sync records the raw recommendation, not the stabilized one, and forgets old ones', () => {
    const r = hpaSync([{ at: 0, replicas: 9 }], { ...base, now: 301_000, metric: 3, current: 9 });
    assert.deepEqual(r.recs, [{ at: 301_000, replicas: 3 }]);
    const held = hpaSync([{ at: 0, replicas: 9 }], { ...base, now: 10_000, metric: 3, current: 9 });
    assert.equal(held.replicas, 9);
    assert.deepEqual(held.recs.at(-1), { at: 10_000, replicas: 3 });
  });
});

describe('KEDA activation and cooldown (pure)', () => {
  const cases: {
    name: string;
    lastActive: number;
    now: number;
    metric: number;
    current: number;
    min: number;
    want: number | null;
  }[] = [
    {
      name: '0 → 1 when active',
      lastActive: -Infinity,
      now: 15,
      metric: 40,
      current: 0,
      min: 0,
      want: 1,
    },
    {
      name: '0 → min when active',
      lastActive: -Infinity,
      now: 15,
      metric: 40,
      current: 0,
      min: 3,
      want: 3,
    },
    {
      name: 'stays 0 when inactive',
      lastActive: -Infinity,
      now: 15,
      metric: 0,
      current: 0,
      min: 0,
      want: null,
    },
    {
      name: 'active with replicas: the HPA decides',
      lastActive: 0,
      now: 15,
      metric: 9,
      current: 2,
      min: 0,
      want: null,
    },
    {
      name: '1 → 0 after the cooldown',
      lastActive: 0,
      now: 300_000,
      metric: 0,
      current: 1,
      min: 0,
      want: 0,
    },
    {
      name: 'not before the cooldown',
      lastActive: 0,
      now: 299_999,
      metric: 0,
      current: 1,
      min: 0,
      want: null,
    },
    {
      name: 'n → 0 after the cooldown, whatever n',
      lastActive: 0,
      now: 400_000,
      metric: 0,
      current: 7,
      min: 0,
      want: 0,
    },
    {
      name: 'never to 0 with min > 0',
      lastActive: 0,
      now: 900_000,
      metric: 0,
      current: 2,
      min: 2,
      want: null,
    },
    { name: 'up to min', lastActive: 0, now: 900_000, metric: 0, current: 1, min: 2, want: 2 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = kedaPoll({ lastActive: c.lastActive }, c);
      assert.equal(r.replicas, c.want);
      assert.equal(r.state.lastActive, c.metric > 0 ? c.now : c.lastActive);
    });
  }

  it('activation threshold: active only above activationValue', () => {
    const at = { now: 15, current: 0, min: 0, activation: 5 };
    assert.equal(kedaPoll({ lastActive: -Infinity }, { ...at, metric: 5 }).replicas, null);
    assert.equal(kedaPoll({ lastActive: -Infinity }, { ...at, metric: 6 }).replicas, 1);
  });
});

describe('ReplicaSet victims and ScaledJob (pure)', () => {
  const w = (id: string, startedAt: number, state: WorkerInfo['state'], waiting = false) =>
    poolWorker(id, state, {
      startedAt,
      waitingFor: waiting ? { reason: 'capacity', message: '' } : null,
    });

  it('unscheduled, then not ready, then the newest — busy or not', () => {
    const pool = [
      w('t-1', 0, 'idle'),
      w('t-2', 10, 'busy'),
      w('t-3', 20, 'starting'),
      w('t-4', 30, 'starting', true),
      w('t-5', 5, 'busy'),
    ];
    assert.deepEqual(replicaSetVictims(pool, 4), ['t-4', 't-3', 't-2', 't-5']);
  });

  it('ScaledJob default: min(ceil(metric / target), max) − running, never negative', () => {
    const cases: [metric: number, target: number, running: number, max: number, want: number][] = [
      [5, 1, 0, 3, 3],
      [5, 1, 2, 3, 1],
      [2, 1, 2, 10, 0], // running Jobs that already took their message still count
      [0, 1, 4, 10, 0],
      [7, 2, 1, 10, 3],
    ];
    for (const [m, t, r, max, want] of cases) assert.equal(scaledJobCreates(m, t, r, max), want);
  });
});

describe('KEDA ScaledObject in the simulator', () => {
  it('activates 0 → 1 at a poll, then the HPA grows it at most max(2×, 4) per sync', () => {
    // 40 jobs of 1000 s at 0. Poll 15 s: 0 → 1. Syncs 22.5 s: 4, 37.5 s: 8, 52.5 s: 10 (max).
    const jobs = Array.from({ length: 40 }, (): [number, number] => [0, 1000]);
    const r = simulate(tiny(jobs), kedaScaledObject({ target: 1 }), {
      startupMs,
      giveUpMs: 60_000,
    });
    assert.equal(workersAt(r.samples, 16_000), 1);
    assert.equal(workersAt(r.samples, 23_000), 4);
    assert.equal(workersAt(r.samples, 38_000), 8);
    assert.equal(workersAt(r.samples, 53_000), 10);
  });

  it('the target divides the queue: 20 ready at target 5 → 4 replicas', () => {
    const jobs = Array.from({ length: 20 }, (): [number, number] => [0, 1000]);
    const r = simulate(tiny(jobs), kedaScaledObject({ target: 5 }), {
      startupMs,
      giveUpMs: 60_000,
    });
    // Poll 15: 0 → 1, it takes one job, 19 ready. Sync 22.5: ceil(19 / 5) = 4 (limit 4); the 3
    // new pods take 3 jobs. Sync 37.5: 16 / (5 × 4) = 0.8, outside the tolerance: ceil(3.2) = 4.
    assert.equal(workersAt(r.samples, 23_000), 4);
    assert.equal(workersAt(r.samples, 53_000), 4);
  });

  it('counts ready messages only: a job behind a busy worker waits for it', () => {
    // Poll 15: 0 → 1, it takes job 1 at 15.2. Job 2 at 20: syncs see ready 1, replicas 1 → ratio
    // 1, no change; it waits for job 1 to end at 115.2.
    const r = simulate(
      tiny([
        [0, 100],
        [20, 10],
      ]),
      kedaScaledObject(),
      { startupMs },
    );
    assert.deepEqual(waitsOf(r.waits), [15.2, 95.2]);
    assert.equal(r.peakWorkers, 1);
  });

  it('a SIGTERMed busy pod that finishes within the 30 s grace loses nothing', () => {
    // Three 320 s jobs, min 1. Poll 15: 0 → 1 (job 1, 15.2–335.2). Sync 22.5: ready 2 → 2 pods
    // (job 2 on pod 2, 22.7–342.7); job 3 waits (ready 1, ratio 0.5 → 1, held at 2 by the
    // recommendation of 22.5). Sync 322.5: that recommendation is 300 s old → 1: pod 2, the
    // newest, gets SIGTERM while busy; its job ends at 342.7, within the grace (to 352.5).
    const trace = tiny(
      [
        [0, 320],
        [0, 320],
        [0, 320],
      ],
      { min: 1 },
    );
    const r = simulate(trace, kedaScaledObject(), { startupMs, giveUpMs: 700_000 });
    assert.equal(r.busyKilled, 0);
    assert.equal(r.jobsRerun, 0);
    assert.equal(r.unfinished, 0);
  });

  it('a SIGTERMed pod still busy at the grace end is killed and its job runs again', () => {
    // As above with 1000 s jobs: pod 2 gets SIGTERM at 322.5 and is killed at 352.5.
    const trace = tiny(
      [
        [0, 1000],
        [0, 1000],
        [0, 1000],
      ],
      { min: 1 },
    );
    const r = simulate(trace, kedaScaledObject(), { startupMs, giveUpMs: 360_000 });
    assert.equal(r.busyKilled, 1);
    assert.equal(r.jobsRerun, 1);
  });

  it('1 → 0 after the cooldown: a busy pod that outlives the grace is killed', () => {
    // One 1000 s job: active at the 15 s poll only (ready-only signal); at the poll at 315 s it
    // has been inactive for the cooldown → 0: SIGTERM, the pod runs on until 345 s, then killed.
    const r = simulate(tiny([[0, 1000]]), kedaScaledObject(), { startupMs, giveUpMs: 344_000 });
    assert.equal(r.busyKilled, 0);
    assert.equal(workersAt(r.samples, 344_000), 1, 'terminating, still running its job');
    const later = simulate(tiny([[0, 1000]]), kedaScaledObject(), {
      startupMs,
      giveUpMs: 350_000,
    });
    assert.equal(later.busyKilled, 1);
    assert.equal(later.jobsRerun, 1);
  });

  it('a pod deleted in its grace costs worker-seconds until it exits', () => {
    // One 320 s job: 0 → 1 at 15 s, ready 15.2, job to 335.2. Poll 315 s: 1 → 0, SIGTERM; the
    // job ends within the grace at 335.2, the pod exits then.
    const r = simulate(tiny([[0, 320]]), kedaScaledObject(), { startupMs });
    assert.equal(r.busyKilled, 0);
    assert.equal(r.workerSeconds, 320.2);
  });

  it('the standard settings are t1, t5, t20 and the ScaledJob', () => {
    assert.deepEqual(
      kedaSettings().map((p) => p.name),
      ['keda-t1', 'keda-t5', 'keda-t20', 'keda-scaledjob'],
    );
  });
});

describe('KEDA ScaledJob in the simulator (strategy default)', () => {
  it('creates min(ready, max) − running Jobs per poll, one job each', () => {
    // Poll 15: 5 ready, max 3 → 3 Jobs (run 15.2–25.2, then exit). Poll 45: 2 ready → 2 Jobs.
    const r = simulate(
      tiny(
        [
          [0, 10],
          [0, 10],
          [0, 10],
          [0, 10],
          [0, 10],
        ],
        { max: 3 },
      ),
      kedaScaledJob(),
      { startupMs },
    );
    assert.deepEqual(waitsOf(r.waits), [15.2, 15.2, 15.2, 45.2, 45.2]);
    assert.equal(r.busyKilled, 0);
    assert.equal(r.scalingActions, 2);
  });

  it('running Jobs that already took their message still count: new work waits', () => {
    // Poll 15: 2 Jobs take the 2 jobs. At 20, 2 more arrive; polls at 45…105 see ready 2,
    // running 2 → create 0. The first Jobs end at 115.2; poll 135 creates 2, ready at 135.2.
    const r = simulate(
      tiny([
        [0, 100],
        [0, 100],
        [20, 5],
        [20, 5],
      ]),
      kedaScaledJob(),
      { startupMs },
    );
    assert.deepEqual(waitsOf(r.waits), [15.2, 15.2, 115.2, 115.2]);
  });
});
