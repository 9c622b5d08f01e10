/** The one clock for leases and timeouts (invariant 6): gaffer's, never a worker's. */
export interface Clock {
  now(): number;
}

/** A pending callback of a Scheduler. `cancel` is idempotent; after it the callback never runs. */
export interface Timer {
  cancel(): void;
}

export interface TimerOptions {
  /**
   * A real timer keeps the process alive while pending (Node's `ref`). Default false: gaffer's
   * timers (sweeps, ticks, samples) never hold a process that has nothing else to do.
   */
  ref?: boolean;
}

/** Timers on a clock's time: what a component that acts later, or periodically, is given. */
export interface Scheduler {
  /** Runs `fn` once, `ms` from now. */
  after(ms: number, fn: () => void, options?: TimerOptions): Timer;
  /** Runs `fn` every `ms` (at least 1), the first time `ms` from now, until cancelled. */
  every(ms: number, fn: () => void, options?: TimerOptions): Timer;
}

/** A clock with timers. A component that only reads the time takes a `Clock`. */
export type TimedClock = Clock & Scheduler;

/** Node's timers, unref'd unless asked. */
export const systemTimers: Scheduler = {
  after: (ms, fn, options) => real(setTimeout(fn, ms), clearTimeout, options),
  every: (ms, fn, options) => real(setInterval(fn, Math.max(1, ms)), clearInterval, options),
};

function real(
  handle: NodeJS.Timeout,
  clear: (handle: NodeJS.Timeout) => void,
  options: TimerOptions | undefined,
): Timer {
  if (options?.ref !== true) handle.unref();
  return { cancel: () => clear(handle) };
}

export const systemClock: TimedClock = { now: () => Date.now(), ...systemTimers };

/** `clock` with timers: its own if it has them, else Node's (a host's `{ now }` clock). */
export function withTimers(clock: Clock): TimedClock {
  const timed = clock as Partial<TimedClock>;
  if (typeof timed.after === 'function' && typeof timed.every === 'function') {
    return clock as TimedClock;
  }
  return { now: () => clock.now(), ...systemTimers };
}

interface ManualTimer {
  dueAt: number;
  /** Interval timers: the period; null for a one-shot. */
  every: number | null;
  fn: () => void;
  /** Scheduling order: timers due at the same time fire in the order they were scheduled. */
  seq: number;
}

/**
 * A clock tests move by hand: time stands still until `advance`, which fires every timer falling
 * due on the way, in due order (ties in scheduling order), each with `now()` reading its due time.
 * A timer a firing callback schedules fires in the same advance if it falls due within it.
 * Hand-written rather than Node's `mock.timers`: that patches the process's global timers, which
 * the rest of a test (its store, its in-memory links, `until()`) still needs to be real.
 */
export class ManualClock implements TimedClock {
  #now: number;
  #seq = 0;
  readonly #timers = new Set<ManualTimer>();

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): Timer {
    return this.#add({ dueAt: this.#now + Math.max(0, ms), every: null, fn, seq: this.#seq++ });
  }

  every(ms: number, fn: () => void): Timer {
    const period = Math.max(1, ms);
    return this.#add({ dueAt: this.#now + period, every: period, fn, seq: this.#seq++ });
  }

  /** Moves time forward by `ms`, firing the timers due on the way; a callback's throw stops it. */
  advance(ms: number): void {
    const until = this.#now + Math.max(0, ms);
    for (let t = this.#next(until); t; t = this.#next(until)) {
      this.#now = t.dueAt;
      if (t.every === null) this.#timers.delete(t);
      else {
        t.dueAt += t.every;
        t.seq = this.#seq++;
      }
      t.fn();
    }
    this.#now = until;
  }

  /** The timers still pending, soonest first: when each falls due, and its period if it repeats. */
  pending(): { dueAt: number; every: number | null }[] {
    return [...this.#timers].sort(order).map(({ dueAt, every }) => ({ dueAt, every }));
  }

  #add(timer: ManualTimer): Timer {
    this.#timers.add(timer);
    return { cancel: () => void this.#timers.delete(timer) };
  }

  #next(until: number): ManualTimer | null {
    let next: ManualTimer | null = null;
    for (const t of this.#timers) {
      if (t.dueAt <= until && (!next || order(t, next) < 0)) next = t;
    }
    return next;
  }
}

const order = (a: ManualTimer, b: ManualTimer) => a.dueAt - b.dueAt || a.seq - b.seq;

/**
 * Real time plus an offset tests can move forward: time keeps flowing, windows can be skipped.
 * Its timers are Node's, on real time: `advance` moves what `now()` reads, it fires nothing.
 */
export class OffsetClock implements TimedClock {
  #offset = 0;
  readonly after = systemTimers.after;
  readonly every = systemTimers.every;
  now(): number {
    return Date.now() + this.#offset;
  }
  advance(ms: number): void {
    this.#offset += ms;
  }
}
