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

  constructor(flush: (items: In[]) => Promise<Out[]>, maxItems = 10_000) {
    this.#flush = flush;
    this.#maxItems = maxItems;
  }

  add(items: In[]): Promise<Out[]> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ items, resolve, reject });
      this.#count += items.length;
      if (this.#count >= this.#maxItems) void this.#run();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.#run());
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
