import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type {
  Broker,
  BrokerMessage,
  ConsumeOptions,
  DeadLettering,
  Delivery,
  QueueStats,
  Subscription,
} from '../broker.ts';
import { BrokerUnavailableError } from '../broker.ts';
import { openConnection, unavailable, errorMessage } from './connection.ts';
import { GROUP, consumersKey, deadLetterQueue, isDeadLetterQueue, streamKey } from './keys.ts';
import { moveScript, publishScript, statsScript } from './scripts.ts';
import type { Settlement, SubscriptionContext } from './subscription.ts';
import { RedisSubscription } from './subscription.ts';

export interface RedisBrokerSettings {
  url: string;
  visibilityTimeoutMs: number;
  blockMs: number;
  commandTimeoutMs: number;
  consumer: string;
  onError: (err: unknown) => void;
}

export class RedisBroker implements Broker, DeadLettering {
  readonly name = 'redis';
  private readonly subs = new Set<RedisSubscription>();
  /** Acks waiting for this turn's batch, per stream key. */
  private readonly acks = new Map<string, { ids: string[]; done: Promise<void> }>();
  private isClosed = false;
  private closing: Promise<void> | undefined;
  private readonly ctx: SubscriptionContext;
  private readonly settings: RedisBrokerSettings;
  /** Shared: publish, ack/nack, stats, the subscriptions' ticks. */
  private readonly cmd: Redis;

  constructor(settings: RedisBrokerSettings, cmd: Redis) {
    this.settings = settings;
    this.cmd = cmd;
    this.ctx = {
      cmd,
      visibilityTimeoutMs: settings.visibilityTimeoutMs,
      blockMs: settings.blockMs,
      closed: () => this.isClosed,
      settle: (queue, id, how) => this.settle(queue, id, how),
      declare: (queue) => this.declare(queue),
      onError: settings.onError,
    };
  }

  deadLetterQueue(queue: string): string {
    return deadLetterQueue(queue);
  }

  async declare(queue: string): Promise<void> {
    this.assertOpen();
    const queues = isDeadLetterQueue(queue) ? [queue] : [queue, deadLetterQueue(queue)];
    for (const q of queues) {
      try {
        // From id 0, not $: messages added before the group existed (say, dead letters) count.
        await this.cmd.call('XGROUP', 'CREATE', streamKey(q), GROUP, '0', 'MKSTREAM');
      } catch (err) {
        if (!errorMessage(err).includes('BUSYGROUP')) throw unavailable(err);
      }
    }
  }

  async publish(queue: string, messages: readonly BrokerMessage[]): Promise<void> {
    this.assertOpen();
    if (messages.length === 0) return;
    if (!(await this.tryPublish(queue, messages))) {
      // The stream is gone (Redis lost its data, or the queue was never declared): declare, retry.
      await this.declare(queue);
      if (!(await this.tryPublish(queue, messages))) {
        throw new BrokerUnavailableError(`Redis: stream ${streamKey(queue)} disappeared`);
      }
    }
  }

  /** One script call: all messages are added or none. False when the stream does not exist. */
  private async tryPublish(queue: string, messages: readonly BrokerMessage[]): Promise<boolean> {
    // Fail fast while disconnected rather than queue up behind a reconnect (invariant 3: 503 now).
    if (this.cmd.status !== 'ready') {
      throw new BrokerUnavailableError(`Redis is not connected (${this.cmd.status})`);
    }
    const args = messages.flatMap((m) => [
      m.jobId,
      m.priority === undefined ? '' : String(m.priority),
    ]);
    try {
      return (await publishScript.run(this.cmd, [streamKey(queue)], args)) !== -1;
    } catch (err) {
      throw unavailable(err);
    }
  }

  async consume(
    queue: string,
    options: ConsumeOptions,
    onDelivery: (d: Delivery) => void,
  ): Promise<Subscription> {
    this.assertOpen();
    const consumer = `${this.settings.consumer}:${randomUUID().slice(0, 8)}`;
    const conn = await openConnection(
      this.settings.url,
      {
        connectionName: `gaffer-consume-${queue}`,
        // The loop's commands wait through a reconnect instead of failing; cancel disconnects.
        maxRetriesPerRequest: null,
        enableOfflineQueue: true,
      },
      this.settings.onError,
    );
    const sub = new RedisSubscription(
      this.ctx,
      conn,
      queue,
      consumer,
      options.prefetch,
      onDelivery,
    );
    try {
      await sub.start();
    } catch (err) {
      conn.disconnect();
      throw unavailable(err);
    }
    this.subs.add(sub);
    return {
      setPrefetch: (n) => sub.setPrefetch(n),
      cancel: async () => {
        await sub.cancel();
      },
    };
  }

  async stats(queue: string): Promise<QueueStats> {
    this.assertOpen();
    try {
      const [ready, unacked, consumers] = (await statsScript.run(
        this.cmd,
        [streamKey(queue), consumersKey(queue)],
        [GROUP],
      )) as [number, number, number];
      return { ready, unacked, consumers };
    } catch (err) {
      throw unavailable(err);
    }
  }

  private async settle(queue: string, id: string, how: Settlement): Promise<void> {
    const key = streamKey(queue);
    // A dead-letter queue's own rejects are dropped rather than sent to a `.dead.dead` queue.
    const target =
      how === 'requeue' ? key : isDeadLetterQueue(queue) ? null : streamKey(deadLetterQueue(queue));
    if (how === 'ack' || target === null) return this.ack(key, id);
    await moveScript.run(this.cmd, [key, target], [GROUP, id]);
  }

  /**
   * Acks of one turn on a stream go out together: one XACK and one XDEL for all their ids, in one
   * MULTI so an entry is never left acked but not deleted (it would count as ready forever).
   */
  private ack(key: string, id: string): Promise<void> {
    let batch = this.acks.get(key);
    if (!batch) {
      const ids: string[] = [];
      const done = new Promise((resolve) => setImmediate(resolve)).then(async () => {
        this.acks.delete(key);
        const replies = await this.cmd
          .multi()
          .xack(key, GROUP, ...ids)
          .xdel(key, ...ids)
          .exec();
        for (const [err] of replies ?? []) if (err) throw err;
      });
      batch = { ids, done };
      this.acks.set(key, batch);
    }
    batch.ids.push(id);
    return batch.done;
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose() {
    this.isClosed = true;
    // Hand every unacked message back now, so other consumers need not wait for the timeout.
    await Promise.all(
      [...this.subs].map((s) => s.close().catch((err: unknown) => this.settings.onError(err))),
    );
    this.subs.clear();
    await this.cmd.quit().catch(() => this.cmd.disconnect());
  }

  private assertOpen() {
    if (this.isClosed) throw new BrokerUnavailableError('the Redis broker is closed');
  }
}
