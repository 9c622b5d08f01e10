import type { WorkerInfo } from '../domain/events.ts';
import type { ScalingConfig } from '../config/schema.ts';
import type { Decision, DecideFn, Observation } from './policy.ts';

/**
 * The scaling policy (seed 000's behaviour, per job type). Pure: no I/O, no clock reads — the
 * instant is `obs.now`. The same observation always yields the same decision.
 *
 * Pool mode:
 * - desired = clamp(ceil((ready + inFlight) / target), min, max), at least 1 when there is
 *   work and max > 0 (scale from zero). `target` is `targetPerWorker` (seed 002's messages per
 *   replica), else the worker's concurrency: one worker per `concurrency` jobs of work.
 * - Scale out one worker per decision, or up to `burst` when the backlog is over `threshold`.
 *   Starting workers count as capacity, so repeated ticks never overshoot `max`.
 * - Scale in only when nothing is ready, and only workers idle (active 0) for `idleSeconds`,
 *   longest idle first, never below max(min, desired). A busy, starting or draining worker is
 *   never named (invariant 5).
 *
 * Per-job mode: each start launches one job, so start as many as are ready, up to `max` running;
 * workers exit on their own, so nothing is ever retired.
 */
export const decide: DecideFn = (obs, scaling) =>
  obs.mode === 'per-job' ? decidePerJob(obs, scaling) : decidePool(obs, scaling);

interface Counts {
  current: number;
  busy: number;
  idle: number;
  starting: number;
}

/** Workers that count as capacity: every state but draining and stopped. */
function countWorkers(workers: readonly WorkerInfo[]): Counts {
  const counts: Counts = { current: 0, busy: 0, idle: 0, starting: 0 };
  for (const w of workers) {
    if (w.state === 'draining' || w.state === 'stopped') continue;
    counts.current++;
    if (w.state === 'busy') counts.busy++;
    else if (w.state === 'idle') counts.idle++;
    else if (w.state === 'starting') counts.starting++;
  }
  return counts;
}

/** min ≤ max is checked at load time; if it is ever violated here, max wins (never exceed it). */
function bounds(scaling: ScalingConfig): { min: number; max: number } {
  const max = Math.max(0, scaling.max);
  return { min: Math.min(Math.max(0, scaling.min), max), max };
}

function desiredOf(obs: Observation, scaling: ScalingConfig, min: number, max: number): number {
  const work = obs.ready + obs.inFlight;
  const raw = Math.ceil(work / Math.max(1, scaling.targetPerWorker ?? obs.concurrency));
  let desired = Math.min(max, Math.max(min, raw));
  if (obs.ready > 0 && max > 0) desired = Math.max(desired, 1);
  return desired;
}

function decidePool(obs: Observation, scaling: ScalingConfig): Decision {
  const counts = countWorkers(obs.workers);
  const { min, max } = bounds(scaling);
  const { current } = counts;
  const desired = desiredOf(obs, scaling, min, max);
  const over = obs.ready > scaling.threshold;
  const step = over ? scaling.burst : 1;
  const room = Math.max(0, max - current);
  let start = Math.max(0, Math.min(desired - current, step, room));
  // Below the floor, refill it at burst speed whatever the backlog.
  if (current < min) start = Math.max(start, Math.min(min - current, scaling.burst, room));
  const retire = start === 0 ? pickRetirees(obs, scaling, current - Math.max(min, desired)) : [];
  const to = current + start - retire.length;
  const inputs = {
    ready: obs.ready,
    inFlight: obs.inFlight,
    ...counts,
    desired,
    min,
    max,
    threshold: scaling.threshold,
    burst: scaling.burst,
    concurrency: obs.concurrency,
    idleSeconds: scaling.idleSeconds,
  };
  const reason = poolReason({ obs, scaling, current, to, desired, start, retire, over });
  return {
    type: obs.type,
    from: current,
    to,
    start,
    retire: retire.map((w) => w.id),
    reason,
    inputs,
  };
}

/**
 * Idle workers that may go: only when nothing is ready, only idle with no lease, idle for at
 * least the window; longest idle first; at most `surplus` of them.
 */
function pickRetirees(obs: Observation, scaling: ScalingConfig, surplus: number): WorkerInfo[] {
  if (obs.ready !== 0 || surplus <= 0) return [];
  const windowMs = scaling.idleSeconds * 1000;
  return obs.workers
    .filter(
      (w) =>
        w.state === 'idle' &&
        w.active === 0 &&
        w.idleSince !== null &&
        obs.now - w.idleSince >= windowMs,
    )
    .sort((a, b) => (a.idleSince ?? 0) - (b.idleSince ?? 0) || a.id.localeCompare(b.id))
    .slice(0, surplus);
}

function poolReason(d: {
  obs: Observation;
  scaling: ScalingConfig;
  current: number;
  to: number;
  desired: number;
  start: number;
  retire: WorkerInfo[];
  over: boolean;
}): string {
  const { obs, scaling } = d;
  const arrow = `${d.current} → ${d.to}`;
  if (d.start > 0) {
    const why = d.over
      ? `ready ${obs.ready} over threshold ${scaling.threshold}, burst ${scaling.burst}`
      : `ready ${obs.ready} ≤ threshold ${scaling.threshold}, one at a time`;
    return `${arrow}: ${why}, desired ${d.desired}, max ${scaling.max}`;
  }
  if (d.retire.length > 0) {
    const idle = d.retire.map((w) => `worker ${w.id} idle ${idleSeconds(obs.now, w)} s`).join(', ');
    return `${arrow}: ${idle} ≥ ${scaling.idleSeconds} s, ready 0`;
  }
  return `hold at ${d.current}: ready ${obs.ready}, in flight ${obs.inFlight}, desired ${d.desired}`;
}

function idleSeconds(now: number, w: WorkerInfo): number {
  return Math.floor((now - (w.idleSince ?? now)) / 1000);
}

function decidePerJob(obs: Observation, scaling: ScalingConfig): Decision {
  const counts = countWorkers(obs.workers);
  const max = Math.max(0, scaling.max);
  const { current } = counts;
  const start = Math.max(0, Math.min(obs.ready, max - current));
  const to = current + start;
  const reason =
    start > 0
      ? `${current} → ${to}: launch ${start} of ${obs.ready} ready, ${current} running, max ${max}`
      : `hold at ${current}: ready ${obs.ready}, ${current} running, max ${max}`;
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
