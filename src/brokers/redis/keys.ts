import type { BrokerMessage } from '../broker.ts';

/** The one consumer group every gaffer consumer of a queue joins. */
export const GROUP = 'gaffer';

/** The stream holding a queue's messages: ready ones plus delivered, unacked ones. */
export function streamKey(queue: string): string {
  return `gaffer:q:${queue}`;
}

/** Sorted set of a queue's live subscriptions (consumer name → expiry, Redis server time in ms). */
export function consumersKey(queue: string): string {
  return `gaffer:consumers:${queue}`;
}

const DEAD_SUFFIX = '.dead';

/** Messages nacked without requeue go to this queue, an ordinary queue in every other way. */
export function deadLetterQueue(queue: string): string {
  return `${queue}${DEAD_SUFFIX}`;
}

export function isDeadLetterQueue(queue: string): boolean {
  return queue.endsWith(DEAD_SUFFIX);
}

/**
 * Stream entry fields (written by scripts.ts publishScript): `j` the job id, `n` how many times
 * the message was handed out before (0 when first published; the requeue scripts add 1), `p` the
 * priority when one was given (carried, not acted on: Redis Streams have no priorities).
 */

export interface DecodedEntry {
  message: BrokerMessage;
  /** Earlier hand-outs of this message (the `n` field). */
  deliveries: number;
}

export function decodeFields(fields: readonly string[]): DecodedEntry {
  let jobId = '';
  let deliveries = 0;
  let priority: number | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const v = fields[i + 1]!;
    if (fields[i] === 'j') jobId = v;
    else if (fields[i] === 'n') deliveries = Number(v) || 0;
    else if (fields[i] === 'p') priority = Number(v);
  }
  const message: BrokerMessage = priority === undefined ? { jobId } : { jobId, priority };
  return { message, deliveries };
}
