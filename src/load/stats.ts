/**
 * Latency percentiles for the report. Exact, by nearest rank over a sorted copy: no histogram
 * library is a dependency (hdr-histogram-js is not installed; tdigest only comes in under
 * prom-client and approximates), and a run is bounded (-t/-n), so keeping one number per job —
 * 8 bytes, 8 MB for a million jobs — and sorting once at the end is cheap and exact.
 */

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** The smallest value with at least p % of the values at or below it (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** p50/p90/p99/max of `values` (in any order), or null when there are none. */
export function summarize(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1]!,
  };
}

/**
 * Submissions per second over the last `windowMs`, from (time, submitted-so-far) samples, oldest
 * first: the live view's "current rate".
 */
export function currentRate(samples: readonly [at: number, n: number][], windowMs = 1000): number {
  const last = samples.at(-1);
  if (!last) return 0;
  const first = samples.find(([at]) => at >= last[0] - windowMs) ?? last;
  const span = last[0] - first[0];
  return span > 0 ? ((last[1] - first[1]) * 1000) / span : 0;
}
