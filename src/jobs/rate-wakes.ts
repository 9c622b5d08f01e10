import type { Clock, Scheduler, Timer } from '../domain/clock.ts';
import type { Hold } from '../domain/flow.ts';

/**
 * A rate-limited type's waiting workers wait for no notify: they are served again when its window
 * frees a slot (the earliest `rate_limit` hold a claim met), on gaffer's clock — one timer per
 * type, the earliest. Without timers (a clock with no `after`), the reconciler's sweep (which
 * notifies every type) serves them.
 */
export class RateWakes {
  readonly #clock: Clock & Partial<Scheduler>;
  readonly #wake: (type: string) => void;
  /** Per type: the timer that wakes its waiting workers when its rate window frees a slot. */
  readonly #wakes = new Map<string, { at: number; timer: Timer }>();
  #closed = false;

  constructor(deps: { clock: Clock & Partial<Scheduler>; wake: (type: string) => void }) {
    this.#clock = deps.clock;
    this.#wake = deps.wake;
  }

  /** A claim of `type` met these holds: wake its workers when the earliest rate hold ends. */
  held(type: string, held: readonly { hold: Hold }[]): void {
    if (!this.#clock.after || this.#closed) return;
    const times = held.flatMap((h) => (h.hold.reason === 'rate_limit' ? [h.hold.until] : []));
    if (times.length === 0) return;
    const at = Math.min(...times);
    const pending = this.#wakes.get(type);
    if (pending && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.#clock.after(Math.max(0, at - this.#clock.now()), () => {
      this.#wakes.delete(type);
      this.#wake(type);
    });
    this.#wakes.set(type, { at, timer });
  }

  /** No more wakes: every pending timer is cancelled. */
  close(): void {
    this.#closed = true;
    for (const { timer } of this.#wakes.values()) timer.cancel();
    this.#wakes.clear();
  }
}
