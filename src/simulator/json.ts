import { summarize } from './metrics.ts';
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
  const bound = summarize(run.bound).p95;
  return run.results.map((r) => {
    const m = summarize(r);
    return {
      trace: m.trace,
      policy: m.policy,
      seed: run.seed,
      startupMs: run.startupMs,
      jobs: m.jobs,
      waitP50Ms: ms(m.p50),
      waitP95Ms: ms(m.p95),
      waitP99Ms: ms(m.p99),
      lowerBoundP95Ms: ms(bound),
      excessP95Ms: ms(m.p95 - bound),
      workerSeconds: m.workerSeconds,
      peakWorkers: m.peakWorkers,
      scalingActions: m.scalingActions,
      busyKilled: m.busyKilled,
      jobsRerun: m.jobsRerun,
      unfinished: m.unfinished,
    };
  });
}

/** Seconds (as `summarize` gives them) back to ms, to the µs (the round trip adds float noise); null when infinite (jobs never ran). */
function ms(seconds: number): number | null {
  return Number.isFinite(seconds) ? Math.round(seconds * 1000 * 1e3) / 1e3 : null;
}
