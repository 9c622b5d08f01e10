import type { ScalingConfig } from '../config/schema.ts';
import { Random } from './random.ts';
import type { Trace, TraceJob, TraceType } from './trace.ts';

/**
 * The standard traces, each a pure function of its seed. They are generated at run
 * time rather than checked in: the spike alone is 10,000 jobs, and the seed reproduces them byte
 * for byte (`npm run simulate -- --write-traces DIR` writes them out).
 *
 * Every type uses gaffer's default scaling (the schema's defaults: threshold 40, burst 5, idle
 * 30 s, min 0) with only `max` set, because the issue compares gaffer's *default* policy with
 * KEDA's defaults under the same max workers.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** No job runs longer than gaffer's timeouts would let it; keeps the long tail finite. */
const MAX_RUN_MS = 30 * MINUTE;

export function defaultScaling(overrides: Partial<ScalingConfig> = {}): ScalingConfig {
  return { min: 0, max: 5, threshold: 40, burst: 5, idleSeconds: 30, ...overrides };
}

function poolType(max: number, concurrency = 1): TraceType {
  return { concurrency, scaling: defaultScaling({ max }) };
}

function runMs(rng: Random, median: number, sigma: number): number {
  return Math.min(MAX_RUN_MS, Math.max(1, Math.round(rng.logNormal(median, sigma))));
}

/** Poisson arrivals at `ratePerSecond` over [from, to). */
function poisson(
  rng: Random,
  type: string,
  ratePerSecond: number,
  from: number,
  to: number,
  run: () => number,
): TraceJob[] {
  const jobs: TraceJob[] = [];
  for (let t = from + rng.exponential(SECOND / ratePerSecond); t < to;) {
    jobs.push({ type, at: Math.round(t), run: run() });
    t += rng.exponential(SECOND / ratePerSecond);
  }
  return jobs;
}

/** `count` jobs spread uniformly over [at, at + spreadMs). */
function burst(
  rng: Random,
  type: string,
  count: number,
  at: number,
  spreadMs: number,
  run: () => number,
): TraceJob[] {
  return Array.from({ length: count }, () => ({
    type,
    at: at + Math.floor(rng.next() * spreadMs),
    run: run(),
  }));
}

function sorted(jobs: TraceJob[]): TraceJob[] {
  return jobs.sort((a, b) => a.at - b.at || a.type.localeCompare(b.type));
}

/** 10,000 jobs at t = 0: how fast does a policy get to max, and how fast back down? */
export function spike(seed: number): Trace {
  const rng = new Random(seed);
  const jobs = Array.from({ length: 10_000 }, () => ({
    type: 'spike',
    at: 0,
    run: runMs(rng, 2 * SECOND, 0.3),
  }));
  return {
    version: 1,
    name: 'spike-10k',
    description: '10,000 jobs at t = 0, run ~2 s, 4 per worker, max 50 workers',
    capacity: null,
    types: { spike: poolType(50, 4) },
    jobs,
  };
}

/** Steady Poisson arrivals: the pool should settle at the load and stay there. */
export function steady(seed: number): Trace {
  const rng = new Random(seed);
  return {
    version: 1,
    name: 'poisson-steady',
    description: 'Poisson 2 jobs/s for 1 h, run log-normal median 8 s (σ 0.5), max 40',
    capacity: null,
    types: { steady: poolType(40) },
    jobs: poisson(rng, 'steady', 2, 0, HOUR, () => runMs(rng, 8 * SECOND, 0.5)),
  };
}

/** 500 jobs within 10 s every 10 minutes: scale out fast, and back in between bursts. */
export function periodicBursts(seed: number): Trace {
  const rng = new Random(seed);
  const jobs: TraceJob[] = [];
  for (let at = 0; at < HOUR; at += 10 * MINUTE) {
    jobs.push(...burst(rng, 'bursty', 500, at, 10 * SECOND, () => runMs(rng, 5 * SECOND, 0.3)));
  }
  return {
    version: 1,
    name: 'periodic-bursts',
    description: '500 jobs within 10 s every 10 min for 1 h, run ~5 s, 2 per worker, max 30',
    capacity: null,
    types: { bursty: poolType(30, 2) },
    jobs: sorted(jobs),
  };
}

/**
 * A day compressed into 2 h: the rate follows 2 − 1.8·cos(2πt/T) jobs/s (0.2 at night, 3.8 at
 * noon); non-homogeneous Poisson by thinning a 3.8/s process.
 */
export function diurnal(seed: number): Trace {
  const rng = new Random(seed);
  const period = 2 * HOUR;
  const peak = 3.8;
  const rate = (t: number) => 2 - 1.8 * Math.cos((2 * Math.PI * t) / period);
  const jobs: TraceJob[] = [];
  for (let t = rng.exponential(SECOND / peak); t < period; t += rng.exponential(SECOND / peak)) {
    const keep = rng.next() < rate(t) / peak;
    const run = runMs(rng, 6 * SECOND, 0.4);
    if (keep) jobs.push({ type: 'diurnal', at: Math.round(t), run });
  }
  return {
    version: 1,
    name: 'diurnal',
    description: 'a 2 h "day": 0.2 → 3.8 → 0.2 jobs/s, run ~6 s, max 40',
    capacity: null,
    types: { diurnal: poolType(40) },
    jobs,
  };
}

