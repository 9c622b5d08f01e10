/**
 * How big a chaos run is. `standard` is research/reliability.md's profile P scaled to what one
 * 2-core machine finishes per fault in minutes; `short` is the CI profile: the same faults, fewer
 * jobs and fault events, so a loss still fails the build.
 */
export interface Profile {
  name: string;
  /** Normal jobs submitted (plus `poison` ones under the poison fault). */
  jobs: number;
  /** Each job sleeps U(msMin, msMax). */
  msMin: number;
  msMax: number;
  /** Concurrent submitting clients. */
  lanes: number;
  /** Submissions are spread evenly over this long, so faults meet them too. */
  submitMs: number;
  /** Pool size and slots per worker (at most max × concurrency jobs in flight). */
  max: number;
  concurrency: number;
  /** Lease TTL (renewed every third of it) — shrunk so a lost lease is noticed in seconds. */
  ttlMs: number;
  maxAttempts: number;
  /** Fault events per run, spaced `faultEveryMs` apart from the first submissions. */
  faults: number;
  faultEveryMs: number;
  /** How long a broker or gaffer stays down, the disk full. */
  downMs: number;
  /** How long the broker stays unreachable (a partition; the issue asks for 30 s). */
  partitionMs: number;
  poison: number;
  /** The drain's safety net after the last fault (the drain itself awaits events). */
  drainMs: number;
  /**
   * The `schedules` scenario (gaffer-kill): `jobs` submissions instead of the profile's, the type
   * limited to `starts` per `perSeconds`, and a schedule submitting a job every second that
   * catches up at most `catchUp` missed ticks.
   */
  schedules: { jobs: number; starts: number; perSeconds: number; catchUp: number };
}

export const PROFILES: Record<string, Profile> = {
  short: {
    name: 'short',
    jobs: 400,
    msMin: 20,
    msMax: 100,
    lanes: 8,
    submitMs: 4000,
    max: 4,
    concurrency: 2,
    ttlMs: 2000,
    maxAttempts: 5,
    faults: 3,
    faultEveryMs: 1000,
    downMs: 2000,
    partitionMs: 5000,
    poison: 3,
    drainMs: 120_000,
    schedules: { jobs: 40, starts: 5, perSeconds: 1, catchUp: 2 },
  },
  standard: {
    name: 'standard',
    jobs: 10_000,
    msMin: 20,
    msMax: 200,
    lanes: 16,
    submitMs: 100_000,
    max: 4,
    concurrency: 2,
    ttlMs: 3000,
    maxAttempts: 5,
    faults: 15,
    faultEveryMs: 5000,
    downMs: 5000,
    partitionMs: 30_000,
    poison: 5,
    drainMs: 300_000,
    schedules: { jobs: 1000, starts: 20, perSeconds: 1, catchUp: 3 },
  },
};
