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

  lastFinishedAt(type: string): number | null {
    return this.#types.get(type)?.lastFinishedAt ?? null;
  }
}

/** Keeps each type's recent desired counts for the stabilization windows. */
export class DesiredHistory {
  readonly #byType = new Map<string, { at: number; desired: number }[]>();

  get(type: string): readonly { at: number; desired: number }[] {
    return this.#byType.get(type) ?? [];
  }

  /** Appends one, drops those older than `keepMs` before `at`. */
  push(type: string, at: number, desired: number, keepMs: number): void {
    let h = this.#byType.get(type);
    if (!h) this.#byType.set(type, (h = []));
    h.push({ at, desired });
    let drop = 0;
    while (drop < h.length - 1 && h[drop]!.at <= at - keepMs) drop++;
    if (drop > 0) h.splice(0, drop);
    if (keepMs <= 0) h.splice(0, h.length - 1);
  }
}
