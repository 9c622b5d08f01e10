import amqp from 'amqplib';
import type { ChannelModel } from 'amqplib';

export interface Backoff {
  minMs: number;
  maxMs: number;
}

type Listener = (conn: ChannelModel) => void | Promise<void>;

/**
 * One AMQP connection that comes back by itself. When the connection closes without `close()`
 * having been called, it reconnects with exponential backoff (min, doubling, capped at max, with
 * jitter) and then calls the `onUp` listeners — the consumers resubscribe there — in order.
 * While it is down, `current()` is null, so publishing fails fast instead of queueing up.
 */
export class ReconnectingConnection {
  #conn: ChannelModel | null = null;
  #closed = false;
  #timer: NodeJS.Timeout | null = null;
  #attempt = 0;
  readonly #upListeners = new Set<Listener>();
  readonly #downListeners = new Set<() => void>();
  readonly #url: string;
  readonly #backoff: Backoff;

  constructor(url: string, backoff: Backoff) {
    this.#url = url;
    this.#backoff = backoff;
  }

  /** Connects for the first time; rejects when the broker cannot be reached now. */
  async start(): Promise<void> {
    this.#adopt(await amqp.connect(this.#url));
  }

  current(): ChannelModel | null {
    return this.#conn;
  }

  get closed(): boolean {
    return this.#closed;
  }

  onUp(l: Listener): () => void {
    this.#upListeners.add(l);
    return () => this.#upListeners.delete(l);
  }

  onDown(l: () => void): () => void {
    this.#downListeners.add(l);
    return () => this.#downListeners.delete(l);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const conn = this.#conn;
    this.#conn = null;
    if (conn) await conn.close().catch(() => {});
  }

  #adopt(conn: ChannelModel): void {
    this.#conn = conn;
    this.#attempt = 0;
    // 'error' always precedes 'close' on a failure; the close handler does the work.
    conn.on('error', () => {});
    conn.on('close', () => {
      if (this.#conn !== conn) return;
      this.#conn = null;
      for (const l of this.#downListeners) l();
      if (!this.#closed) this.#schedule();
    });
  }

  #schedule(): void {
    const base = Math.min(this.#backoff.maxMs, this.#backoff.minMs * 2 ** this.#attempt);
    const delay = Math.min(this.#backoff.maxMs, base * (0.8 + Math.random() * 0.4));
    this.#attempt++;
    this.#timer = setTimeout(() => void this.#reconnect(), delay);
  }

  async #reconnect(): Promise<void> {
    this.#timer = null;
    if (this.#closed) return;
    let conn: ChannelModel;
    try {
      conn = await amqp.connect(this.#url);
    } catch {
      if (!this.#closed) this.#schedule();
      return;
    }
    if (this.#closed) {
      await conn.close().catch(() => {});
      return;
    }
    this.#adopt(conn);
    for (const l of this.#upListeners) {
      try {
        await l(conn);
      } catch {
        // A listener failing (e.g. the connection dropped again mid-resubscription) is retried
        // on the next reconnection; the close handler has already scheduled it.
      }
    }
  }
}
