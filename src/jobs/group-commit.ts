/**
 * Collects writes made in the same turn of the event loop and commits them in one transaction:
 * durability stays full (invariant 3) while the fsync cost is shared by every caller.
 * Each caller's promise settles with its own slice of the result, after the commit. With
 * `isolate`, a group that fails is tried again caller by caller, so one caller's bad write fails
 * only that caller.
 */
interface Pending<In, Out> {
  items: In[];
  resolve: (out: Out[]) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<In, Out> {
  readonly #flush: (items: In[]) => Promise<Out[]>;
  readonly #maxItems: number;
  #pending: Pending<In, Out>[] = [];
  #count = 0;
  #scheduled = false;

  readonly #schedule: (fn: () => void) => void;
  readonly #isolate: boolean;

  /**
   * `gather`: how long a group stays open. 'turn' (the default) collects callers from every I/O
   * callback of one event-loop turn (separate requests); 'microtask' only those resumed by the same
   * event — enough when the callers are the continuations of one earlier group, and a turn sooner.
   * `isolate`: a failed group is flushed again one caller at a time (for writes one bad item can
   * fail, such as inserts of submitted jobs; not for a broker publish, where a failure is the
   * broker's and trying each caller again would only multiply the wait).
   */
  constructor(
    flush: (items: In[]) => Promise<Out[]>,
    options: { maxItems?: number; gather?: 'turn' | 'microtask'; isolate?: boolean } = {},
  ) {
    this.#flush = flush;
    this.#isolate = options.isolate ?? false;
    this.#maxItems = options.maxItems ?? 10_000;
    this.#schedule = options.gather === 'microtask' ? queueMicrotask : setImmediate;
  }

  add(items: In[]): Promise<Out[]> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ items, resolve, reject });
      this.#count += items.length;
      if (this.#count >= this.#maxItems) void this.#run();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        this.#schedule(() => void this.#run());
      }
    });
  }

  async #run(): Promise<void> {
    this.#scheduled = false;
    const group = this.#pending;
    this.#pending = [];
    this.#count = 0;
    if (group.length === 0) return;
    try {
      const out = await this.#flush(group.flatMap((g) => g.items));
      let offset = 0;
      for (const g of group) {
        g.resolve(out.slice(offset, offset + g.items.length));
        offset += g.items.length;
      }
    } catch (err) {
      if (this.#isolate && group.length > 1) await this.#alone(group);
      else for (const g of group) g.reject(err);
    }
  }

  /**
   * A group's flush failed: each caller's items are flushed again on their own, one caller after
   * another, so a caller whose items the flush refuses fails alone and never fails its neighbours.
   * When the store itself is down, each fails with its own error (one more try each).
   */
  async #alone(group: Pending<In, Out>[]): Promise<void> {
    for (const g of group) {
      try {
        g.resolve(await this.#flush(g.items));
      } catch (err) {
        g.reject(err);
      }
    }
  }
}
