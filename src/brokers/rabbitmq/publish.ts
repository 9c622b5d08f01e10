import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, Message } from 'amqplib';
import { BrokerUnavailableError } from '../broker.ts';
import type { BrokerMessage } from '../broker.ts';
import type { ReconnectingConnection } from './connection.ts';

interface Batch {
  returned: string | null;
}

/**
 * Publishes on one ConfirmChannel per connection: every message persistent and `mandatory`, so a
 * message no queue takes comes back as a basic.return (before its confirm) and fails its batch.
 * A `publish()` call sends the whole batch, then waits once for all its confirms, bounded by the
 * publish timeout. Anything short of every message confirmed is a BrokerUnavailableError.
 */
export class Publisher {
  #channel: Promise<ConfirmChannel> | null = null;
  readonly #batches = new Map<string, Batch>();
  readonly #conn: ReconnectingConnection;
  readonly #timeoutMs: number;

  constructor(conn: ReconnectingConnection, timeoutMs: number) {
    this.#conn = conn;
    this.#timeoutMs = timeoutMs;
    conn.onDown(() => {
      this.#channel = null;
    });
  }

  async publish(queue: string, messages: readonly BrokerMessage[]): Promise<void> {
    if (messages.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new BrokerUnavailableError(
              `RabbitMQ did not confirm ${messages.length} message(s) to ${queue} within ${this.#timeoutMs} ms`,
            ),
          ),
        this.#timeoutMs,
      );
    });
    try {
      await Promise.race([this.#publish(queue, messages), timeout]);
    } catch (err) {
      if (err instanceof BrokerUnavailableError) throw err;
      throw new BrokerUnavailableError(`RabbitMQ publish to ${queue} failed`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const ch = this.#channel;
    this.#channel = null;
    if (ch) await (await ch.catch(() => null))?.close().catch(() => {});
  }

  async #publish(queue: string, messages: readonly BrokerMessage[]): Promise<void> {
    const ch = await this.#getChannel();
    const batchId = randomUUID();
    const batch: Batch = { returned: null };
    this.#batches.set(batchId, batch);
    try {
      const confirms: Promise<void>[] = [];
      for (const m of messages) {
        confirms.push(
          new Promise<void>((resolve, reject) => {
            const ok = ch.sendToQueue(
              queue,
              Buffer.from(m.jobId),
              {
                persistent: true,
                mandatory: true,
                messageId: batchId,
                ...(m.priority === undefined ? {} : { priority: m.priority }),
              },
              (err: unknown) => (err ? reject(toError(err)) : resolve()),
            );
            void ok; // amqplib buffers past the high-water mark; the confirm wait bounds it
          }),
        );
      }
      const results = await Promise.allSettled(confirms);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        throw new BrokerUnavailableError(`RabbitMQ refused messages to ${queue}`, {
          cause: (failed as PromiseRejectedResult).reason,
        });
      }
      if (batch.returned !== null) {
        throw new BrokerUnavailableError(
          `RabbitMQ returned a message to ${queue} as unroutable (${batch.returned}); is the queue declared?`,
        );
      }
    } finally {
      this.#batches.delete(batchId);
    }
  }

  #getChannel(): Promise<ConfirmChannel> {
    if (this.#channel) return this.#channel;
    const conn = this.#conn.current();
    if (!conn) {
      return Promise.reject(new BrokerUnavailableError('RabbitMQ connection is down'));
    }
    const p = conn.createConfirmChannel().then((ch) => {
      ch.on('error', () => {});
      ch.on('close', () => {
        if (this.#channel === p) this.#channel = null;
      });
      ch.on('return', (msg: Message) => {
        const id = msg.properties.messageId as string | undefined;
        const batch = id === undefined ? undefined : this.#batches.get(id);
        const f = msg.fields as { replyCode?: number; replyText?: string };
        if (batch) batch.returned = `${f.replyCode ?? ''} ${f.replyText ?? ''}`.trim();
      });
      return ch;
    });
    p.catch(() => {
      if (this.#channel === p) this.#channel = null;
    });
    this.#channel = p;
    return p;
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
