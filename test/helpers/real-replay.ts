import { setTimeout as delay } from 'node:timers/promises';
import { toTrace } from '../../src/cli/commands/trace.ts';
import { createClient, type ApiJob, type GafferClient } from '../../src/client/index.ts';
import type { ScalingConfig } from '../../src/config/schema.ts';
import type { DecideFn } from '../../src/autoscaler/policy.ts';
import { simulate } from '../../src/simulator/loop.ts';
import { percentile } from '../../src/simulator/metrics.ts';
import { gafferPolicy } from '../../src/simulator/policy.ts';
import type { Trace } from '../../src/simulator/trace.ts';
import type { WorkerEvent } from '../../src/store/roles/scaling-log.ts';

/**
 * Replays a simulator trace on a real gaffer and in the simulator, and measures both the same
 * way: p95 job wait (arrival → start) and worker-seconds (placement → stop) up to a horizon.
 *
 * The real side runs on the real clock — the one place where real time is the subject: each job
 * is submitted at its `at` after the replay's start, its payload `{ run }` for a handler that
 * sleeps that long (test/fixtures/slow-start-sleeper.ts). What happened is then read from
 * gaffer's own records: jobs' createdAt/startedAt/finishedAt (GET /v1/jobs) and the workers'
 * lifecycle (GET /v1/workers/events). The simulator replays what gaffer recorded (`gaffer
 * trace`'s conversion: arrival = createdAt, run = finishedAt − startedAt), so submission jitter
 * and handler overhead are the same on both sides, and the start-up delay it is given is the one
 * gaffer measured (worker `started` → `ready`).
 */
export interface Measures {
  jobs: number;
  /** Jobs that had not started by the horizon. */
  unstarted: number;
  waitP50Ms: number;
  waitP95Ms: number;
  workerSeconds: number;
}

export interface RealRun {
  measures: Measures;
  /** What gaffer recorded, as a trace (arrivals from the first createdAt). */
  recorded: Trace;
  /** Per worker, ms from `started` to `ready` (the real start-up delay). */
  startupMs: number[];
  /** Workers that crashed, and workers stopped while holding a job (both must be 0). */
  crashed: number;
  busyStopped: number;
  /** Per worker, ms from the first arrival: started, ready, stopped (null: after the horizon). */
  lifetimes: { started: number; ready: number | null; stopped: number | null }[];
  /** The autoscaler's acting decisions, oldest first, `at` in ms from the first arrival. */
  decisions: { at: number; from: number; to: number; reason: string }[];
}

/** Submits `trace`'s jobs on schedule, waits until `horizonMs` after the first, reads the records. */
export async function replayOnGaffer(
  url: string,
  trace: Trace,
  horizonMs: number,
): Promise<RealRun> {
  const client = createClient({ url });
  const began = performance.now();
  const created = await Promise.all(
    trace.jobs.map(async (job) => {
      await delay(Math.max(0, began + job.at - performance.now()));
      return (await client.jobs.submit({ type: job.type, payload: { run: job.run } })).job;
    }),
  );
  const origin = Math.min(...created.map((j) => j.createdAt));
  // The measurement window is real time: wait for its end (plus a moment for the last records).
  await delay(Math.max(0, origin + horizonMs + 500 - Date.now()));
  const config = (await client.config()) as {
    jobTypes: Record<string, { concurrency?: number; scaling?: ScalingConfig }>;
  };
  const ended = await jobsOf(client, Object.keys(trace.types));
  const events = (
    await Promise.all(
      Object.keys(trace.types).map((type) => client.workers.events({ type, limit: 1000 })),
    )
  ).flat();
  const decisions = (
    await Promise.all(
      Object.keys(trace.types).map((type) => client.scaling.decisions({ type, limit: 1000 })),
    )
  )
    .flat()
    .map((d) => ({ at: d.at - origin, from: d.from, to: d.to, reason: d.reason }))
    .sort((a, b) => a.at - b.at);
  const recorded = toTrace(
    ended.filter((j) => j.startedAt != null && j.finishedAt != null),
    config.jobTypes,
    { name: `${trace.name} (recorded)` },
  );
  return { ...fromRecords(ended, events, origin, horizonMs), recorded, decisions };
}

async function jobsOf(client: GafferClient, types: string[]): Promise<ApiJob[]> {
  const all: ApiJob[] = [];
  for (const type of types) for await (const job of client.jobs.all({ type })) all.push(job);
  return all;
}

/** The real run's measures from gaffer's records, in the window [origin, origin + horizonMs]. */
function fromRecords(
  jobs: readonly Pick<ApiJob, 'createdAt' | 'startedAt'>[],
  events: readonly WorkerEvent[],
  origin: number,
  horizonMs: number,
): Omit<RealRun, 'recorded' | 'decisions'> {
  const end = origin + horizonMs;
  const waits = jobs.map((j) =>
    j.startedAt == null || j.startedAt > end ? Infinity : j.startedAt - j.createdAt,
  );
  const byWorker = new Map<string, Partial<Record<WorkerEvent['event'], WorkerEvent>>>();
  for (const e of events) {
    const seen = byWorker.get(e.workerId) ?? {};
    seen[e.event] ??= e;
    byWorker.set(e.workerId, seen);
  }
  let workerMs = 0;
  const startupMs: number[] = [];
  let crashed = 0;
  let busyStopped = 0;
  const lifetimes: RealRun['lifetimes'] = [];
  for (const seen of byWorker.values()) {
    const started = seen.started?.at;
    if (started === undefined || started > end) continue;
    const stop = seen.stopped ?? seen.crashed;
    lifetimes.push({
      started: started - origin,
      ready: seen.ready ? seen.ready.at - origin : null,
      stopped: stop && stop.at <= end ? stop.at - origin : null,
    });
    workerMs += Math.min(stop?.at ?? end, end) - started;
    if (seen.ready) startupMs.push(seen.ready.at - started);
    if (seen.crashed) crashed++;
    if (seen.stopped && seen.stopped.active > 0) busyStopped++;
  }
  return {
    measures: measures(waits, workerMs),
    startupMs,
    crashed,
    busyStopped,
    lifetimes: lifetimes.sort((a, b) => a.started - b.started),
  };
}

/**
 * The same trace through the simulator, gaffer's `decide` ticking every `intervalMs`, once per
 * tick phase (the real loop's ticks fall anywhere relative to the first arrival): `phases` runs,
 * the first tick at 0, interval/phases, 2·interval/phases, …
 */
export function simulated(
  trace: Trace,
  decide: DecideFn,
  options: { startupMs: number; intervalMs: number; horizonMs: number; phases: number },
): Measures[] {
  return Array.from({ length: options.phases }, (_, i) => {
    const phaseMs = Math.round((i * options.intervalMs) / options.phases);
    const policy = gafferPolicy(decide, { intervalMs: options.intervalMs, phaseMs });
    const r = simulate(trace, policy, {
      startupMs: options.startupMs,
      stopAtMs: options.horizonMs,
    });
    return measures([...r.waits], r.workerSeconds * 1000);
  });
}

function measures(waits: number[], workerMs: number): Measures {
  const sorted = Float64Array.from(waits).sort();
  return {
    jobs: waits.length,
    unstarted: waits.filter((w) => w === Infinity).length,
    waitP50Ms: percentile(sorted, 50),
    waitP95Ms: percentile(sorted, 95),
    workerSeconds: workerMs / 1000,
  };
}

export function median(values: readonly number[]): number {
  return percentile(Float64Array.from(values).sort(), 50);
}
