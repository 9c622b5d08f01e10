/**
 * The simulator's future: a binary min-heap of events ordered by time, then by insertion, so two
 * events at the same instant always run in the order they were scheduled (determinism does not
 * depend on the heap's shape).
 */
export type SimEvent =
  | { kind: 'ready'; worker: number }
  | { kind: 'done'; worker: number; job: number; epoch: number }
  | { kind: 'grace'; worker: number };

interface Entry {
  at: number;
  seq: number;
  event: SimEvent;
}

export class EventQueue {
  readonly #heap: Entry[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(at: number, event: SimEvent): void {
    const heap = this.#heap;
    heap.push({ at, seq: this.#seq++, event });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** When the next event is due; Infinity when there is none. */
  peekAt(): number {
    return this.#heap[0]?.at ?? Infinity;
  }

  pop(): { at: number; event: SimEvent } | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (!top) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return { at: top.at, event: top.event };
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** A FIFO of job indices that also takes jobs back at its head (a killed worker's jobs). */
export class JobQueue {
  readonly #front: number[] = [];
  readonly #back: number[] = [];
  #head = 0;

  get size(): number {
    return this.#front.length + this.#back.length - this.#head;
  }

  push(job: number): void {
    this.#back.push(job);
  }

  /** Back at the head: a redelivered message is the next one handed out. */
  unshift(job: number): void {
    this.#front.push(job);
  }

  shift(): number | undefined {
    if (this.#front.length > 0) return this.#front.pop();
    if (this.#head >= this.#back.length) return undefined;
    const job = this.#back[this.#head++];
    // Drop the consumed prefix now and then so a long trace does not keep every index alive.
    if (this.#head > 4096 && this.#head * 2 > this.#back.length) {
      this.#back.splice(0, this.#head);
      this.#head = 0;
    }
    return job;
  }
}
