import type { ScalingConfig } from '../config/schema.ts';
import type { WorkerInfo } from '../domain/events.ts';
import { warmFloor } from './anticipate.ts';
import { applyCapacity } from './capacity.ts';
import type { Decision, DecideFn, Observation } from './policy.ts';
import {
  clampDesired,
  countWorkers,
  flowDemand,
  neededWorkers,
  queueDesired,
  spareShare,
  rateDesired,
  retirees,
  scaleOut,
  settings,
  stabilize,
  stableNeed,
  type Settings,
} from './rules.ts';

/**
 * The scaling policy, per job type, composed from the rules in `rules.ts`. Pure: no I/O, no clock
 * reads — the instant is `obs.now`, the past is `obs.history`. The same observation always yields
 * the same decision.
 *
 * Pool mode:
 * - desired = clamp(max(queue rule, rate rule), min, max), at least 1 when jobs are ready. Queue
 *   rule: ceil((ready + inFlight) / target), `target` = `targetPerWorker` else the concurrency.
 *   Rate rule (`drainTargetSeconds` > 0): from the arrival rate and the p50 run time, the pool
 *   that keeps up and drains the backlog within the target (see `rateDesired`). The executor's
 *   resource limit caps max.
 * - Stabilization: scale out to the lowest desired of the scale-up window, scale in no lower
 *   than the highest of the scale-down window (both 0 by default).
 * - Scale out one worker per decision, `burst` when the backlog is over `threshold`, or straight
 *   to the rate rule's count when that is more. Starting workers (pending pods too) count as
 *   capacity, so repeated ticks never overshoot.
 * - Rate rule before any run has ended: the run time is what the jobs in flight prove (their
 *   median age), so the pool starts from the jobs in flight and grows as they age; the queue
 *   rule covers the backlog, and scale-out goes straight to its count.
 * - Scale in only when nothing is ready, idle workers only, longest idle first, never below
 *   max(min, stabilized desired), and the last one only `scaleToZeroSeconds` after the type's
 *   last job ended. Once a run time is known, demand is measured: with a = arrivals × mean run,
 *   needed = ceil((a + headroom · √a) ÷ concurrency) (`neededWorkers`), stabilized to the highest
 *   of `demandWindowSeconds`;
 *   workers over it retire after a short grace (`RETIRE_GRACE_SECONDS`). Any worker over the
 *   stabilized desired count still retires after `idleSeconds` idle, as without demand. A busy,
 *   starting or draining worker is never named (invariant 5). Gaffer's gateway packs jobs onto
 *   the busiest workers, so the surplus is what goes idle.
 *
 * With `drainTargetSeconds: 0` and the other defaults (threshold 40, burst 5, idleSeconds 30) this
 * is the plain burst policy: one worker at a time, 5 at once over a backlog of 40, a worker
 * retired after 30 s idle and only when nothing is ready.
 *
 * Per-job mode: each start launches one job, so start as many as are ready, up to `max` running;
 * workers exit on their own, so nothing is ever retired.
 */
export const decide: DecideFn = (obs, scaling) =>
  obs.mode === 'per-job' ? decidePerJob(obs, scaling) : decidePool(obs, scaling);

/**
 * Every type at one instant, then the global capacity shared by priority and weight
 * (`applyCapacity`). `capacity` null or absent: unlimited, each type decides alone.
 */
export function decideAll(
  items: readonly { obs: Observation; scaling: ScalingConfig }[],
  capacity?: number | null,
  decideFn: DecideFn = decide,
): Decision[] {
  const decisions = items.map((i) => decideFn(i.obs, i.scaling));
  return applyCapacity(items, decisions, capacity);
}

/** The observation as flow control lets the rules see it, and the cap on workers it sets. */
function underFlow(observed: Observation, concurrency: number) {
  const flow = flowDemand({
    flow: observed.flow,
    ready: observed.ready,
    arrivalRate: observed.arrivalRate,
    inFlight: observed.inFlight,
    runMs: observed.runP50Ms ?? null,
    concurrency,
  });
  return { obs: { ...observed, ready: flow.ready, arrivalRate: flow.arrivalRate }, cap: flow.cap };
}

