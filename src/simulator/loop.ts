import { Activity } from '../autoscaler/activity.ts';
import { BurstLog } from '../autoscaler/warm-signals.ts';
import { EventQueue } from './events.ts';
import { Executor } from './executor.ts';
import type { Actions, SimPolicy, TypeView } from './policy.ts';
import { Random } from './random.ts';
import type { Trace } from './trace.ts';

/**
 * The event loop: a virtual clock that jumps from one instant to the next thing that happens — a
 * worker ready, a job done, an arrival, a policy tick — so a day of traffic costs what its events
 * cost, not what its milliseconds do. At one instant the order is fixed: executor events (in the
 * order they were scheduled), then arrivals (in trace order), then the policy's tick per type (in
 * the trace's type order). With the seeded PRNG that makes a run a pure function of its inputs.
 *
 * Ticks come as gaffer's control loop has them: periodic, plus pokes (a policy with
 * `tickOnArrival`) when jobs arrive for a type with no live worker or a worker stops, every tick
 * starting at least `pokeGapMs` after the one before.
 */
export interface SimOptions {
  /** Start-up delay of a worker, ms. */
  startupMs: number;
  /** Seeds the policy's own randomness (KEDA's random victims). */
  seed?: number;
  /** After the last job ends, how long to keep watching the pool shrink (default 15 min). */
  settleMs?: number;
  /** Queue and worker samples for plots, one per this many ms (default 1 s). */
  sampleMs?: number;
  /** Give up this long after the last arrival, unfinished jobs and all (default 6 h). */
  giveUpMs?: number;
  /**
   * End the run at this instant (ms from the trace's start), whatever still runs: worker-seconds
   * count up to it. For comparing with a real run watched for a fixed time.
   */
  stopAtMs?: number;
}

export interface Sample {
  at: number;
  /** Most placed workers during the sample's interval. */
  workers: number;
  /** Most queued jobs during the sample's interval. */
  queued: number;
}

export interface SimResult {
  trace: string;
  policy: string;
  startupMs: number;
  /** Per job, ms from arrival to the start of the run that completed (Infinity: never ran). */
  waits: Float64Array;
  workerSeconds: number;
  peakWorkers: number;
  /** Ticks whose decision changed the worker count. */
  scalingActions: number;
  busyKilled: number;
  jobsRerun: number;
  unfinished: number;
  endAt: number;
  samples: Sample[];
  /** Workers a policy drained while they held jobs: must stay 0 for gaffer (invariant 5). */
  busyDrained: number;
}

