import type { Channel, ConsumeMessage } from 'amqplib';
import type { BrokerMessage, ConsumeOptions, Delivery, Subscription } from '../broker.ts';
import type { ReconnectingConnection } from './connection.ts';

/** One basic.consume on the subscription's channel, with the prefetch it was started with. */
interface Generation {
  tag: string | null;
  prefetch: number;
  /** Delivered to this generation and neither acked nor nacked yet. */
  outstanding: number;
  active: boolean;
}

/**
 * A subscription on a channel of its own. RabbitMQ applies a (per-consumer) basic.qos only to
 * consumers started after it, and quorum queues refuse channel-wide ("global") qos, so a prefetch
 * change cannot be applied in place. Instead the subscription runs "generations": `setPrefetch`
 * cancels the current consumer — its unacked deliveries stay on the channel and can still be
 * acked — and starts a new one whose prefetch is the target minus what the cancelled generations
 * still hold, so deliveries in flight never exceed the target. When the cancelled generations
 * have drained and the current one runs below the target, it is swapped again to top it up.
 *
 * Every generation consumes with the subscription's priority (`x-priority`): RabbitMQ delivers to
 * the highest-priority consumer of the queue with prefetch room, so a generation swap keeps its
 * place in that order.
 *
 * After a reconnection (or an unexpected channel close) the subscription opens a new channel and
 * consumes again with its current target prefetch and its priority; deliveries from the lost channel become
 * no-ops to ack or nack (the broker redelivers them).
 */
export class RabbitSubscription implements Subscription {
  #target: number;
  #ch: Channel | null = null;
  #epoch = 0;
  #active: Generation | null = null;
  readonly #draining = new Set<Generation>();
  #cancelled = false;
  #closed = false;
  #ops: Promise<void> = Promise.resolve();
  readonly #offUp: () => void;
  readonly #offDown: () => void;
  readonly #conn: ReconnectingConnection;
  readonly #queue: string;
  readonly #onDelivery: (d: Delivery) => void;
  readonly #retryMs: number;
  /** Every generation consumes with it (`x-priority`); undefined: RabbitMQ's default, 0. */
  readonly #priority: number | undefined;

  constructor(
    conn: ReconnectingConnection,
    queue: string,
    options: ConsumeOptions,
    onDelivery: (d: Delivery) => void,
    retryMs: number,
  ) {
    this.#conn = conn;
    this.#queue = queue;
    this.#target = options.prefetch;
    this.#priority = options.priority;
    this.#onDelivery = onDelivery;
    this.#retryMs = retryMs;
    this.#offUp = conn.onUp(() => this.#enqueue(() => this.#restart()));
    this.#offDown = conn.onDown(() => this.#lost());
  }

  /** Opens the channel and starts consuming; rejects if that fails now. */
  async start(): Promise<void> {
    await this.#enqueue(() => this.#restart(true));
  }

  setPrefetch(prefetch: number): Promise<void> {
    this.#target = prefetch;
    return this.#enqueue(() => this.#rebalance(true));
  }

