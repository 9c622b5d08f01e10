import type { WorkerInfo } from '../domain/events.ts';
import type { ScalingConfig } from '../config/schema.ts';

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
