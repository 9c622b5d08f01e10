import type { CronSchedule } from './cron.ts';

/** What to do about ticks that passed while no gaffer fired them. */
export type MissedPolicy = 'skip' | { catchUp: number };
/** Whether a tick fires while the previous tick's job is still unfinished. */
export type OverlapPolicy = 'allow' | 'skip';

export interface TickInput {
  cron: CronSchedule;
  /** The last tick accounted for (fired, or passed over by a policy); null: none yet. */
  lastTick: number | null;
  /** While `lastTick` is null, only ticks after this are due: when the schedule was first seen. */
  since: number;
  now: number;
  missed: MissedPolicy;
  /** Under `missed: skip`, how late the latest due tick may still fire. */
  graceMs: number;
  overlap: OverlapPolicy;
  /** Whether the job of the last fired tick is unfinished (queued or in flight). */
  running: boolean;
  paused: boolean;
}

/**
 * - `not_due`: no tick after the last one has come yet.
 * - `due`: the ticks fire from the first due one on (none passed over).
 * - `missed`: the missed-run policy passed over older due ticks (skip: all but the latest, or all
 *   when the latest is older than the grace; catchUp N: all but the N latest).
 * - `overlap`: the previous run is unfinished and the schedule skips overlapping ticks.
 * - `paused`: the schedule is paused; its ticks pass without firing (a resume catches none up).
 */
export type TickReason = 'not_due' | 'due' | 'missed' | 'overlap' | 'paused';

export interface TickDecision {
  /** The ticks to fire now, oldest first. */
  fire: number[];
  /**
   * The last tick once `fire` has been submitted (the newest tick fired or passed over); null when
   * nothing changes. Due ticks after it stay due for the next pass.
   */
  advanceTo: number | null;
  reason: TickReason;
}

/**
 * Which ticks of a schedule fire at `now`. Pure. The due ticks are those after `lastTick` (or
 * after `since`, before any) up to `now`, inclusive. In order:
 * 1. Paused: every due tick passes.
 * 2. Overlap `skip` with the previous run unfinished: every due tick passes.
 * 3. The missed-run policy: `skip` keeps only the latest due tick, and none when it is more than
 *    `graceMs` old; `catchUp: N` keeps the N latest, oldest first.
 * 4. Overlap `skip`: only the oldest kept tick fires now (two fired together would overlap); the
 *    later ones stay due, and fire on later passes if the run has ended by then.
 */
export function ticksToFire(input: TickInput): TickDecision {
  const { cron, now } = input;
  const from = input.lastTick ?? input.since;
  const first = cron.next(from);
  if (first === null || first > now) return { fire: [], advanceTo: null, reason: 'not_due' };
  const newest = (n: number) => cron.latest(from, now, n);
  if (input.paused) return { fire: [], advanceTo: newest(1)[0] ?? first, reason: 'paused' };
  if (input.overlap === 'skip' && input.running) {
    return { fire: [], advanceTo: newest(1)[0] ?? first, reason: 'overlap' };
  }
  let kept: number[];
  if (input.missed === 'skip') {
    const latest = newest(1)[0] ?? first;
    kept = now - latest > input.graceMs ? [] : [latest];
    if (kept.length === 0) return { fire: [], advanceTo: latest, reason: 'missed' };
  } else {
    kept = newest(Math.max(1, input.missed.catchUp));
  }
  if (input.overlap === 'skip') kept = kept.slice(0, 1);
  return {
    fire: kept,
    advanceTo: kept.at(-1) ?? first,
    reason: kept[0] === first ? 'due' : 'missed',
  };
}

/** The next tick after `now` (what a listing shows as next due); null: it never fires again. */
export function nextTick(cron: CronSchedule, now: number): number | null {
  return cron.next(now);
}
