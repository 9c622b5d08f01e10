import type { ScalingConfig } from '../config/schema.ts';
import type { WorkerInfo } from '../domain/events.ts';
import type { DesiredSample, FlowObservation, Observation } from './policy.ts';

/**
 * The scaling rules of one job type, each a small pure function; `decide.ts` composes them.
 * Nothing here reads a clock or does I/O: the instant is always an argument.
 */

/** Rate term's drain target when `drainTargetSeconds` is absent (the simulator's spike needs ≤ ~60). */
export const DEFAULT_DRAIN_TARGET_SECONDS = 30;

/** Spare job slots over the measured demand a, in units of √a, when `headroom` is absent. */
export const DEFAULT_HEADROOM = 2;

/** Scale-in looks back this far for the highest measured need when `demandWindowSeconds` is absent. */
export const DEFAULT_DEMAND_WINDOW_SECONDS = 60;

/**
 * A worker over the measured need retires once idle this long (or `idleSeconds`, if shorter):
 * long enough that one that has just finished a job is not retired before the next arrives.
 */
export const RETIRE_GRACE_SECONDS = 5;

/** A type's scaling settings with every optional field resolved to its documented default. */
export interface Settings {
  min: number;
  max: number;
  /** `max` is the executor's resource limit, below the type's `scaling.max`. */
  limited: boolean;
  threshold: number;
  burst: number;
  /** Jobs (ready + in flight) per worker: `targetPerWorker`, else the concurrency. */
  target: number;
  idleSeconds: number;
  /** 0: the rate term is off. */
  drainTargetSeconds: number;
  upWindowSeconds: number;
  downWindowSeconds: number;
  zeroAfterSeconds: number;
  /** Spare job slots over the measured demand a, in units of √a. */
  headroom: number;
  /** Scale-in keeps the highest need of this window. */
  demandWindowSeconds: number;
  /** Idle time after which a worker over the measured need retires. */
  graceSeconds: number;
}

/**
 * Resolves defaults and limits. `max` is the type's max capped by the executor's resource limit;
 * min ≤ max is checked at load time, and if it is ever violated here max wins (never exceed it).
 */
export function settings(scaling: ScalingConfig, obs: Observation): Settings {
  const resource = obs.resourceLimit ?? Infinity;
  const max = Math.max(0, Math.min(scaling.max, resource));
  return {
    min: Math.min(Math.max(0, scaling.min), max),
    max,
    limited: max < scaling.max,
    threshold: scaling.threshold,
    burst: Math.max(1, scaling.burst),
    target: Math.max(1, scaling.targetPerWorker ?? obs.concurrency),
    idleSeconds: scaling.idleSeconds,
    drainTargetSeconds: scaling.drainTargetSeconds ?? DEFAULT_DRAIN_TARGET_SECONDS,
    upWindowSeconds: scaling.scaleUpStabilizationSeconds ?? 0,
    downWindowSeconds: scaling.scaleDownStabilizationSeconds ?? 0,
    zeroAfterSeconds: scaling.scaleToZeroSeconds ?? scaling.idleSeconds,
    headroom: scaling.headroom ?? DEFAULT_HEADROOM,
    demandWindowSeconds: scaling.demandWindowSeconds ?? DEFAULT_DEMAND_WINDOW_SECONDS,
    graceSeconds: Math.min(scaling.idleSeconds, RETIRE_GRACE_SECONDS),
  };
}

/** How long the caller keeps past decisions: the longest window that looks back on them. */
export function historyKeepMs(
  scaling: Pick<
    ScalingConfig,
    'scaleUpStabilizationSeconds' | 'scaleDownStabilizationSeconds' | 'demandWindowSeconds'
  >,
): number {
  const demand = scaling.demandWindowSeconds ?? DEFAULT_DEMAND_WINDOW_SECONDS;
  const up = scaling.scaleUpStabilizationSeconds ?? 0;
  const down = scaling.scaleDownStabilizationSeconds ?? 0;
  return Math.max(up, down, demand) * 1000;
}

export interface Counts {
  /** Workers that count as capacity: every state but draining and stopped. */
  current: number;
  busy: number;
  idle: number;
  starting: number;
  draining: number;
}

/** Ready + in flight + starting (pending pods included): capacity on the way counts. */
export function countWorkers(workers: readonly WorkerInfo[]): Counts {
  const counts: Counts = { current: 0, busy: 0, idle: 0, starting: 0, draining: 0 };
  for (const w of workers) {
    if (w.state === 'stopped') continue;
    if (w.state === 'draining') {
      counts.draining++;
      continue;
    }
    counts.current++;
    if (w.state === 'busy') counts.busy++;
    else if (w.state === 'idle') counts.idle++;
    else if (w.state === 'starting') counts.starting++;
  }
  return counts;
}

/** Queue rule: one worker per `target` jobs of work, ready or in flight. */
export function queueDesired(ready: number, inFlight: number, target: number): number {
  return Math.ceil((ready + inFlight) / Math.max(1, target));
}

