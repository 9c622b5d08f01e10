/**
 * A fixed-size ring of the newest `capacity` items, oldest first on read. Hand-written: it is a
 * dozen lines, and no maintained package does this without bringing far more than it needs.
 */
export class Ring<T> {
  readonly capacity: number;
  readonly #items: T[] = [];
  #start = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  get size(): number {
    return this.#items.length;
  }

  /** Appends `item`; when full, the oldest item is dropped. */
  push(item: T): void {
    if (this.#items.length < this.capacity) {
      this.#items.push(item);
      return;
    }
    this.#items[this.#start] = item;
    this.#start = (this.#start + 1) % this.capacity;
  }

  /** Every item, oldest first. */
  toArray(): T[] {
    return [...this.#items.slice(this.#start), ...this.#items.slice(0, this.#start)];
  }
}