export function simulate(trace: Trace, policy: SimPolicy, options: SimOptions): SimResult {
  const settleMs = options.settleMs ?? 15 * 60_000;
  const sampleMs = options.sampleMs ?? 1000;
  const events = new EventQueue();
  const ex = new Executor(trace, options.startupMs, events, policy.dispatch);
  const rng = new Random(options.seed ?? 1);
  const decideAll = policy.initAll?.(trace, rng);
  const decide = decideAll ? null : policy.init(trace, rng);
  // What gaffer's control loop learns from job events: arrivals, run times, last end.
  const activity = new Activity();
  const bursts = new BurstLog();
  const types = Object.keys(trace.types);
  const jobs = trace.jobs;
  const lastArrival = jobs.at(-1)?.at ?? 0;
  const giveUpAt = lastArrival + (options.giveUpMs ?? 6 * 3600_000);
  const stopAt = options.stopAtMs ?? Infinity;
  let next = 0; // the next arrival
  let nextTick = policy.phaseMs ?? 0;
  const pokeGap = policy.pokeGapMs ?? 0;
  let lastTickAt = -Infinity;
  /** A tick asked for inside the poke gap, due when the gap ends. */
  let deferredAt = Infinity;
  const stopped = () => ex.workers.length - types.reduce((n, t) => n + ex.live.get(t)!.length, 0);
  let nextSample = 0;
  let scalingActions = 0;
  let busyDrained = 0;
  const samples: Sample[] = [];
  let maxWorkers = 0;
  let maxQueued = 0;
  const queuedNow = () => types.reduce((n, t) => n + ex.queued(t), 0);
  const observe = () => {
    maxWorkers = Math.max(maxWorkers, ex.placed);
    maxQueued = Math.max(maxQueued, queuedNow());
  };

  const viewOf = (type: string, now: number): TypeView => ({
    now,
    type,
    config: trace.types[type]!,
    ready: ex.queued(type),
    inFlight: ex.inFlight(type),
    workers: ex.workerInfos(type),
    arrivalRate: activity.rate(type, now),
    runP50Ms: activity.runP50(type),
    runMeanMs: activity.runMean(type),
    inFlightAgeP50Ms: ex.inFlightAgeP50(type, now),
    lastFinishedAt: activity.lastFinishedAt(type),
    bursts: bursts.bursts(type, now),
  });
  const apply = (view: TypeView, a: Actions, now: number) => {
    for (const id of a.drain) {
      if (view.workers.find((w) => w.id === id)?.active) busyDrained++;
      ex.drain(id, now);
    }
    for (const id of a.kill) {
      if (policy.graceMs) ex.terminate(id, now, policy.graceMs);
      else ex.kill(id, now);
    }
    if (a.start > 0) ex.start(view.type, a.start, now, policy.oneShot);
    if (a.start > 0 || a.drain.length > 0 || a.kill.length > 0) scalingActions++;
  };
  const tick = (now: number) => {
    if (decideAll) {
      // One decision over every type (global capacity), then the actions in type order.
      const views = types.map((type) => viewOf(type, now));
      const actions = decideAll(views);
      views.forEach((view, i) => apply(view, actions[i]!, now));
      return;
    }
    for (const type of types) {
      const view = viewOf(type, now);
      apply(view, decide!(view), now);
    }
  };

  let endAt: number;
  for (;;) {
    const arrivalAt = next < jobs.length ? jobs[next]!.at : Infinity;
    // Never Infinity: the next sample is always due.
    const now = Math.min(events.peekAt(), arrivalAt, nextTick, nextSample, deferredAt, stopAt);
    endAt = now;
    const stoppedBefore = stopped();
    while (events.peekAt() === now) {
      const { event } = events.pop()!;
      if (event.kind === 'ready') ex.ready(event.worker, now);
      else if (event.kind === 'grace') ex.graceOver(event.worker, now);
      else {
        const finished = ex.finished;
        ex.done(event.worker, event.job, event.epoch, now);
        if (ex.finished > finished) {
          const job = jobs[event.job]!;
          activity.finished(job.type, now, job.run);
        }
      }
      observe();
    }
    let poked = policy.tickOnArrival && stopped() > stoppedBefore;
    while (next < jobs.length && jobs[next]!.at === now) {
      const type = jobs[next]!.type;
      poked ||= policy.tickOnArrival && ex.live.get(type)!.length === 0;
      activity.arrived(type, now);
      bursts.arrived(type, now);
      ex.arrive(next++, now);
      observe();
    }
    const due = now === nextTick;
    if (due) nextTick += policy.intervalMs;
    if (due || poked || now === deferredAt) {
      if (now - lastTickAt >= pokeGap) {
        deferredAt = Infinity;
        lastTickAt = now;
        const stoppedAtTick = stopped();
        tick(now);
        observe();
        // Workers its drains stopped at once poke the loop again, after the gap.
        if (policy.tickOnArrival && stopped() > stoppedAtTick) {
          deferredAt = now + Math.max(1, pokeGap);
        }
      } else deferredAt = Math.min(deferredAt, lastTickAt + pokeGap);
    }
    if (now === nextSample) {
      samples.push({ at: now, workers: maxWorkers, queued: maxQueued });
      maxWorkers = ex.placed;
      maxQueued = queuedNow();
      nextSample += sampleMs;
    }
    const allDone = next === jobs.length && ex.finished === jobs.length;
    if (allDone && (ex.placed === 0 || policy.holdsForever)) break;
    if (allDone && now >= ex.lastFinish + settleMs) break;
    if (now >= giveUpAt || now >= stopAt) break;
  }
  samples.push({ at: endAt, workers: maxWorkers, queued: maxQueued });

  const waits = new Float64Array(jobs.length);
  let unfinished = 0;
  for (let i = 0; i < jobs.length; i++) {
    const start = ex.endAt[i]! >= 0 ? ex.startAt[i]! : -1;
    if (start < 0) unfinished++;
    waits[i] = start < 0 ? Infinity : start - jobs[i]!.at;
  }
  let workerMs = 0;
  for (const w of ex.workers) {
    if (w.placedAt !== null) workerMs += (w.stoppedAt ?? endAt) - w.placedAt;
  }
  return {
    trace: trace.name,
    policy: policy.name,
    startupMs: options.startupMs,
    waits,
    workerSeconds: workerMs / 1000,
    peakWorkers: ex.stats.peakWorkers,
    scalingActions,
    busyKilled: ex.stats.busyKilled,
    jobsRerun: ex.stats.jobsRerun,
    unfinished,
    endAt,
    samples,
    busyDrained,
  };
}
