import { EventQueue } from './events.ts';
import type { SimResult } from './loop.ts';
import type { Trace } from './trace.ts';

/**
 * The lower bound when a global capacity binds (capacity < the sum of the types' maxima): all
 * `capacity` workers placed at t = 0, ready after the start-up delay, never removed, and shared
 * across types — whichever type needs a worker gets one, as if workers could switch types for
 * free — serving queued jobs first come, first served across types. Each type still runs at most
 * `max` workers' worth of jobs (max × concurrency), the limit every policy under test has.
 *
 * Why not a fixed split of the capacity between types (in proportion to their maxima, as the
 * bound used to be): a fixed split is not a floor. A policy that moves capacity to the type with
 * the backlog beats it — KEDA did, by 165 s of p95 on the competing trace — which made "excess
 * p95" negative and the ratio meaningless. No policy can have more workers ready earlier
 * than this one, nor give a type more than its max; the only thing it does not bound is a policy
 * that reorders jobs across types to trade one type's waits for another's.
 *
 * Workers of a type with concurrency c hold c jobs: a job may start when its type runs fewer than
 * max × c jobs and either an already-counted worker of its type has a free slot or a worker of
 * the capacity is free.
 */
export function sharedCapacityBound(trace: Trace, startupMs: number, sampleMs = 1000): SimResult {
  const capacity = trace.capacity ?? Infinity;
  const names = Object.keys(trace.types);
  const index = new Map(names.map((n, i) => [n, i]));
  const conc = names.map((n) => trace.types[n]!.concurrency);
  const maxJobs = names.map((n, i) => trace.types[n]!.scaling.max * conc[i]!);
  const workers = Math.min(
    capacity,
    names.reduce((a, n) => a + trace.types[n]!.scaling.max, 0),
  );
  const running = names.map(() => 0);
  const queues: number[][] = names.map(() => []);
  const heads = names.map(() => 0);
  const jobs = trace.jobs;
  const waits = new Float64Array(jobs.length).fill(Infinity);
  const ends = new EventQueue();
  const samples: SimResult['samples'] = [];
  let used = 0; // workers in use: Σ ceil(running / concurrency)
  let queued = 0;
  let maxQueued = 0;
  let next = 0;
  let nextSample = 0;
  let done = 0;
  let now = 0;

  const startable = (t: number) =>
    running[t]! < maxJobs[t]! && (running[t]! % conc[t]! !== 0 || used < workers);
  const dispatch = () => {
    if (now < startupMs) return;
    for (;;) {
      // The oldest waiting job among the types that can start one.
      let best = -1;
      for (let t = 0; t < names.length; t++) {
        if (heads[t]! >= queues[t]!.length || !startable(t)) continue;
        if (best < 0 || queues[t]![heads[t]!]! < queues[best]![heads[best]!]!) best = t;
      }
      if (best < 0) return;
      const job = queues[best]![heads[best]!++]!;
      if (running[best]! % conc[best]! === 0) used++;
      running[best]!++;
      queued--;
      waits[job] = now - jobs[job]!.at;
      ends.push(now + jobs[job]!.run, { kind: 'done', worker: best, job, epoch: 0 });
    }
  };

  while (done < jobs.length) {
    // Nothing left that could start (a type with max 0): the rest never run.
    if (ends.peekAt() === Infinity && next === jobs.length && now >= startupMs) break;
    const arrivalAt = next < jobs.length ? jobs[next]!.at : Infinity;
    const readyAt = now < startupMs ? startupMs : Infinity;
    now = Math.min(ends.peekAt(), arrivalAt, readyAt, nextSample);
    while (ends.peekAt() === now) {
      const { event } = ends.pop()!;
      if (event.kind !== 'done') continue;
      running[event.worker]!--;
      if (running[event.worker]! % conc[event.worker]! === 0) used--;
      done++;
    }
    while (next < jobs.length && jobs[next]!.at === now) {
      queues[index.get(jobs[next]!.type)!]!.push(next++);
      queued++;
    }
    maxQueued = Math.max(maxQueued, queued);
    dispatch();
    if (now === nextSample) {
      samples.push({ at: now, workers, queued: maxQueued });
      maxQueued = queued;
      nextSample += sampleMs;
    }
  }
  samples.push({ at: now, workers, queued: maxQueued });
  return {
    trace: trace.name,
    policy: 'lower bound',
    startupMs,
    waits,
    workerSeconds: (workers * now) / 1000,
    peakWorkers: workers,
    scalingActions: 0,
    busyKilled: 0,
    jobsRerun: 0,
    unfinished: jobs.length - done,
    endAt: now,
    samples,
    busyDrained: 0,
  };
}

/** Whether the trace's global capacity is below the sum of its types' maxima. */
export function capacityBinds(trace: Trace): boolean {
  const total = Object.values(trace.types).reduce((a, t) => a + t.scaling.max, 0);
  return trace.capacity != null && trace.capacity < total;
}

/**
 * The fewest worker-seconds any policy can run the trace in: every job's run time, divided by the
 * jobs one worker of its type runs at once (Σ run ÷ concurrency). No start-up, no idle and no
 * queueing counted, so it is below what any policy, KEDA's included, can reach.
 */
export function costFloor(trace: Pick<Trace, 'types' | 'jobs'>): number {
  let ms = 0;
  for (const job of trace.jobs) ms += job.run / trace.types[job.type]!.concurrency;
  return ms / 1000;
}
