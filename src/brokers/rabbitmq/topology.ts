import type { ChannelModel } from 'amqplib';

export type QueueType = 'quorum' | 'classic';

/** The exchange every gaffer queue dead-letters into, routed by `<queue>.dead`. */
export const DEAD_LETTER_EXCHANGE = 'gaffer.dead-letter';

export function deadLetterQueueName(queue: string): string {
  return `${queue}.dead`;
}

export interface TopologyOptions {
  queueType: QueueType;
  /** Quorum queues only: after this many deliveries a message is dead-lettered (poison guard). */
  deliveryLimit: number;
}

/**
 * Asserts a job queue and its dead-letter path: a durable queue of the configured type whose
 * messages nacked without requeue (or, on quorum queues, delivered more than `deliveryLimit`
 * times) go through the direct exchange `gaffer.dead-letter` to the durable `<queue>.dead`.
 * Idempotent. Uses a channel of its own, since a mismatched existing queue closes the channel.
 */
export async function assertTopology(
  conn: ChannelModel,
  queue: string,
  options: TopologyOptions,
): Promise<void> {
  const ch = await conn.createChannel();
  ch.on('error', () => {});
  try {
    const dead = deadLetterQueueName(queue);
    await ch.assertExchange(DEAD_LETTER_EXCHANGE, 'direct', { durable: true });
    await ch.assertQueue(dead, {
      durable: true,
      arguments: { 'x-queue-type': options.queueType },
    });
    await ch.bindQueue(dead, DEAD_LETTER_EXCHANGE, dead);
    const args: Record<string, unknown> = {
      'x-queue-type': options.queueType,
      'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
      'x-dead-letter-routing-key': dead,
    };
    if (options.queueType === 'quorum') args['x-delivery-limit'] = options.deliveryLimit;
    await ch.assertQueue(queue, { durable: true, arguments: args });
  } finally {
    await ch.close().catch(() => {});
  }
}
