import type { WorkerInfo } from '../domain/events.ts';
import type { ScalingConfig } from '../config/schema.ts';
import type { Burst, DueSoon } from './anticipate.ts';

/** What the autoscaler sees of one job type at one instant. */
export interface Observation {
  type: string;
  mode: 'pool' | 'per-job';
  now: number;
  /** Jobs claimable now. */
  ready: number;
  /** Jobs held by workers (starting + running). */
  inFlight: number;
  /** Workers not yet stopped, in any state (starting, idle, busy, draining). */
  workers: readonly WorkerInfo[];
  /** Jobs one pool worker runs at once. */
  concurrency: number;
  /** Jobs of this type that arrived per second, over the loop's rate window (absent: unknown). */
  arrivalRate?: number;
  /** Median run time of this type's recent runs, ms (absent or null: none observed yet). */
  runP50Ms?: number | null;
  /** Mean run time of the same runs, ms (absent or null: none observed yet). */
  runMeanMs?: number | null;
  /**
   * Median age of this type's jobs running now, ms (absent or null: none running). Each proves
   * its run lasts at least its age: before any run has ended, a lower bound on the run time.
   */
  inFlightAgeP50Ms?: number | null;
  /** When this type's last job ended (absent or null: unknown, no scale-to-zero hold). */
  lastFinishedAt?: number | null;
  /** Recent desired counts, oldest first: what the stabilization windows look back on. */
  history?: readonly DesiredSample[];
  /** Workers of this type the executor has room for (CPUs, allocatable pods); null: no limit. */
  resourceLimit?: number | null;
  /** Its type's pause and rate limit (src/domain/flow.ts); absent: neither. */
  flow?: FlowObservation | null;
  /** Measured start-up delay of this type's workers, ms (p90 of recent starts; absent: unknown). */
  startupMs?: number | null;
  /** The loop's tick interval, ms: how late a decision can come (absent: 1 s). */
  tickMs?: number;
  /** Delayed jobs falling due within the lead (`leadMs` in anticipate.ts); absent: none known. */
  dueSoon?: DueSoon | null;
  /** Recent bursts of arrivals, oldest first (`BurstLog`); absent: none. */
  bursts?: readonly Burst[];
}

/** What flow control lets a type start: nothing while paused, at most a rate of starts. */
export interface FlowObservation {
  paused: boolean;
  /** `rateLimit.starts / rateLimit.perSeconds`; null: no rate limit. */
  startsPerSecond: number | null;
}

/** One past decision's desired count, kept by the caller (the control loop, the simulator). */
export interface DesiredSample {
  at: number;
  desired: number;
  /** Workers the measured demand needed then (absent: not measured). */
  needed?: number;
}

/**
 * A decision: start `start` workers (per-job mode: launch that many jobs) and retire the listed
 * workers. `from`/`to` count workers that are not draining. `retire` holds only idle workers —
 * the policy never names a busy one (invariant 5).
 */
export interface Decision {
  type: string;
  from: number;
  to: number;
  start: number;
  retire: string[];
  reason: string;
  inputs: Record<string, number>;
}

export type DecideFn = (obs: Observation, scaling: ScalingConfig) => Decision;
