/**
 * Warm before known demand: a floor under a type's desired worker count from what is known to be
 * coming, each with its reason. Pure: no clock reads, no I/O; the instant is an argument.
 *
 * - Due-time pre-warm: delayed jobs that fall due within the lead (the measured start-up delay
 *   plus one tick) need workers then, so the floor covers them now: ceil((ready + in flight +
 *   due soon) ÷ jobs per worker).
 * - Burst prediction: the next burst at last onset + mean gap. Two bursts predict a third one gap
 *   on; from `PATTERN_BURSTS` on, the last that many onsets must be one gap apart within a
 *   tolerance (irregular bursts predict nothing). A miss on one gap's evidence costs the floor's
 *   workers one lead and the late window, once: a third burst that does not match ends it. From
 *   one lead (plus the gaps' measured spread) before it until it is late, the floor is the
 *   workers the burst's median size needs. Late is twice the
 *   gaps' spread after it (at least `MIN_GAP_TOLERANCE_MS`, at most the match tolerance), so a
 *   daily burst does not hold workers for hours on a miss. A burst that has not come by then is a
 *   miss: the prediction is dropped (the gaps stop matching until the pattern is seen again), and
 *   the workers it started go after the pool's usual idle time.
 *
 * The cost model, in units where one worker-second costs what one second of a job's wait does: a
 * burst met cold waits one start-up delay D more for every one of its jobs (the pool it ramps to
 * drains it D later), size·D. Pre-warming k workers costs, beyond the start-up a cold start pays
 * too, their idle time before the burst, at most k·(tick + spread): warm ahead only when that is
 * less than size·D. Between bursts, keeping k workers through an idle gap g costs k·g; letting
 * them go costs what the pool keeps them idle anyway before retiring them (r, the type's
 * idleSeconds, at most g), their start-up again (k·D, a starting worker is paid for) and the
 * burst's waits (size·D): keep them when k·g < k·(min(g, r) + D) + size·D.
 *
 * Keeping workers through a gap costs the whole gap on a miss, so it needs `PATTERN_BURSTS`.
 *
 * Every floor is at most `max` (the caller passes max capped by the executor's room and by what a
 * rate limit can feed) and never negative; no burst floor without `MIN_BURSTS` bursts observed.
 */

/** Start-up delay assumed before any worker start was measured, ms. */
export const DEFAULT_STARTUP_MS = 5_000;
/** Bursts needed before a burst is predicted: the first and one recurrence, one gap. */
export const MIN_BURSTS = 2;
/** Bursts a pattern is judged on once known, and the floor between bursts needs: two gaps. */
export const PATTERN_BURSTS = 3;
/** Least tolerance on a gap between bursts, ms; 10% of the gap when that is more. */
export const MIN_GAP_TOLERANCE_MS = 2_000;

/** One burst of arrivals as the caller's log recorded it (`BurstLog`). */
export interface Burst {
  /** First arrival of the burst. */
  at: number;
  /** Arrivals counted in it so far. */
  size: number;
  /** Last arrival once it ended; null while it goes on. */
  endAt: number | null;
}

/** Delayed jobs of a type that fall due within the lead, and the first one's due time. */
export interface DueSoon {
  count: number;
  firstAt: number;
}

export interface WarmInput {
  now: number;
  ready: number;
  inFlight: number;
  /** Measured start-up delay of a worker, ms (null/absent: DEFAULT_STARTUP_MS). */
  startupMs?: number | null;
  /** The control loop's tick interval, ms. */
  tickMs?: number;
  dueSoon?: DueSoon | null;
  /** Recent bursts, oldest first. */
  bursts?: readonly Burst[];
}

export interface WarmLimits {
  max: number;
  /** Jobs per worker (the queue rule's target). */
  target: number;
  /** How long the pool keeps an idle worker before retiring it, s. */
  idleSeconds: number;
}

export interface WarmFloor {
  workers: number;
  reason: string;
  inputs: Record<string, number>;
}

/** How far ahead workers are started: the start-up delay plus one tick (the decision's lag). */
export function leadMs(startupMs: number | null | undefined, tickMs = 1000): number {
  return Math.max(0, startupMs ?? DEFAULT_STARTUP_MS) + Math.max(0, tickMs);
}

/** The highest floor of the three, or null when none applies. */
export function warmFloor(o: WarmInput, lim: WarmLimits): WarmFloor | null {
  const floors = [dueFloor(o, lim), burstFloor(o, lim), gapFloor(o, lim)];
  let best: WarmFloor | null = null;
  for (const f of floors) if (f && f.workers > (best?.workers ?? 0)) best = f;
  return best;
}

function bound(workers: number, lim: WarmLimits): number {
  return Math.max(0, Math.min(Math.floor(lim.max), Math.ceil(workers)));
}