/** Poisson arrivals with log-normal run times (median 20 s, σ 1.5: p99 ~11 min). */
export function longTail(seed: number): Trace {
  const rng = new Random(seed);
  return {
    version: 1,
    name: 'long-tail',
    description: 'Poisson 0.5 jobs/s for 1 h, run log-normal median 20 s (σ 1.5, ≤ 30 min), max 50',
    capacity: null,
    types: { longtail: poolType(50) },
    jobs: poisson(rng, 'longtail', 0.5, 0, HOUR, () => runMs(rng, 20 * SECOND, 1.5)),
  };
}

/**
 * Two types, one global capacity of 40 workers (each type's max is 30): a steady interactive
 * stream and a batch burst of 1,000 every 20 min competing for the same room.
 */
export function competing(seed: number): Trace {
  const rng = new Random(seed);
  const jobs = poisson(rng, 'interactive', 1, 0, HOUR, () => runMs(rng, 10 * SECOND, 0.5));
  for (let at = 5 * MINUTE; at < HOUR; at += 20 * MINUTE) {
    jobs.push(...burst(rng, 'batch', 1000, at, 30 * SECOND, () => runMs(rng, 15 * SECOND, 0.5)));
  }
  return {
    version: 1,
    name: 'competing',
    description:
      'interactive (Poisson 1/s, ~10 s) and batch (1,000 every 20 min, ~15 s), max 30 each, capacity 40',
    capacity: 40,
    types: { interactive: poolType(30), batch: poolType(30) },
    jobs: sorted(jobs),
  };
}

/** The pool sizes the scaled traces come in: a small, a medium and a large type. */
export const SCALED_MAX = [10, 50, 200] as const;

/**
 * Steady Poisson arrivals of short jobs for 10 min, sized to the pool: 0.3 × max jobs/s of
 * ~1 s (log-normal σ 0.5, mean ~1.1 s), a load of about a third of max workers. Whether a
 * policy settles at the load, or keeps a pool sized to something else.
 */
export function poissonShort(max: number): (seed: number) => Trace {
  return (seed) => {
    const rng = new Random(seed);
    const rate = 0.3 * max;
    return {
      version: 1,
      name: `poisson-short-m${max}`,
      description: `Poisson ${rate} jobs/s for 10 min, run log-normal median 1 s (σ 0.5), max ${max}`,
      capacity: null,
      types: { short: poolType(max) },
      jobs: poisson(rng, 'short', rate, 0, 10 * MINUTE, () => runMs(rng, SECOND, 0.5)),
    };
  };
}

/**
 * A daily curve compressed into 2 h, sized to the pool: the rate follows
 * peak · (0.55 − 0.45·cos(2πt/T)) (a tenth of the peak at night), the peak needing about 0.8 ×
 * max workers of ~10 s jobs (log-normal σ 0.5, mean ~11.3 s). Non-homogeneous Poisson by thinning.
 */
export function dailyCurve(max: number): (seed: number) => Trace {
  return (seed) => {
    const rng = new Random(seed);
    const period = 2 * HOUR;
    const peak = (0.8 * max) / 11.3;
    const rate = (t: number) => peak * (0.55 - 0.45 * Math.cos((2 * Math.PI * t) / period));
    const jobs: TraceJob[] = [];
    for (let t = rng.exponential(SECOND / peak); t < period; t += rng.exponential(SECOND / peak)) {
      const keep = rng.next() < rate(t) / peak;
      const run = runMs(rng, 10 * SECOND, 0.5);
      if (keep) jobs.push({ type: 'daily', at: Math.round(t), run });
    }
    return {
      version: 1,
      name: `daily-m${max}`,
      description: `a 2 h "day": ${(0.1 * peak).toFixed(2)} → ${peak.toFixed(2)} jobs/s, run ~10 s (σ 0.5), max ${max}`,
      capacity: null,
      types: { daily: poolType(max) },
      jobs,
    };
  };
}

/** 500 jobs within 10 s every 10 min for 1 h, run ~5 s (σ 0.3), one per worker. */
export function bursts500(max: number): (seed: number) => Trace {
  return (seed) => {
    const rng = new Random(seed);
    const jobs: TraceJob[] = [];
    for (let at = 0; at < HOUR; at += 10 * MINUTE) {
      jobs.push(...burst(rng, 'burst', 500, at, 10 * SECOND, () => runMs(rng, 5 * SECOND, 0.3)));
    }
    return {
      version: 1,
      name: `bursts500-m${max}`,
      description: `500 jobs within 10 s every 10 min for 1 h, run ~5 s, max ${max}`,
      capacity: null,
      types: { burst: poolType(max) },
      jobs: sorted(jobs),
    };
  };
}

/** The default set, in report order: the classic six, then the scaled ones at each pool size. */
export function defaultTraces(seed: number): Trace[] {
  const scaled = [poissonShort, dailyCurve, bursts500].flatMap((g) => SCALED_MAX.map((m) => g(m)));
  return [spike, steady, periodicBursts, diurnal, longTail, competing, ...scaled].map((g, i) =>
    g(seed + i),
  );
}