function decidePool(observed: Observation, scaling: ScalingConfig): Decision {
  const { obs, cap } = underFlow(observed, observed.concurrency);
  const counts = countWorkers(obs.workers);
  const s = fedSettings(settings(scaling, obs), cap);
  const { current } = counts;
  const queue = queueDesired(obs.ready, obs.inFlight, s.target);
  const rate = rateDesired({
    ready: obs.ready,
    inFlight: obs.inFlight,
    arrivalRate: obs.arrivalRate ?? 0,
    runMs: obs.runP50Ms ?? null,
    provenRunMs: obs.inFlightAgeP50Ms ?? null,
    concurrency: obs.concurrency,
    drainTargetSeconds: s.drainTargetSeconds,
  });
  const need = demand(obs, s);
  // Known demand ahead (due jobs, a predicted burst) lifts desired, and scale-out goes straight to
  // it; a floor under what the rules already want changes nothing and is not mentioned.
  const base = clampDesired(Math.max(queue, rate ?? 0), obs.ready, s.min, s.max);
  const floor = observed.flow?.paused ? null : warmFloor(obs, s);
  const warm = floor && floor.workers > base ? floor : null;
  const desired = Math.max(base, warm?.workers ?? 0);
  const stable = stabilize(
    desired,
    obs.history ?? [],
    obs.now,
    s.upWindowSeconds,
    s.downWindowSeconds,
  );
  // A scale-up window never keeps a type with ready jobs at zero workers (scale from zero).
  const upTarget = current === 0 && desired > 0 ? Math.max(stable.up, 1) : stable.up;
  // Before any run has ended the backlog is the queue rule's to cover: straight to its count (one
  // worker per `target` jobs, what the jobs prove they need), as to the rate rule's once a run
  // time is known.
  const unproven = rate !== null && obs.runP50Ms == null;
  const jumpTo = unproven ? Math.max(rate, queue) : rate;
  const out = scaleOut({
    current,
    upTarget,
    ready: obs.ready,
    rate: warm ? Math.max(warm.workers, jumpTo ?? 0) : jumpTo,
    s,
  });
  // Over what the rate limit can feed, idle workers retire even with jobs ready: they wait on
  // the limit, not on work. And at once, not after `idleSeconds`: the limit's starts are spread
  // over every worker, so a surplus one is idle most of the time but never for that long.
  const overFed = cap !== null && current > s.max;
  const { retire, heldForZero } =
    out.start > 0
      ? { retire: [], heldForZero: false }
      : overFed
        ? retirees({
            obs: { ...obs, ready: 0 },
            s: { ...s, idleSeconds: 0 },
            current,
            surplus: current - s.max,
          })
        : retirees({
            obs,
            s,
            current,
            surplus: current - Math.max(s.min, stable.down, desired),
            overNeed:
              need.stable === null
                ? undefined
                : current - Math.max(s.min, stable.down, desired, need.stable),
          });
  const to = current + out.start - retire.length;
  const inputs: Record<string, number> = {
    ready: obs.ready,
    inFlight: obs.inFlight,
    ...counts,
    desired,
    queueDesired: queue,
    min: s.min,
    max: s.max,
    threshold: s.threshold,
    burst: s.burst,
    concurrency: obs.concurrency,
    idleSeconds: s.idleSeconds,
  };
  if (rate !== null) {
    inputs.rateDesired = rate;
    inputs.drainTargetSeconds = s.drainTargetSeconds;
    inputs.arrivalRate = round2(obs.arrivalRate ?? 0);
    if (obs.runP50Ms != null) inputs.runP50Ms = obs.runP50Ms;
  }
  if (s.upWindowSeconds > 0) inputs.scaleUpTarget = stable.up;
  if (s.downWindowSeconds > 0) inputs.scaleDownFloor = stable.down;
  if (need.now !== null && need.stable !== null) {
    inputs.needed = need.now;
    inputs.neededStable = need.stable;
    inputs.headroom = s.headroom;
    inputs.runMeanMs = Math.round(need.runMs!);
    const r = reaction(obs);
    if (r !== null) inputs.reactionMs = r;
  }
  if (rate !== null && obs.runP50Ms == null && obs.inFlightAgeP50Ms != null) {
    inputs.provenRunMs = obs.inFlightAgeP50Ms;
  }
  if (obs.resourceLimit != null) inputs.resourceLimit = obs.resourceLimit;
  if (observed.flow?.paused) inputs.paused = 1;
  if (cap !== null) inputs.rateLimitWorkers = cap;
  if (obs.lastFinishedAt != null) inputs.lastFinishedAt = obs.lastFinishedAt;
  if (warm) Object.assign(inputs, warm.inputs);
  const reason = poolReason({
    warm: warm?.reason ?? null,
    obs,
    s,
    current,
    to,
    desired,
    stable,
    out,
    rate,
    byQueue: unproven && queue > rate,
    retire,
    heldForZero,
    overFed,
    need: need.stable,
  });
  return {
    type: obs.type,
    from: current,
    to,
    start: out.start,
    retire: retire.map((w) => w.id),
    reason,
    inputs,
  };
}