/** Delayed jobs due within the lead: workers for them, beside the work already here. */
export function dueFloor(o: WarmInput, lim: WarmLimits): WarmFloor | null {
  const due = o.dueSoon;
  if (!due || due.count <= 0) return null;
  const lead = leadMs(o.startupMs, o.tickMs);
  if (due.firstAt > o.now + lead) return null;
  const workers = bound((o.ready + o.inFlight + due.count) / Math.max(1, lim.target), lim);
  if (workers <= 0) return null;
  const jobs = due.count === 1 ? '1 job' : `${due.count} jobs`;
  return {
    workers,
    reason: `${jobs} due at ${clockTime(due.firstAt)}, start-up ~${secs(startup(o))} s`,
    inputs: { dueSoon: due.count, dueAt: due.firstAt, leadMs: lead, warmFloor: workers },
  };
}

/**
 * The next burst as the last `PATTERN_BURSTS` onsets (or the only two) predict it; null without a
 * matching pattern.
 */
export function predictBurst(
  bursts: readonly Burst[],
): { at: number; periodMs: number; spreadMs: number; size: number; from: number } | null {
  if (bursts.length < MIN_BURSTS) return null;
  const last = bursts.slice(-PATTERN_BURSTS);
  const gaps = last.slice(1).map((b, i) => b.at - last[i]!.at);
  const period = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  if (!(period > 0)) return null;
  const spread = Math.max(...gaps.map((g) => Math.abs(g - period)));
  if (spread > tolerance(period)) return null;
  const size = median(last.map((b) => b.size));
  return {
    at: last.at(-1)!.at + period,
    periodMs: period,
    spreadMs: spread,
    size,
    from: last.length,
  };
}

/** From one lead (and the gaps' spread) before the predicted burst until it is a miss. */
export function burstFloor(o: WarmInput, lim: WarmLimits): WarmFloor | null {
  const next = predictBurst(o.bursts ?? []);
  if (!next) return null;
  const lead = leadMs(o.startupMs, o.tickMs);
  const late = Math.min(
    tolerance(next.periodMs),
    Math.max(MIN_GAP_TOLERANCE_MS, 2 * next.spreadMs),
  );
  if (o.now < next.at - lead - next.spreadMs || o.now > next.at + late) return null;
  const workers = bound(next.size / Math.max(1, lim.target), lim);
  if (workers <= 0) return null;
  const idle = (workers * (Math.max(0, o.tickMs ?? 1000) + next.spreadMs)) / 1000;
  if (!(idle < (next.size * startup(o)) / 1000)) return null;
  return {
    workers,
    reason:
      `burst of ~${Math.round(next.size)} expected at ${clockTime(next.at)} from the last ` +
      `${next.from} bursts every ${secs(next.periodMs)} s, start-up ~${secs(startup(o))} s`,
    inputs: {
      burstExpectedAt: Math.round(next.at),
      burstPeriodMs: Math.round(next.periodMs),
      burstSize: Math.round(next.size),
      leadMs: lead,
      warmFloor: workers,
    },
  };
}

/**
 * Between bursts: keep the workers a burst needs through the idle gap when that costs less than
 * letting them go (the cost model above). Applies after a burst ended, until the next is a miss
 * (the median gap plus its tolerance after the last end).
 */
export function gapFloor(o: WarmInput, lim: WarmLimits): WarmFloor | null {
  const bursts = (o.bursts ?? []).slice(-PATTERN_BURSTS);
  if (bursts.length < PATTERN_BURSTS) return null;
  const last = bursts.at(-1)!;
  if (last.endAt === null) return null;
  const gaps = bursts.slice(1).map((b, i) => b.at - (bursts[i]!.endAt ?? b.at));
  const gap = median(gaps);
  if (!(gap > 0) || o.now > last.endAt + gap + tolerance(gap)) return null;
  const size = median(bursts.map((b) => b.size));
  const k = bound(size / Math.max(1, lim.target), lim);
  if (k <= 0) return null;
  const d = startup(o) / 1000;
  const g = gap / 1000;
  const keep = k * g;
  const drop = k * (Math.min(g, lim.idleSeconds) + d) + size * d;
  if (!(keep < drop)) return null;
  return {
    workers: k,
    reason:
      `warm floor between bursts: gap ~${secs(gap)} s, keeping ${k} costs ${Math.round(keep)} ` +
      `worker-s < ${Math.round(drop)} s of restarts and waits, start-up ~${secs(startup(o))} s`,
    inputs: { burstGapMs: Math.round(gap), burstSize: Math.round(size), warmFloor: k },
  };
}

function startup(o: WarmInput): number {
  return o.startupMs ?? DEFAULT_STARTUP_MS;
}

function tolerance(periodMs: number): number {
  return Math.max(MIN_GAP_TOLERANCE_MS, 0.1 * periodMs);
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** "10:20:05" (UTC), the time of day an instant falls on. */
export function clockTime(at: number): string {
  return new Date(Math.round(at)).toISOString().slice(11, 19);
}

function secs(ms: number): number {
  return Math.round(ms / 100) / 10;
}
