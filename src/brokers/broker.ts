/**
 * A broker delivers job ids to workers, at least once. The job record in the store stays the
 * truth (invariant 1): a message only says "job X of this queue may be ready"; whoever receives it
 * claims the job through gaffer before running it, and acks the message only after the job's new
 * state has committed (invariant 2). A redelivered message of a finished job is acked unrun.
 *
 * Contract for every implementation:
 * - `declare` is idempotent and must precede `publish`/`consume` on a queue.
 * - `publish` resolves only once the broker has taken responsibility for every message (publisher
 *   confirms on RabbitMQ, the write acknowledged on Redis); otherwise it rejects with
 *   `BrokerUnavailableError`, and the caller answers 503 (invariant 3).
 * - `consume` delivers at most `prefetch` unacked messages to this subscription at once; the
 *   prefetch follows the worker's free slots (`setPrefetch`), so no worker hoards work.
 * - `consume`'s `priority` is a hint only brokers with `ConsumerPriorities` honour.
 * - A message neither acked nor nacked when its consumer's connection dies is delivered again.
 * - `ack`/`nack` are idempotent per delivery; after `close` they are no-ops.
 * - `stats.ready` counts messages waiting (the republish check reads it: a due job with no ready
 *   message is published again); `stats.unacked` those delivered and not yet acked. The autoscaler
 *   reads neither: it counts the store's ready and in-flight jobs, so work a worker holds is never
 *   mistaken for none (KEDA's RabbitMQ scaler counting only ready messages is its most reported bug).
 */
export interface Broker {
  readonly name: string;
  declare(queue: string): Promise<void>;
  publish(queue: string, messages: readonly BrokerMessage[]): Promise<void>;
  consume(
    queue: string,
    options: ConsumeOptions,
    onDelivery: (d: Delivery) => void,
  ): Promise<Subscription>;
  stats(queue: string): Promise<QueueStats>;
  close(): Promise<void>;
}

export interface BrokerMessage {
  jobId: string;
  /** Higher first, where the broker supports priorities (a capability); else ignored. */
  priority?: number;
}

export interface ConsumeOptions {
  prefetch: number;
  /**
   * An integer; higher first. A broker that honours it (`ConsumerPriorities`) delivers to the
   * highest-priority subscription of the queue that has prefetch room, and to lower ones only
   * while the higher are full or gone: that packs work onto the fewest consumers. Others ignore it.
   */
  priority?: number;
}

export interface Delivery {
  readonly message: BrokerMessage;
  /** True when the broker knows it delivered this message before (a possible duplicate). */
  readonly redelivered: boolean;
  ack(): Promise<void>;
  /** `requeue: true` puts it back for another consumer; false drops it (or dead-letters it). */
  nack(requeue: boolean): Promise<void>;
}

export interface Subscription {
  setPrefetch(prefetch: number): Promise<void>;
  /** Stops deliveries; unacked ones stay with the broker and are redelivered after close. */
  cancel(): Promise<void>;
}

export interface QueueStats {
  ready: number;
  unacked: number;
  consumers: number;
}

/** The broker cannot take the message now (down, unreachable, refusing). Retry later. */
export class BrokerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BrokerUnavailableError';
  }
}

/** Optional: messages that were nacked without requeue land in a per-queue dead-letter queue. */
export interface DeadLettering {
  deadLetterQueue(queue: string): string;
}

export function hasDeadLettering(b: Broker): b is Broker & DeadLettering {
  return typeof (b as Partial<DeadLettering>).deadLetterQueue === 'function';
}

/**
 * Optional: the broker honours `ConsumeOptions.priority` (RabbitMQ's consumer priorities). Redis
 * Streams cannot — a consumer group serves whichever consumer reads first — and the embedded
 * broker does not: its consumers poll the file, so the first to poll takes the message.
 */
export interface ConsumerPriorities {
  readonly consumerPriorities: true;
}

export function honoursConsumerPriority(b: Broker): b is Broker & ConsumerPriorities {
  return (b as Partial<ConsumerPriorities>).consumerPriorities === true;
}