function poolReason(d: {
  /** Why the warm floor lifts desired (anticipate.ts); null: no floor. */
  warm: string | null;
  obs: Observation;
  s: Settings;
  current: number;
  to: number;
  desired: number;
  stable: { up: number; down: number };
  out: { start: number; over: boolean; jump: boolean };
  rate: number | null;
  /** The jump is to the queue rule's count (a backlog before any run time is known). */
  byQueue: boolean;
  retire: WorkerInfo[];
  heldForZero: boolean;
  /** More workers than the rate limit feeds (`s.max` is then its cap). */
  overFed: boolean;
  /** The stabilized need; null: demand not measured. */
  need: number | null;
}): string {
  const { obs, s } = d;
  const arrow = `${d.current} → ${d.to}`;
  if (d.out.start > 0) {
    if (d.warm !== null && obs.ready === 0) {
      return `${arrow}: ${d.warm}, desired ${d.desired}, ${maxText(s)}`;
    }
    if (d.rate === null) {
      const why = d.out.over
        ? `ready ${obs.ready} over threshold ${s.threshold}, burst ${s.burst}`
        : `ready ${obs.ready} ≤ threshold ${s.threshold}, one at a time`;
      return `${arrow}: ${why}, desired ${d.desired}, ${maxText(s)}${upNote(d)}`;
    }
    const step = d.out.jump
      ? d.byQueue
        ? 'straight to the queue count'
        : 'straight to the rate count'
      : d.out.over
        ? `burst ${s.burst}`
        : 'one at a time';
    return `${arrow}: ${rateInputs(obs, s)}, ${step}, desired ${d.desired}, ${maxText(s)}${upNote(d)}`;
  }
  if (d.retire.length > 0) {
    const idle = d.retire.map((w) => `worker ${w.id} idle ${idleSeconds(obs.now, w)} s`).join(', ');
    if (d.overFed) return `${arrow}: ${idle}, over the ${s.max} the rate limit feeds`;
    const longest = Math.min(...d.retire.map((w) => idleSeconds(obs.now, w)));
    if (longest >= s.idleSeconds || d.need === null) {
      return `${arrow}: ${idle} ≥ ${s.idleSeconds} s, ready 0${downNote(d)}`;
    }
    return `${arrow}: ${idle} ≥ ${s.graceSeconds} s, over the need of ${d.need}: ${needText(obs, s)}, ready 0`;
  }
  const held = d.heldForZero
    ? `, last worker kept: last job ended ${Math.floor((obs.now - (obs.lastFinishedAt ?? obs.now)) / 1000)} s ago < ${s.zeroAfterSeconds} s`
    : '';
  const cap = s.limited && d.desired >= s.max ? `, ${maxText(s)}` : '';
  const warm = d.warm === null ? '' : `, ${d.warm}`;
  return `hold at ${d.current}: ready ${obs.ready}, in flight ${obs.inFlight}, desired ${d.desired}${cap}${held}${warm}${upNote(d)}`;
}

/**
 * The measured demand: workers needed now (`neededWorkers`, from the mean run time, else the
 * median) and the highest need of the demand window; both null before any run has ended. It only
 * hastens scale-in: a worker within the need still retires after `idleSeconds` idle (with
 * packing dispatch an idle worker is one the traffic did not use), so the need keeps no worker
 * the idle rule would retire — keeping them cost about 10 % more worker-seconds on steady
 * traffic in the simulator for lower waits that were already within bounds.
 */
function demand(obs: Observation, s: Settings) {
  const runMs = obs.runMeanMs ?? obs.runP50Ms ?? null;
  const now = neededWorkers({
    arrivalRate: obs.arrivalRate ?? 0,
    runMs,
    concurrency: obs.concurrency,
    headroom: s.headroom,
    reactionMs: reaction(obs),
  });
  const stable = stableNeed(now, obs.history ?? [], obs.now, s.demandWindowSeconds);
  return { now, stable, runMs };
}