export interface RateInputs {
  ready: number;
  inFlight: number;
  /** Jobs per second. */
  arrivalRate: number;
  /** Observed median run time, ms; null: none observed yet. */
  runMs: number | null;
  /** Before any run is observed, the run time the jobs in flight prove (their median age), ms. */
  provenRunMs?: number | null;
  concurrency: number;
  drainTargetSeconds: number;
}

/**
 * Rate rule: workers to keep up with arrivals and drain the backlog by the drain target T.
 *
 *   desired = ceil((max(λ·S, inFlight) + ready·S / T) / concurrency)
 *
 * λ·S is Little's law, the jobs in service at arrival rate λ and run time S (at least the jobs in
 * flight now); ready·S/T is the extra service that empties the ready backlog within T. Before any
 * run of the type has been observed, S is only what is proven: the median age of the jobs in
 * flight (each has run at least that long), else 0 — so the rule starts from the jobs in flight
 * and grows as they age, and the backlog is the queue rule's. Returns null when off (T = 0).
 */
export function rateDesired(r: RateInputs): number | null {
  if (r.drainTargetSeconds <= 0) return null;
  const targetMs = r.drainTargetSeconds * 1000;
  const runMs = r.runMs ?? r.provenRunMs ?? 0;
  const inService = Math.max((r.arrivalRate * runMs) / 1000, r.inFlight);
  return Math.ceil((inService + (r.ready * runMs) / targetMs) / Math.max(1, r.concurrency));
}

/** clamp(raw, min, max), and at least 1 when jobs are ready and max > 0 (scale from zero). */
export function clampDesired(raw: number, ready: number, min: number, max: number): number {
  let desired = Math.min(max, Math.max(min, raw));
  if (ready > 0 && max > 0) desired = Math.max(desired, 1);
  return desired;
}

/**
 * Stabilization windows: scale out only to the lowest desired count of the last `upWindow`
 * seconds (a short spike in the signal does not start workers), scale in no lower than the
 * highest of the last `downWindow` seconds (a short lull does not retire them). Windows of 0
 * use the current desired count alone.
 */
export function stabilize(
  desired: number,
  history: readonly DesiredSample[],
  now: number,
  upWindowSeconds: number,
  downWindowSeconds: number,
): { up: number; down: number } {
  let up = desired;
  let down = desired;
  for (const h of history) {
    const age = now - h.at;
    if (age < 0) continue;
    if (upWindowSeconds > 0 && age < upWindowSeconds * 1000) up = Math.min(up, h.desired);
    if (downWindowSeconds > 0 && age < downWindowSeconds * 1000) down = Math.max(down, h.desired);
  }
  return { up, down };
}

/**
 * Scale-out step: to `upTarget`, at most one worker at a time, or `burst` when the backlog is over
 * `threshold` — or straight to the rate rule's count when that is larger. Never past
 * max. Below min, refill the floor at burst speed whatever the backlog.
 */
export function scaleOut(o: {
  current: number;
  upTarget: number;
  ready: number;
  rate: number | null;
  s: Settings;
}): { start: number; over: boolean; jump: boolean } {
  const { current, s } = o;
  const over = o.ready > s.threshold;
  const burstStep = over ? s.burst : 1;
  const rateStep = o.rate === null ? 0 : Math.min(o.rate, s.max) - current;
  const step = Math.max(burstStep, rateStep);
  const room = Math.max(0, s.max - current);
  let start = Math.max(0, Math.min(o.upTarget - current, step, room));
  if (current < s.min) start = Math.max(start, Math.min(s.min - current, s.burst, room));
  return { start, over, jump: step > burstStep && start > burstStep };
}

/**
 * Need rule: the workers the measured demand keeps busy, with headroom for its fluctuation —
 *
 *   a = λ · S                         (Little's law: jobs in service at arrival rate λ, mean run S)
 *   share = min(1, 2 · (1 − e^(−R/S)))  (R: the reaction time, start-up + one tick; 1 if unknown)
 *   needed = ceil((a + headroom · √(a · share)) ÷ concurrency)
 *
 * The headroom grows as √a, not in proportion to a: square-root staffing (Halfin–Whitt), the
 * textbook rule for Poisson arrivals. The jobs in service fluctuate by about √a, so a small pool
 * needs a large fraction spare and a large one a small fraction; with headroom 2 about 3 % of
 * arrivals find every slot busy. Spares only have to cover what the count can grow by before a
 * worker started for it is up: over a horizon R its change has variance 2a(1 − e^(−R/S)) (an
 * M/M/∞ queue), so workers that start in a fraction of a run need few spares — a job that finds
 * every slot busy waits about R — and slow ones the full √a. Null while no run time has been
 * observed (demand not measured).
 */
export function neededWorkers(o: {
  arrivalRate: number;
  runMs: number | null;
  concurrency: number;
  headroom: number;
  /** Start-up delay plus one tick, ms; null or absent: unknown, the full headroom. */
  reactionMs?: number | null;
}): number | null {
  if (o.runMs === null) return null;
  const a = (o.arrivalRate * o.runMs) / 1000;
  const slots = a + o.headroom * Math.sqrt(a * spareShare(o.reactionMs ?? null, o.runMs));
  // Rounded first so float noise (4.000000000000001) does not add a worker.
  return Math.ceil(Math.round((slots / Math.max(1, o.concurrency)) * 1e6) / 1e6);
}

