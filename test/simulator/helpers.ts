import { defaultScaling } from '../../src/simulator/generators.ts';
import type { ScalingConfig } from '../../src/config/schema.ts';
import type { Trace } from '../../src/simulator/trace.ts';

/** A one-type trace from [arrival s, run s] pairs, for hand-computed cases. */
export function tiny(
  jobs: [number, number][],
  scaling: Partial<ScalingConfig> = {},
  concurrency = 1,
): Trace {
  return {
    version: 1,
    name: 'tiny',
    capacity: null,
    types: { t: { concurrency, scaling: defaultScaling({ max: 10, ...scaling }) } },
    jobs: jobs.map(([at, run]) => ({ type: 't', at: at * 1000, run: run * 1000 })),
  };
}

/** Waits in seconds, sorted. */
export function waitsOf(waits: Float64Array): number[] {
  return [...waits].map((w) => w / 1000).sort((a, b) => a - b);
}

/** Most workers in the sample at `at` ms (the max over the second before it). */
export function workersAt(samples: { at: number; workers: number }[], at: number): number {
  const s = samples.find((x) => x.at === at);
  if (!s) throw new Error(`no sample at ${at}`);
  return s.workers;
}