/** How long a worker started now takes to be of use: its measured start-up plus one tick. */
function reaction(obs: Observation): number | null {
  return obs.startupMs == null ? null : obs.startupMs + (obs.tickMs ?? 1000);
}

/**
 * "arrivals 5/s × mean run 1 s = 5 in service + headroom 2 × √5, ÷ concurrency 1, highest of the
 * last 60 s"; with a reaction shorter than the run, "… + headroom 2 × √(5 × 0.33) (start-up + tick
 * 0.2 s) …".
 */
function needText(obs: Observation, s: Settings): string {
  const run = obs.runMeanMs ?? obs.runP50Ms ?? 0;
  const kind = obs.runMeanMs != null ? 'mean' : 'p50';
  const a = round2(((obs.arrivalRate ?? 0) * run) / 1000);
  const r = reaction(obs);
  const share = spareShare(r, run);
  const spares = share < 1 ? `√(${a} × ${round2(share)}) (start-up + tick ${secs(r!)} s)` : `√${a}`;
  return `arrivals ${round2(obs.arrivalRate ?? 0)}/s × ${kind} run ${secs(run)} s = ${a} in service + headroom ${s.headroom} × ${spares}, ÷ concurrency ${obs.concurrency}, highest of the last ${s.demandWindowSeconds} s`;
}

/**
 * The settings under what a rate limit can feed: max no higher than `cap` (min, an operator's
 * floor, stays), `limited` left to the executor's room.
 */
function fedSettings(s: Settings, cap: number | null): Settings {
  if (cap === null) return s;
  return { ...s, max: Math.max(s.min, Math.min(s.max, cap)) };
}

/** "max 8", or "max 3 (executor room)" when the resource limit is what caps it. */
function maxText(s: Settings): string {
  return `max ${s.max}${s.limited ? ' (executor room)' : ''}`;
}

/** "ready 40, in flight 6, arrivals 1.5/s, p50 run 90 s, drain target 60 s". */
function rateInputs(obs: Observation, s: Settings): string {
  const run =
    obs.runP50Ms != null
      ? `p50 run ${secs(obs.runP50Ms)} s`
      : obs.inFlightAgeP50Ms != null
        ? `run time not yet observed, at least ${secs(obs.inFlightAgeP50Ms)} s (median age in flight)`
        : 'run time not yet observed';
  return `ready ${obs.ready}, in flight ${obs.inFlight}, arrivals ${round2(obs.arrivalRate ?? 0)}/s, ${run}, drain target ${s.drainTargetSeconds} s`;
}

function upNote(d: { desired: number; stable: { up: number }; s: Settings }): string {
  return d.stable.up < d.desired
    ? ` (scale-up window ${d.s.upWindowSeconds} s holds it to ${d.stable.up})`
    : '';
}

function downNote(d: { desired: number; stable: { down: number }; s: Settings }): string {
  return d.stable.down > d.desired
    ? ` (scale-down window ${d.s.downWindowSeconds} s keeps ${d.stable.down})`
    : '';
}

function secs(ms: number): number {
  return Math.round(ms / 100) / 10;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function idleSeconds(now: number, w: WorkerInfo): number {
  return Math.floor((now - (w.idleSince ?? now)) / 1000);
}

function decidePerJob(observed: Observation, scaling: ScalingConfig): Decision {
  const { obs, cap: fed } = underFlow(observed, 1);
  const counts = countWorkers(obs.workers);
  const max = Math.max(0, Math.min(scaling.max, obs.resourceLimit ?? Infinity, fed ?? Infinity));
  const { current } = counts;
  const start = Math.max(0, Math.min(obs.ready, max - current));
  const to = current + start;
  const cap = `max ${max}${max < scaling.max ? ' (executor room)' : ''}`;
  const reason =
    start > 0
      ? `${current} → ${to}: launch ${start} of ${obs.ready} ready, ${current} running, ${cap}`
      : `hold at ${current}: ready ${obs.ready}, ${current} running, ${cap}`;
  return {
    type: obs.type,
    from: current,
    to,
    start,
    retire: [],
    reason,
    inputs: {
      ready: obs.ready,
      inFlight: obs.inFlight,
      ...counts,
      desired: Math.min(max, current + obs.ready),
      min: scaling.min,
      max,
      threshold: scaling.threshold,
      burst: scaling.burst,
    },
  };
}
