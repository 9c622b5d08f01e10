/**
 * The client-side limit on Kubernetes API calls (QPS and burst, as client-go's
 * `--kube-api-qps`/`--kube-api-burst`): a token bucket, as a pure function of the time so that
 * tests drive it with gaffer's injected clock. Written here rather than taken from a library
 * because the limiters on npm read the wall clock themselves.
 */
export interface Bucket {
  /** Tokens available at `at` (fractional while refilling). */
  tokens: number;
  at: number;
}

export interface Limit {
  qps: number;
  burst: number;
}

export function fullBucket(limit: Limit, now: number): Bucket {
  return { tokens: limit.burst, at: now };
}

/**
 * Takes one token at `now`. Returns the bucket after, and how long the caller must wait before
 * making its call (0: at once). Tokens are reserved in order, so waits queue up fairly.
 */
export function take(
  bucket: Bucket,
  limit: Limit,
  now: number,
): { bucket: Bucket; waitMs: number } {
  const refilled = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) * limit.qps) / 1000);
  const tokens = refilled - 1;
  const waitMs = tokens >= 0 ? 0 : Math.ceil((-tokens * 1000) / limit.qps);
  return { bucket: { tokens, at: now }, waitMs };
}