  cancel(): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#cancelled) return;
      this.#cancelled = true;
      this.#offUp();
      this.#offDown();
      await this.#retire();
      if (this.#draining.size === 0) await this.#closeChannel();
    });
  }

  /** The broker closed: everything becomes a no-op. */
  close(): void {
    this.#closed = true;
    this.#cancelled = true;
    this.#offUp();
    this.#offDown();
    this.#lost();
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.#ops.then(op);
    this.#ops = next.catch(() => {});
    return next;
  }

  #lost(): void {
    this.#ch = null;
    this.#epoch++;
    this.#active = null;
    this.#draining.clear();
  }

  async #restart(initial = false): Promise<void> {
    if (this.#cancelled) return;
    const conn = this.#conn.current();
    if (!conn) {
      if (initial) throw new Error('RabbitMQ connection is down');
      return; // the next reconnection restarts it
    }
    if (this.#ch) await this.#closeChannel();
    this.#lost();
    const ch = await conn.createChannel();
    const epoch = this.#epoch;
    this.#ch = ch;
    ch.on('error', () => {});
    ch.on('close', () => {
      if (this.#ch !== ch) return;
      this.#lost();
      // The connection is still up (else onDown ran first): the channel alone died. Retry.
      if (!this.#cancelled && this.#conn.current()) {
        setTimeout(() => void this.#enqueue(() => this.#restart()).catch(() => {}), this.#retryMs);
      }
    });
    if (epoch !== this.#epoch) return;
    await this.#rebalance(true);
  }

  /** Brings the consumer in line with the target prefetch (see the class comment). */
  async #rebalance(force: boolean): Promise<void> {
    const ch = this.#ch;
    if (this.#cancelled || !ch) return;
    let held = 0;
    for (const g of this.#draining) held += g.outstanding;
    const current = this.#active?.prefetch ?? 0;
    if (!force && current + held >= this.#target) return;
    if (this.#active && current + held === this.#target) return;
    await this.#retire();
    held = 0;
    for (const g of this.#draining) held += g.outstanding;
    const prefetch = this.#target - held;
    if (prefetch <= 0) return; // topped up once the draining generations finish
    const gen: Generation = { tag: null, prefetch, outstanding: 0, active: true };
    const epoch = this.#epoch;
    await ch.prefetch(prefetch, false);
    const { consumerTag } = await ch.consume(
      this.#queue,
      (msg) => this.#deliver(gen, epoch, msg),
      this.#priority === undefined ? {} : { priority: this.#priority },
    );
    gen.tag = consumerTag;
    this.#active = gen;
  }

  /** Cancels the current consumer; its unacked deliveries keep draining on the channel. */
  async #retire(): Promise<void> {
    const gen = this.#active;
    if (!gen) return;
    this.#active = null;
    gen.active = false;
    if (gen.outstanding > 0) this.#draining.add(gen);
    if (gen.tag !== null && this.#ch) await this.#ch.cancel(gen.tag);
  }

  #deliver(gen: Generation, epoch: number, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // Cancelled by the broker (queue deleted, quorum leader moved): consume again later.
      if (gen.active && epoch === this.#epoch) {
        gen.active = false;
        this.#active = null;
        if (gen.outstanding > 0) this.#draining.add(gen);
        setTimeout(
          () => void this.#enqueue(() => this.#rebalance(false)).catch(() => {}),
          this.#retryMs,
        );
      }
      return;
    }
    if (this.#closed || epoch !== this.#epoch) return;
    gen.outstanding++;
    let done = false;
    const settle = async (fn: (ch: Channel) => void): Promise<void> => {
      if (done || this.#closed) return;
      done = true;
      const ch = this.#ch;
      if (!ch || epoch !== this.#epoch) return; // its channel is gone; the broker redelivers
      try {
        fn(ch);
      } catch {
        return; // channel closing: same as above
      }
      gen.outstanding--;
      if (!gen.active && gen.outstanding === 0 && this.#draining.delete(gen)) {
        if (this.#cancelled) {
          if (this.#draining.size === 0) await this.#enqueue(() => this.#closeChannel());
        } else {
          void this.#enqueue(() => this.#rebalance(false)).catch(() => {});
        }
      }
    };
    const priority = msg.properties.priority as number | undefined;
    const message: BrokerMessage =
      priority === undefined
        ? { jobId: msg.content.toString() }
        : { jobId: msg.content.toString(), priority };
    this.#onDelivery({
      message,
      redelivered: msg.fields.redelivered,
      ack: () => settle((ch) => ch.ack(msg)),
      nack: (requeue: boolean) => settle((ch) => ch.nack(msg, false, requeue)),
    });
  }

  async #closeChannel(): Promise<void> {
    const ch = this.#ch;
    this.#lost();
    if (ch) await ch.close().catch(() => {});
  }
}
