import type { DesiredSample } from './policy.ts';

/**
 * What the rate rule and scale-to-zero need beyond a queue count, kept per type by whoever runs
 * the policy (the control loop from gaffer's job events, the simulator from its own): arrivals
 * over a sliding window, recent run times, and the last job's end. Bookkeeping only — no clock
 * reads, every instant is an argument — so the policy fed from it stays a pure function.
 */
export const RATE_WINDOW_MS = 60_000;
export const RUN_SAMPLES = 101;

interface TypeActivity {
  /** [at, count] buckets, oldest first, within the window. */
  arrivals: [number, number][];
  arrivalsInWindow: number;
  /** Most recent run times, ms, oldest first. */
  runs: number[];
  lastFinishedAt: number | null;
}

export class Activity {
  readonly windowMs: number;
  readonly #types = new Map<string, TypeActivity>();
  /** Jobs running now: id → type and start, for the ages that prove a run time before any ends. */
  readonly #running = new Map<string, { type: string; at: number }>();

  constructor(windowMs = RATE_WINDOW_MS) {
    this.windowMs = windowMs;
  }

  #of(type: string): TypeActivity {
    let a = this.#types.get(type);
    if (!a) {
      a = { arrivals: [], arrivalsInWindow: 0, runs: [], lastFinishedAt: null };
      this.#types.set(type, a);
    }
    return a;
  }

  arrived(type: string, at: number, count = 1): void {
    const a = this.#of(type);
    const last = a.arrivals.at(-1);
    if (last && last[0] === at) last[1] += count;
    else a.arrivals.push([at, count]);
    a.arrivalsInWindow += count;
  }

  /** A run ended at `at` after `runMs` (null: unknown, e.g. cancelled before it started). */
  finished(type: string, at: number, runMs: number | null): void {
    const a = this.#of(type);
    a.lastFinishedAt = Math.max(a.lastFinishedAt ?? at, at);
    if (runMs === null || !(runMs >= 0)) return;
    a.runs.push(runMs);
    if (a.runs.length > RUN_SAMPLES) a.runs.shift();
  }

  /** Arrivals per second over the window ending at `now`. */
  rate(type: string, now: number): number {
    const a = this.#types.get(type);
    if (!a) return 0;
    let i = 0;
    while (i < a.arrivals.length && a.arrivals[i]![0] <= now - this.windowMs) {
      a.arrivalsInWindow -= a.arrivals[i]![1];
      i++;
    }
    if (i > 0) a.arrivals.splice(0, i);
    return a.arrivalsInWindow / (this.windowMs / 1000);
  }

  /** Median of the recent run times (upper median), ms; null before the first. */
  runP50(type: string): number | null {
    const runs = this.#types.get(type)?.runs;
    if (!runs || runs.length === 0) return null;
    const sorted = [...runs].sort((x, y) => x - y);
    return sorted[Math.floor(sorted.length / 2)]!;
  }

  /** Mean of the recent run times, ms; null before the first. */
  runMean(type: string): number | null {
    const runs = this.#types.get(type)?.runs;
    if (!runs || runs.length === 0) return null;
    return runs.reduce((a, b) => a + b, 0) / runs.length;
  }

  /** A job started running at `at`. */
  started(type: string, jobId: string, at: number): void {
    this.#running.set(jobId, { type, at });
  }

  /** A job is no longer running (ended, or back in the queue). */
  left(jobId: string): void {
    this.#running.delete(jobId);
  }

  /** Median age at `now` of the type's jobs running, ms (upper median); null when none is. */
  inFlightAgeP50(type: string, now: number): number | null {
    const ages: number[] = [];
    for (const r of this.#running.values()) if (r.type === type) ages.push(Math.max(0, now - r.at));
    if (ages.length === 0) return null;
    ages.sort((x, y) => x - y);
    return ages[Math.floor(ages.length / 2)]!;
  }

  lastFinishedAt(type: string): number | null {
    return this.#types.get(type)?.lastFinishedAt ?? null;
  }
}

/** Keeps each type's recent desired (and needed) counts for the stabilization windows. */
export class DesiredHistory {
  readonly #byType = new Map<string, DesiredSample[]>();

  get(type: string): readonly DesiredSample[] {
    return this.#byType.get(type) ?? [];
  }

  /** Appends one, drops those older than `keepMs` before `at`. `needed` absent: not measured. */
  push(type: string, at: number, desired: number, keepMs: number, needed?: number): void {
    let h = this.#byType.get(type);
    if (!h) this.#byType.set(type, (h = []));
    h.push(needed === undefined ? { at, desired } : { at, desired, needed });
    let drop = 0;
    while (drop < h.length - 1 && h[drop]!.at <= at - keepMs) drop++;
    if (drop > 0) h.splice(0, drop);
    if (keepMs <= 0) h.splice(0, h.length - 1);
  }
}
