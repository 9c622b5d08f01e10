import type { Broker, Delivery, Subscription } from '../brokers/broker.ts';
import type { GafferMessage, WorkerMessage } from './protocol.ts';
import type { WorkerLink } from './runtime.ts';

/** The longest a closing worker waits for its broker. */
const CLOSE_MS = 5000;

/**
 * Broker mode, worker side. Sits between the worker loop and its link to gaffer: the broker's
 * deliveries replace long-polled claims. The job ids delivered in one turn become one
 * `claim-jobs`; gaffer leases those that are claimable (or refuses: the message is then acked, or
 * given back when this worker is draining).
 *
 * Ack late (invariant 2): the state change a message causes is the claim, and a message is acked
 * only after its claim committed — when its job is done here. From the claim on, the job is the
 * store's and its lease's: a worker or gaffer dying mid-job is recovered by lease expiry, whose
 * retry publishes again, so holding the message longer would protect nothing. Acking at `done`
 * rather than at the claim keeps the broker's count of unacked messages equal to this worker's
 * claims in flight plus jobs running, so a prefetch of the concurrency is exactly its free slots:
 * no delivery waits here for a slot, and none is held while its job's outcome commits.
 */
export class BrokerFeed {
  readonly #outer: WorkerLink;
  readonly #broker: Broker;
  readonly #queue: string;
  readonly #prefetch: number;
  readonly #priority: number | undefined;
  readonly #held = new Map<string, Delivery>();
  readonly #listeners: ((msg: GafferMessage) => void)[] = [];
  /** Delivered ids not yet sent: a broker hands over a batch synchronously, sent as one claim. */
  #unclaimed: string[] = [];
  #sub: Subscription | null = null;

  constructor(options: {
    link: WorkerLink;
    broker: Broker;
    queue: string;
    prefetch: number;
    /** The consumer priority (`consumerPriority`), for a broker that honours it. */
    priority?: number;
  }) {
    this.#outer = options.link;
    this.#broker = options.broker;
    this.#queue = options.queue;
    this.#prefetch = options.prefetch;
    this.#priority = options.priority;
    this.#outer.onMessage((msg) => this.#fromGaffer(msg));
  }

  /** The link the worker loop talks through: claims are dropped (the broker drives), the rest pass. */
  get link(): WorkerLink {
    return {
      send: (msg: WorkerMessage) => {
        if (msg.t === 'claim') return;
        this.#outer.send(msg);
        if (msg.t === 'done') void this.#settle(msg.id, 'ack');
      },
      onMessage: (fn) => this.#listeners.push(fn),
    };
  }

  async start(): Promise<void> {
    await this.#broker.declare(this.#queue);
    const options =
      this.#priority === undefined
        ? { prefetch: this.#prefetch }
        : { prefetch: this.#prefetch, priority: this.#priority };
    this.#sub = await this.#broker.consume(this.#queue, options, (d) => {
      const id = d.message.jobId;
      // A second message for a job this worker already holds is a duplicate: spent.
      if (this.#held.has(id)) return void d.ack();
      this.#held.set(id, d);
      if (this.#unclaimed.push(id) === 1) queueMicrotask(() => this.#claim());
    });
  }

  #claim(): void {
    this.#outer.send({ t: 'claim-jobs', ids: this.#unclaimed });
    this.#unclaimed = [];
  }

  /**
   * Stops deliveries and closes the broker connection; unacked messages go back to the broker.
   * Bounded by CLOSE_MS: a broker that does not answer (restarting, partitioned) must not keep a
   * drained worker alive for ever — what it still held goes back to the queue anyway, by the
   * visibility timeout (Redis, embedded) or the closed channel (RabbitMQ).
   */
  async close(): Promise<void> {
    const closing = (async () => {
      await this.#sub?.cancel().catch(() => {});
      await this.#broker.close().catch(() => {});
    })();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_MS)));
    await Promise.race([closing, late]);
    clearTimeout(timer);
  }

  #fromGaffer(msg: GafferMessage): void {
    switch (msg.t) {
      case 'refused':
        for (const id of msg.ids) void this.#settle(id, msg.requeue ? 'requeue' : 'ack');
        return;
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
