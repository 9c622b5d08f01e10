import type { SimResult } from './loop.ts';

/**
 * Percentiles by nearest rank: the smallest value with at least p % of the values at or below
 * it. No interpolation, so every reported wait is one some job actually had.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** A run's counts as the simulation left them, plus its wait percentiles. */
type Counts = Pick<
  SimResult,
  | 'trace'
  | 'policy'
  | 'startupMs'
  | 'workerSeconds'
  | 'peakWorkers'
  | 'scalingActions'
  | 'busyKilled'
  | 'jobsRerun'
  | 'unfinished'
>;

export interface Metrics extends Counts {
  jobs: number;
  /** Job wait (arrival → start), seconds. */
  p50: number;
  p95: number;
  p99: number;
}

export function summarize(r: SimResult): Metrics {
  const waits = Float64Array.from(r.waits).sort();
  return {
    trace: r.trace,
    policy: r.policy,
    startupMs: r.startupMs,
    jobs: waits.length,
    p50: percentile(waits, 50) / 1000,
    p95: percentile(waits, 95) / 1000,
    p99: percentile(waits, 99) / 1000,
    workerSeconds: r.workerSeconds,
    peakWorkers: r.peakWorkers,
    scalingActions: r.scalingActions,
    busyKilled: r.busyKilled,
    jobsRerun: r.jobsRerun,
    unfinished: r.unfinished,
  };
}

/**
 * p95 wait above the trace's lower bound, seconds. Not clamped at 0: the bound is the issue's
 * reference (all max workers from t = 0), not a proven floor — a fixed split of a shared capacity
 * can lose to a policy that moves the capacity where the work is — and hiding that would hide it.
 */
export function excessP95(m: Metrics, bound: Metrics): number {
  return m.p95 - bound.p95;
}
