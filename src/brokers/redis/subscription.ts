import type { Redis } from 'ioredis';
import type { Delivery, Subscription } from '../broker.ts';
import { BrokerUnavailableError } from '../broker.ts';
import { GROUP, consumersKey, decodeFields, streamKey } from './keys.ts';
import { releaseScript, refreshScript } from './scripts.ts';
import { errorMessage, unavailable } from './connection.ts';

export type Settlement = 'ack' | 'requeue' | 'dead';

/** What a subscription needs from its broker. */
export interface SubscriptionContext {
  /** The broker's shared command connection (acks, ticks, release). */
  readonly cmd: Redis;
  readonly visibilityTimeoutMs: number;
  readonly blockMs: number;
  closed(): boolean;
  settle(queue: string, id: string, how: Settlement): Promise<void>;
  declare(queue: string): Promise<void>;
  onError(err: unknown): void;
}

type StreamEntry = [id: string, fields: string[]];
type ReadReply = [key: string, entries: StreamEntry[]][] | null;
type AutoclaimReply = [cursor: string, entries: (StreamEntry | null)[], deleted?: string[]];

/** Held delivery: delivered to the application, not yet acked or nacked. */
interface Held {
  settling?: Promise<void>;
}

/** Script arguments per call at most (Lua's unpack has a stack limit). */
const CHUNK = 1000;

/**
 * One `consume` call: its own consumer name in the group and its own blocking connection, on
 * which a single loop alternates XAUTOCLAIM (stalled entries of any consumer, idle past the
 * visibility timeout) and XREADGROUP … BLOCK for new entries, never asking for more than
 * prefetch − held. A timer on the shared connection keeps the consumer registered and the idle
 * time of its held entries at zero (see refreshScript).
 */
export class RedisSubscription implements Subscription {
  private readonly key: string;
  private readonly held = new Map<string, Held>();
  private stopped = false;
  private cancelling: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private cursor = '0-0';
  /**
   * Set at start, after every failed read and on every reconnection: entries already in this
   * consumer's pending list whose delivery never reached us (the reply was lost with the
   * connection), or whose ack failed, are read back from its history before new ones, instead of
   * waiting out the visibility timeout.
   */
  private recoverOwn = true;
  private readonly reclaimEveryMs: number;
  private readonly tickEveryMs: number;
  private readonly ctx: SubscriptionContext;
  private readonly conn: Redis;
  readonly queue: string;
  readonly consumer: string;
  private prefetch: number;
  private readonly onDelivery: (d: Delivery) => void;

  constructor(
    ctx: SubscriptionContext,
    conn: Redis,
    queue: string,
    consumer: string,
    prefetch: number,
    onDelivery: (d: Delivery) => void,
  ) {
    this.ctx = ctx;
    this.conn = conn;
    this.queue = queue;
    this.consumer = consumer;
    this.prefetch = prefetch;
    this.onDelivery = onDelivery;
    this.key = streamKey(queue);
    const vt = ctx.visibilityTimeoutMs;
    this.reclaimEveryMs = Math.max(10, Math.min(5000, Math.floor(vt / 4)));
    this.tickEveryMs = Math.max(10, Math.floor(vt / 3));
  }

  /** Registers the consumer (so stats count it at once) and starts the loop. */
  async start(): Promise<void> {
    this.conn.on('ready', () => {
      this.recoverOwn = true;
    });
    await this.refresh();
    this.timer = setInterval(() => void this.tick(), this.tickEveryMs);
    this.timer.unref();
    this.loop = this.run();
  }

  async setPrefetch(prefetch: number): Promise<void> {
    this.prefetch = prefetch;
    this.wake();
  }

  /** Stops deliveries; held deliveries stay ackable (and are handed back by the broker's close). */
  cancel(): Promise<void> {
    this.cancelling ??= this.stop([...this.held.keys()]);
    return this.cancelling;
  }

  /** The broker is closing: stop and hand every unacked entry back to the stream. */
  async close(): Promise<void> {
    await this.cancelling?.catch(() => {});
    await this.stop([]);
  }

  private async stop(keep: string[]): Promise<void> {
    this.stopped = true;
    this.wake();
    // Aborts a blocked XREADGROUP. Entries it read but whose reply is lost stay in this consumer's
    // pending list, and the release below hands them back.
    this.conn.disconnect();
    await this.loop;
    if (keep.length === 0) this.stopTimer();
    try {
      await this.release(keep);
    } catch (err) {
      // They stay pending under this consumer; any other consumer reclaims them after the
      // visibility timeout.
      throw unavailable(err);
    }
  }

  private stopTimer() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private release(keep: readonly string[]) {
    return releaseScript.run(
      this.ctx.cmd,
      [this.key, consumersKey(this.queue)],
      [GROUP, this.consumer, ...keep],
    );
  }

  private async refresh(): Promise<void> {
    const ids = [...this.held.keys()];
    const ttl = this.stopped ? 0 : this.ctx.visibilityTimeoutMs;
    const keys = [this.key, consumersKey(this.queue)];
    for (let i = 0; i === 0 || i < ids.length; i += CHUNK) {
      const prune = i === 0 ? this.ctx.visibilityTimeoutMs : 0;
      await refreshScript.run(this.ctx.cmd, keys, [
        GROUP,
        this.consumer,
        ttl,
        prune,
        ...ids.slice(i, i + CHUNK),
      ]);
    }
  }

