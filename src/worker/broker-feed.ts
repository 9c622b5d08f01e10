import type { Broker, Delivery, Subscription } from '../brokers/broker.ts';
import type { GafferMessage, WorkerMessage } from './protocol.ts';
import type { WorkerLink } from './runtime.ts';

/**
 * Broker mode, worker side. Sits between the worker loop and its link to gaffer: the broker's
 * deliveries replace long-polled claims. Each delivered job id becomes a `claim-job`; gaffer
 * leases the job (or refuses: the message is then acked, or given back when this worker is
 * draining). A message is acked only when gaffer says the job's outcome committed — ack late
 * (invariant 2) — so a worker that dies mid-job leaves its messages to be redelivered.
 *
 * The prefetch is the worker's concurrency: unacked messages = jobs running + claims in flight.
 */
export class BrokerFeed {
  readonly #outer: WorkerLink;
  readonly #broker: Broker;
  readonly #queue: string;
  readonly #prefetch: number;
  readonly #held = new Map<string, Delivery>();
  readonly #listeners: ((msg: GafferMessage) => void)[] = [];
  #sub: Subscription | null = null;

  constructor(options: { link: WorkerLink; broker: Broker; queue: string; prefetch: number }) {
    this.#outer = options.link;
    this.#broker = options.broker;
    this.#queue = options.queue;
    this.#prefetch = options.prefetch;
    this.#outer.onMessage((msg) => this.#fromGaffer(msg));
  }

  /** The link the worker loop talks through: claims are dropped (the broker drives), the rest pass. */
  get link(): WorkerLink {
    return {
      send: (msg: WorkerMessage) => {
        if (msg.t !== 'claim') this.#outer.send(msg);
      },
      onMessage: (fn) => this.#listeners.push(fn),
    };
  }

  async start(): Promise<void> {
    await this.#broker.declare(this.#queue);
    this.#sub = await this.#broker.consume(this.#queue, { prefetch: this.#prefetch }, (d) => {
      const id = d.message.jobId;
      // A second message for a job this worker already holds is a duplicate: spent.
      if (this.#held.has(id)) return void d.ack();
      this.#held.set(id, d);
      this.#outer.send({ t: 'claim-job', id });
    });
  }

  /** Stops deliveries and closes the broker connection; unacked messages go back to the broker. */
  async close(): Promise<void> {
    await this.#sub?.cancel().catch(() => {});
    await this.#broker.close().catch(() => {});
  }

  #fromGaffer(msg: GafferMessage): void {
    switch (msg.t) {
      case 'refused':
        return void this.#settle(msg.id, msg.requeue ? 'requeue' : 'ack');
      case 'committed':
        return void this.#settle(msg.id, 'ack');
      case 'drain':
        void this.#sub?.cancel();
        break;
    }
    for (const fn of this.#listeners) fn(msg);
  }

  async #settle(id: string, how: 'ack' | 'requeue'): Promise<void> {
    const d = this.#held.get(id);
    if (!d) return;
    this.#held.delete(id);
    await (how === 'ack' ? d.ack() : d.nack(true)).catch(() => {});
  }
}
