/**
 * The time the Kubernetes executor reads and the timers it sets: its deadlines (a pool removal's
 * wait for pods to settle, gaffer's own timeout of a Job), its re-checks, heartbeats and watch
 * restarts. Injected, so a decision that waits can be driven by a test's clock; the executor's
 * default is `realScheduler` (wall time, unref'd timers that never hold the process open).
 *
 * Declared here, narrow, for this executor alone; gaffer's `Clock` (domain/clock.ts) may grow the
 * same timers, and this type is then one of its shapes.
 */
export interface Scheduler {
  now(): number;
  /** Calls `fn` once after `ms`, unless cancelled first. */
  setTimeout(fn: () => void, ms: number): Timer;
}

export interface Timer {
  /** Idempotent; does nothing once the timer has fired. */
  cancel(): void;
}

export const realScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** Calls `fn` every `ms` until cancelled (each run scheduled after the previous one's call). */
export function every(scheduler: Pick<Scheduler, 'setTimeout'>, ms: number, fn: () => void): Timer {
  let timer: Timer;
  let cancelled = false;
  const tick = () => {
    if (cancelled) return;
    fn();
    if (!cancelled) timer = scheduler.setTimeout(tick, ms);
  };
  timer = scheduler.setTimeout(tick, ms);
  return {
    cancel() {
      cancelled = true;
      timer.cancel();
    },
  };
}
