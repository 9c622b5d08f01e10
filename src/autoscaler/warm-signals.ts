import type { WorkerInfo } from '../domain/events.ts';
import type { Burst } from './anticipate.ts';

/**
 * What warming ahead needs beyond `Activity`, kept per type by whoever runs the policy (the control
 * loop, the simulator): the recent bursts of arrivals and the measured start-up delays of workers.
 * Bookkeeping only — every instant is an argument — and bounded: at most `BURSTS_KEPT` bursts and
 * `STARTUP_SAMPLES` delays, arrivals of the last `BURST_WINDOW_MS` only.
 */
export const BURST_WINDOW_MS = 10_000;
/** Fewest arrivals within the window that make a burst, whatever the baseline. */
export const MIN_BURST_JOBS = 10;
/** A burst: arrivals within the window at least this many times the baseline's. */
export const BURST_FACTOR = 3;
/** Time constant of the baseline arrival rate (an exponentially decaying count), ms. */
export const BASELINE_TAU_MS = 300_000;
export const BURSTS_KEPT = 8;
export const STARTUP_SAMPLES = 21;

/** Least age the baseline is corrected for: a stream's first seconds are not its rate. */
export const BASELINE_MIN_AGE_MS = 60_000;

interface TypeBursts {
  /** [at, count], oldest first, within the window. */
  window: [number, number][];
  inWindow: number;
  /** Baseline arrivals per ms, decayed to `baselineAt`. */
  baseline: number;
  baselineAt: number;
  /** The type's first arrival: the baseline is corrected for how little it has seen. */
  firstAt: number;
  lastArrivalAt: number;
  bursts: Burst[];
}

/**
 * Detects bursts online: one begins when the arrivals of the last `BURST_WINDOW_MS` reach
 * max(MIN_BURST_JOBS, BURST_FACTOR × what the baseline rate brings in that window); it begins at
 * the window's first arrival, and ends (at its last arrival) once the window holds less than half
 * that. The baseline is an exponentially decaying rate over every arrival, so a slow daily curve
 * moves it and never counts as a burst.
 */
export class BurstLog {
  readonly #types = new Map<string, TypeBursts>();

  arrived(type: string, at: number, count = 1): void {
    let t = this.#types.get(type);
    if (!t) {
      t = {
        ...{ window: [], inWindow: 0, baseline: 0, baselineAt: at },
        ...{ firstAt: at, lastArrivalAt: at, bursts: [] },
      };
      this.#types.set(type, t);
    }
    this.#advance(t, at);
    t.baseline += count / BASELINE_TAU_MS;
    const last = t.window.at(-1);
    if (last && last[0] === at) last[1] += count;
    else t.window.push([at, count]);
    t.inWindow += count;
    t.lastArrivalAt = Math.max(t.lastArrivalAt, at);
    const open = t.bursts.at(-1);
    if (open && open.endAt === null) {
      open.size += count;
      return;
    }
    if (t.inWindow >= threshold(t)) {
      // Within one window of the last burst's end it is the same burst, resumed (no flicker).
      if (open && open.endAt !== null && at - open.endAt <= BURST_WINDOW_MS) {
        open.endAt = null;
        open.size += count;
        return;
      }
      t.bursts.push({ at: t.window[0]![0], size: t.inWindow, endAt: null });
      if (t.bursts.length > BURSTS_KEPT) t.bursts.shift();
    }
  }

  /** The type's recent bursts at `now`, oldest first (the last may still be going on). */
  bursts(type: string, now: number): readonly Burst[] {
    const t = this.#types.get(type);
    if (!t) return [];
    this.#advance(t, now);
    return t.bursts.map((b) => ({ ...b }));
  }

  /** Decays the baseline to `now`, drops arrivals out of the window, ends a burst that faded. */
  #advance(t: TypeBursts, now: number): void {
    if (now > t.baselineAt) {
      t.baseline *= Math.exp(-(now - t.baselineAt) / BASELINE_TAU_MS);
      t.baselineAt = now;
    }
    let i = 0;
    while (i < t.window.length && t.window[i]![0] <= now - BURST_WINDOW_MS) {
      t.inWindow -= t.window[i]![1];
      i++;
    }
    if (i > 0) t.window.splice(0, i);
    const open = t.bursts.at(-1);
    if (open && open.endAt === null && t.inWindow < threshold(t) / 2) open.endAt = t.lastArrivalAt;
  }
}

/**
 * The decaying count starts at 0, so it is divided by the share of its steady value it can have
 * reached since the first arrival (at least `BASELINE_MIN_AGE_MS`): steady traffic from the start
 * is its rate within a minute, not a rising baseline a stream keeps bursting over.
 */
function threshold(t: TypeBursts): number {
  const age = Math.max(BASELINE_MIN_AGE_MS, t.baselineAt - t.firstAt);
  const rate = t.baseline / (1 - Math.exp(-age / BASELINE_TAU_MS));
  return Math.max(MIN_BURST_JOBS, BURST_FACTOR * rate * BURST_WINDOW_MS);
}

/**
 * Workers' measured start-up delays per type: from a worker's start (its `startedAt`) to when it
 * said it was ready (`readyAt`), exact however long ago; for a worker that does not say, to the
 * first time it is seen ready after being seen starting (idle since, or seen busy). Each worker
 * counts once. The last `STARTUP_SAMPLES` per type, reported as their p90 so the lead errs early.
 */
export class StartupDelays {
  readonly #samples = new Map<string, number[]>();
  /** Per type, workers seen starting and not yet measured. */
  readonly #starting = new Map<string, Set<string>>();
  /** Per type, listed workers already measured. */
  readonly #measured = new Map<string, Set<string>>();

  /** Records start-ups among one type's workers (call with every view of its pool). */
  observe(type: string, workers: readonly WorkerInfo[], now: number): void {
    const before = this.#starting.get(type) ?? new Set<string>();
    const done = this.#measured.get(type) ?? new Set<string>();
    const starting = new Set<string>();
    const measured = new Set<string>();
    for (const w of workers) {
      if (w.state === 'starting') {
        starting.add(w.id);
        continue;
      }
      if (done.has(w.id)) {
        measured.add(w.id);
        continue;
      }
      const readyAt = w.readyAt ?? (before.has(w.id) ? seenReadyAt(w, now) : null);
      if (readyAt === null) continue;
      this.add(type, readyAt - w.startedAt);
      measured.add(w.id);
    }
    // Only workers still listed are kept: one stopped while starting is forgotten.
    this.#starting.set(type, starting);
    this.#measured.set(type, measured);
  }

  /** One measured start-up delay of `type`, ms. */
  add(type: string, ms: number): void {
    if (!(ms >= 0)) return;
    let s = this.#samples.get(type);
    if (!s) this.#samples.set(type, (s = []));
    s.push(ms);
    if (s.length > STARTUP_SAMPLES) s.shift();
  }

  /** p90 of the type's recent start-up delays, ms; null before the first. */
  p90(type: string): number | null {
    const s = this.#samples.get(type);
    if (!s || s.length === 0) return null;
    const sorted = [...s].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))]!;
  }
}

/** A worker seen starting, now seen again: when it became ready, or now as an upper bound. */
function seenReadyAt(w: WorkerInfo, now: number): number | null {
  if (w.state !== 'idle' && w.state !== 'busy') return null;
  return w.idleSince !== null && w.idleSince >= w.startedAt ? w.idleSince : now;
}