/** The share of √a the spares cover for a reaction time R and a mean run S (`neededWorkers`). */
export function spareShare(reactionMs: number | null, runMs: number): number {
  if (reactionMs === null || !(runMs > 0)) return 1;
  return Math.min(1, 2 * (1 - Math.exp(-Math.max(0, reactionMs) / runMs)));
}

/**
 * The need scale-in keeps: the highest of `needed` and the needs of the last `windowSeconds`
 * (as the HPA's scale-down window keeps its highest recommendation). Null when not measured now.
 */
export function stableNeed(
  needed: number | null,
  history: readonly DesiredSample[],
  now: number,
  windowSeconds: number,
): number | null {
  if (needed === null) return null;
  let most = needed;
  for (const h of history) {
    const age = now - h.at;
    if (h.needed !== undefined && age >= 0 && age < windowSeconds * 1000) {
      most = Math.max(most, h.needed);
    }
  }
  return most;
}

/**
 * Scale-in: only when nothing is ready; only idle workers with no lease, longest idle first. Up to
 * `surplus` of those idle at least `idleSeconds`; and, when demand is measured, up to
 * `overNeed` (the workers over the stabilized need) of those idle at least the short grace — a
 * worker the demand does not need goes without waiting to be idle `idleSeconds`. Either count
 * may be 0 or less (nothing by that rule). A busy,
 * starting or draining worker is never named (invariant 5). The last worker (min 0) goes only
 * once the type's last job ended `zeroAfterSeconds` ago.
 */
export function retirees(o: {
  obs: Observation;
  s: Settings;
  current: number;
  surplus: number;
  /** Workers over max(min, stabilized desired, stabilized need); absent: demand not measured. */
  overNeed?: number;
}): { retire: WorkerInfo[]; heldForZero: boolean } {
  const { obs, s } = o;
  const none = { retire: [], heldForZero: false };
  const overNeed = o.overNeed ?? 0;
  if (obs.ready !== 0 || (o.surplus <= 0 && overNeed <= 0)) return none;
  const idle = obs.workers
    .filter((w) => w.state === 'idle' && w.active === 0 && w.idleSince !== null)
    .sort((a, b) => (a.idleSince ?? 0) - (b.idleSince ?? 0) || a.id.localeCompare(b.id));
  const idleFor = (w: WorkerInfo) => obs.now - (w.idleSince ?? obs.now);
  // Longest idle first, so each rule's victims are a prefix of `idle`: take the longer prefix.
  const byIdle = prefix(idle, (w) => idleFor(w) >= s.idleSeconds * 1000, o.surplus);
  const byNeed = prefix(idle, (w) => idleFor(w) >= s.graceSeconds * 1000, overNeed);
  const retire = idle.slice(0, Math.max(byIdle, byNeed));
  const last = obs.lastFinishedAt;
  const toZero = retire.length > 0 && o.current - retire.length === 0;
  if (toZero && last != null && obs.now - last < s.zeroAfterSeconds * 1000) {
    return { retire: retire.slice(0, -1), heldForZero: true };
  }
  return { retire, heldForZero: false };
}

/** How many of the first `limit` items satisfy `ok` without a break. */
function prefix<T>(items: readonly T[], ok: (t: T) => boolean, limit: number): number {
  let n = 0;
  while (n < Math.min(limit, items.length) && ok(items[n]!)) n++;
  return n;
}

/**
 * Flow control's part in demand. A paused type starts nothing, so its ready jobs and its arrivals
 * are no demand (`ready` and `arrivalRate` 0: no worker is started for them, idle ones retire as
 * usual). A rate-limited type can
 * keep at most `startsPerSecond × run time` jobs busy (Little's law), so more workers than
 * `ceil(that ÷ concurrency)` — and never fewer than its jobs in flight need — would only idle;
 * before any run was observed a run is taken to last one second, and the cap grows once one is.
 * Returns the ready count and arrival rate the rules see and the cap on workers (null: none).
 */
export function flowDemand(o: {
  flow: FlowObservation | null | undefined;
  ready: number;
  arrivalRate: number | undefined;
  inFlight: number;
  runMs: number | null;
  concurrency: number;
}): { ready: number; arrivalRate: number | undefined; cap: number | null } {
  if (!o.flow) return { ready: o.ready, arrivalRate: o.arrivalRate, cap: null };
  const [ready, arrivalRate] = o.flow.paused ? [0, 0] : [o.ready, o.arrivalRate];
  if (o.flow.startsPerSecond === null) return { ready, arrivalRate, cap: null };
  const runSeconds = (o.runMs ?? 1000) / 1000;
  const fed = Math.ceil((o.flow.startsPerSecond * runSeconds) / Math.max(1, o.concurrency));
  const held = Math.ceil(o.inFlight / Math.max(1, o.concurrency));
  return { ready, arrivalRate, cap: Math.max(1, fed, held) };
}
