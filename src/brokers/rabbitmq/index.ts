import type {
  Broker,
  BrokerMessage,
  ConsumeOptions,
  ConsumerPriorities,
  DeadLettering,
  Delivery,
  QueueStats,
  Subscription,
} from '../broker.ts';
import { BrokerUnavailableError } from '../broker.ts';
import { ReconnectingConnection } from './connection.ts';
import { RabbitSubscription } from './consume.ts';
import { Publisher } from './publish.ts';
import { readStats } from './stats.ts';
import { assertTopology, deadLetterQueueName } from './topology.ts';
import type { QueueType } from './topology.ts';

export interface RabbitMQOptions {
  /** amqp://user:pass@host:port/vhost */
  url: string;
  /**
   * The management plugin's HTTP API (`http://user:pass@host:15672`). Without it `stats` cannot
   * count unacked messages and reports 0 for them (see stats.ts).
   */
  managementUrl?: string;
  /** Default 'quorum' (replicated, with a delivery limit); 'classic' for a single node. */
  queueType?: QueueType;
  /** Quorum queues: deliveries after which a message is dead-lettered. Default 50. */
  deliveryLimit?: number;
  /** Reconnection backoff: first delay, doubling up to the max. Defaults 100 ms and 5,000 ms. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** How long `publish` waits for its confirms before BrokerUnavailableError. Default 5,000 ms. */
  publishTimeoutMs?: number;
}

/**
 * A Broker on RabbitMQ (AMQP 0-9-1 through amqplib). Resolves once connected; rejects if the
 * broker cannot be reached now. Afterwards the connection reconnects by itself and consumers
 * resubscribe; meanwhile `publish` rejects with BrokerUnavailableError.
 */
export async function createRabbitMQBroker(options: RabbitMQOptions): Promise<Broker> {
  const conn = new ReconnectingConnection(options.url, {
    minMs: options.reconnectMinMs ?? 100,
    maxMs: options.reconnectMaxMs ?? 5_000,
  });
  await conn.start();
  return new RabbitMQBroker(conn, options);
}

/** Consumer priorities: the `x-priority` consumer argument (RabbitMQ's "Consumer Priorities"). */
class RabbitMQBroker implements Broker, DeadLettering, ConsumerPriorities {
  readonly name: string;
  readonly consumerPriorities = true as const;
  readonly #conn: ReconnectingConnection;
  readonly #publisher: Publisher;
  readonly #subs = new Set<RabbitSubscription>();
  readonly #queueType: QueueType;
  readonly #deliveryLimit: number;
  readonly #vhost: string;
  readonly #managementUrl: string | undefined;
  readonly #retryMs: number;
  #closed = false;

  constructor(conn: ReconnectingConnection, options: RabbitMQOptions) {
    this.#conn = conn;
    this.#queueType = options.queueType ?? 'quorum';
    this.name = `rabbitmq (${this.#queueType})`;
    this.#deliveryLimit = options.deliveryLimit ?? 50;
    this.#publisher = new Publisher(conn, options.publishTimeoutMs ?? 5_000);
    this.#managementUrl = options.managementUrl;
    this.#retryMs = options.reconnectMinMs ?? 100;
    const path = new URL(options.url).pathname;
    this.#vhost = path.length > 1 ? decodeURIComponent(path.slice(1)) : '/';
  }

  deadLetterQueue(queue: string): string {
    return deadLetterQueueName(queue);
  }

  async declare(queue: string): Promise<void> {
    await assertTopology(this.#live(), queue, {
      queueType: this.#queueType,
      deliveryLimit: this.#deliveryLimit,
    });
  }

  publish(queue: string, messages: readonly BrokerMessage[]): Promise<void> {
    if (this.#closed) return Promise.reject(new BrokerUnavailableError('broker closed'));
    return this.#publisher.publish(queue, messages);
  }

  async consume(
    queue: string,
    options: ConsumeOptions,
    onDelivery: (d: Delivery) => void,
  ): Promise<Subscription> {
    this.#live();
    const sub = new RabbitSubscription(this.#conn, queue, options, onDelivery, this.#retryMs);
    await sub.start();
    this.#subs.add(sub);
    return sub;
  }

  stats(queue: string): Promise<QueueStats> {
    return readStats(this.#conn, queue, this.#vhost, this.#managementUrl);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#subs) s.close();
    this.#subs.clear();
    await this.#publisher.close();
    await this.#conn.close();
  }

  #live() {
    const c = this.#conn.current();
    if (this.#closed || !c) throw new BrokerUnavailableError('RabbitMQ connection is down');
    return c;
  }
}
