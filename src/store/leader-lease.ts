/**
 * A named, time-limited lease held by one holder at a time: "exactly one gaffer runs the
 * autoscaler". Times are store-clock ms passed in by the caller, like the JobStore's.
 */
export interface LeaderLease {
  /**
   * Takes or renews the lease until `now + ttlMs`. Succeeds when the lease is free, expired at
   * `now` (its expiry is before `now`), or already held by `holder` (a renewal); atomic, so of
   * several concurrent callers at most one succeeds for a free lease.
   */
  acquire(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Gives the lease up if `holder` holds it; otherwise does nothing. */
  release(name: string, holder: string): Promise<void>;
}

export function hasLeaderLease(store: object): store is LeaderLease {
  const s = store as Partial<LeaderLease>;
  return typeof s.acquire === 'function' && typeof s.release === 'function';
}