  private async tick() {
    if (this.ticking || this.ctx.closed()) return;
    this.ticking = true;
    try {
      await this.refresh();
    } catch (err) {
      this.ctx.onError(err);
    } finally {
      this.ticking = false;
    }
  }

  private wake() {
    this.wakeUp?.();
  }

  /** Resolves on `wake()` or after `ms`. */
  private wait(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timeout);
        if (this.wakeUp === done) this.wakeUp = undefined;
        resolve();
      };
      const timeout = ms === undefined ? undefined : setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  private async run(): Promise<void> {
    let nextReclaim = 0;
    let failures = 0;
    while (!this.stopped) {
      const free = this.prefetch - this.held.size;
      if (free <= 0) {
        await this.wait();
        continue;
      }
      try {
        if (this.recoverOwn) {
          this.recoverOwn = false;
          if ((await this.recover(free)) > 0) continue;
        }
        if (Date.now() >= nextReclaim) {
          nextReclaim = Date.now() + this.reclaimEveryMs;
          if ((await this.reclaim(free)) > 0) continue;
        }
        const block = Math.max(1, Math.min(this.ctx.blockMs, nextReclaim - Date.now()));
        const reply = await this.read(free, '>', block);
        failures = 0;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) this.deliver(id, fields, false);
        }
      } catch (err) {
        if (this.stopped) break;
        this.recoverOwn = true;
        this.ctx.onError(err);
        if (errorMessage(err).includes('NOGROUP')) {
          // The stream vanished (a flushed or restarted Redis without persistence): declare again.
          await this.ctx.declare(this.queue).catch(() => {});
        }
        failures++;
        await this.wait(Math.min(2000, 25 * 2 ** Math.min(failures, 7)));
      }
    }
  }

  /** XREADGROUP: new entries (`>`, blocking up to `blockMs`) or this consumer's history (`0`). */
  private async read(count: number, from: '>' | '0', blockMs?: number): Promise<ReadReply> {
    const block = blockMs === undefined ? [] : ['BLOCK', blockMs];
    const args = [
      'GROUP',
      GROUP,
      this.consumer,
      'COUNT',
      count,
      ...block,
      'STREAMS',
      this.key,
      from,
    ];
    return (await this.conn.call('XREADGROUP', ...args)) as ReadReply;
  }

  /** Delivers up to `free` entries of this consumer's own pending list that it does not hold. */
  private async recover(free: number): Promise<number> {
    const reply = await this.read(free + this.held.size, '0');
    let n = 0;
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        if (n < free && this.deliver(id, fields, true)) n++;
      }
    }
    return n;
  }

  /** Takes over entries idle past the visibility timeout (their consumer went silent). */
  private async reclaim(free: number): Promise<number> {
    const reply = (await this.conn.call(
      'XAUTOCLAIM',
      this.key,
      GROUP,
      this.consumer,
      this.ctx.visibilityTimeoutMs,
      this.cursor,
      'COUNT',
      free,
    )) as AutoclaimReply;
    this.cursor = reply[0];
    let n = 0;
    for (const entry of reply[1]) {
      if (entry && this.deliver(entry[0], entry[1], true)) n++;
    }
    return n;
  }

  private deliver(id: string, fields: string[], reclaimed: boolean): boolean {
    // After a stop, read entries stay pending under this consumer for `release` to hand back.
    if (this.stopped || this.held.has(id)) return false;
    const { message, deliveries } = decodeFields(fields);
    this.held.set(id, {});
    const delivery: Delivery = {
      message,
      redelivered: reclaimed || deliveries > 0,
      ack: () => this.settle(id, 'ack'),
      nack: (requeue) => this.settle(id, requeue ? 'requeue' : 'dead'),
    };
    try {
      this.onDelivery(delivery);
    } catch (err) {
      this.ctx.onError(err);
    }
    return true;
  }

  private settle(id: string, how: Settlement): Promise<void> {
    if (this.ctx.closed()) return Promise.resolve();
    const held = this.held.get(id);
    if (!held) return Promise.resolve();
    held.settling ??= this.ctx.settle(this.queue, id, how).then(
      () => this.forget(id),
      (err: unknown) => {
        // The entry stays pending in Redis: it is read back after a reconnect (recover) or
        // reclaimed after the visibility timeout. Holding on to it here would leak a slot.
        this.forget(id);
        throw err instanceof BrokerUnavailableError ? err : unavailable(err);
      },
    );
    return held.settling;
  }

  private forget(id: string) {
    this.held.delete(id);
    this.wake();
    if (this.cancelling && this.held.size === 0) void this.afterLastHeld();
  }

  /** A cancelled subscription whose last held delivery was settled: leave the group. */
  private async afterLastHeld() {
    await this.cancelling?.catch(() => {});
    if (this.held.size > 0 || this.ctx.closed()) return;
    this.stopTimer();
    await this.release([]).catch((err: unknown) => this.ctx.onError(err));
  }
}
