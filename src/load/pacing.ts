/**
 * When `gaffer load` sends its next request: a pure decision from the plan and where the run is,
 * so the schedule is table-tested without a clock.
 *
 * Rate mode is open-loop: job k is due at k / rate seconds after the start, whatever gaffer's
 * answers do, so a slow gaffer sees the load it was promised (up to `maxInFlight` requests at
 * once; past that, requests start late and the report's achieved rate shows it). Concurrency
 * mode is closed-loop: a request starts whenever fewer than `maxInFlight` are in flight.
 * Rates and counts are in jobs; a request carries `batch` jobs (`--batch`), or fewer at the end
 * of a counted run.
 */

export interface PacePlan {
  /** Jobs per second; null: as fast as the in-flight limit allows. */
  rate: number | null;
  /** Requests in flight at most. */
  maxInFlight: number;
  /** Jobs per request. */
  batch: number;
  /** Stop after this many jobs; null: no count limit. */
  count: number | null;
  /** Stop starting requests after this long; null: no time limit. */
  durationMs: number | null;
}

/** Where the run is. */
export interface PaceState {
  elapsedMs: number;
  /** Jobs in requests started so far. */
  started: number;
  inFlight: number;
}

export type PaceStep =
  | { kind: 'send'; jobs: number }
  /** Nothing is due yet: look again after `ms`. */
  | { kind: 'sleep'; ms: number }
  /** Due, but `maxInFlight` requests are out: wait for one to end. */
  | { kind: 'slot' }
  | { kind: 'done' };

/** Requests in flight when only a rate is given: enough for any sane answer time, not unbounded. */
export const DEFAULT_MAX_IN_FLIGHT = 256;

/** Ms after the start at which job `k` (from 0) is due at `rate` jobs per second. */
export function dueAt(k: number, rate: number): number {
  return (k * 1000) / rate;
}

export function nextStep(plan: PacePlan, s: PaceState): PaceStep {
  if (plan.count !== null && s.started >= plan.count) return { kind: 'done' };
  if (plan.durationMs !== null && s.elapsedMs >= plan.durationMs) return { kind: 'done' };
  const jobs = Math.min(plan.batch, plan.count === null ? plan.batch : plan.count - s.started);
  if (plan.rate !== null) {
    const due = dueAt(s.started, plan.rate);
    if (plan.durationMs !== null && due >= plan.durationMs) return { kind: 'done' };
    if (due > s.elapsedMs) return { kind: 'sleep', ms: due - s.elapsedMs };
  }
  if (s.inFlight >= plan.maxInFlight) return { kind: 'slot' };
  return { kind: 'send', jobs };
}
