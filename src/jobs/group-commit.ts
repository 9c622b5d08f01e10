/**
 * Collects writes made in the same turn of the event loop and commits them in one transaction:
 * durability stays full (invariant 3) while the fsync cost is shared by every caller.
 * Each caller's promise settles with its own slice of the result, after the commit.
 */
export class GroupCommit<In, Out> {
  readonly #flush: (items: In[]) => Promise<Out[]>;
  readonly #maxItems: number;
  #pending: { items: In[]; resolve: (out: Out[]) => void; reject: (err: unknown) => void }[] = [];
  #count = 0;
  #scheduled = false;

  readonly #schedule: (fn: () => void) => void;

  /**
   * `gather`: how long a group stays open. 'turn' (the default) collects callers from every I/O
   * callback of one event-loop turn (separate requests); 'microtask' only those resumed by the same
   * event — enough when the callers are the continuations of one earlier group, and a turn sooner.
   */
  constructor(
    flush: (items: In[]) => Promise<Out[]>,
    options: { maxItems?: number; gather?: 'turn' | 'microtask' } = {},
  ) {
    this.#flush = flush;
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
      for (const g of group) g.reject(err);
    }
  }
}
