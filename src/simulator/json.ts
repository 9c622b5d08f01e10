import { percentile } from './metrics.ts';
import type { SimResult } from './loop.ts';
import type { Run } from './suite.ts';

/**
 * `npm run simulate -- --json`: one object per run (trace × policy × start-up delay × seed), one
 * a line, for scripts. Waits in ms from arrival to the start of the run that completed
 * (nearest-rank percentiles over every job; null when some jobs never ran: `unfinished` > 0 made
 * the percentile infinite). `lowerBoundP95Ms` is the trace's lower bound at that delay.
 */
export interface ResultLine {
  trace: string;
  policy: string;
  seed: number;
  startupMs: number;
  jobs: number;
  waitP50Ms: number | null;
  waitP95Ms: number | null;
  waitP99Ms: number | null;
  lowerBoundP95Ms: number | null;
  excessP95Ms: number | null;
  workerSeconds: number;
  peakWorkers: number;
  scalingActions: number;
  busyKilled: number;
  jobsRerun: number;
  unfinished: number;
}

export function resultLines(run: Run): ResultLine[] {
  const bound = p95(run.bound);
  return run.results.map((r) => {
    const sorted = Float64Array.from(r.waits).sort();
    const own = percentile(sorted, 95);
    return {
      trace: run.trace.name,
      policy: r.policy,
      seed: run.seed,
      startupMs: run.startupMs,
      jobs: r.waits.length,
      waitP50Ms: finite(percentile(sorted, 50)),
      waitP95Ms: finite(own),
      waitP99Ms: finite(percentile(sorted, 99)),
      lowerBoundP95Ms: finite(bound),
      excessP95Ms: finite(own - bound),
      workerSeconds: r.workerSeconds,
      peakWorkers: r.peakWorkers,
      scalingActions: r.scalingActions,
      busyKilled: r.busyKilled,
      jobsRerun: r.jobsRerun,
      unfinished: r.unfinished,
    };
  });
}

function p95(r: SimResult): number {
  return percentile(Float64Array.from(r.waits).sort(), 95);
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
