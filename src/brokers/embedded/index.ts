import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
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
import { openBrokerDb } from './schema.ts';

export interface EmbeddedBrokerOptions {
  /** SQLite file shared by every process using this broker. */
  path: string;
  /** How often a consumer looks for messages published by other processes. @defaultValue 50 */
  pollMs?: number;
  /** A held message not renewed this long goes back to ready. @defaultValue 30000 */
  visibilityTimeoutMs?: number;
}

/** Wakes consumers in this process as soon as a message is published to the same file. */
const published = new EventEmitter().setMaxListeners(0);

/**
 * The broker of the embedded default: messages are rows in a SQLite file, so it is durable (WAL,
 * synchronous FULL), needs no server, and works across the processes on one machine. Consumers
 * in the publishing process are woken at once; others poll every `pollMs`.
 */
export function createEmbeddedBroker(options: EmbeddedBrokerOptions): Broker & DeadLettering {
  const db = openBrokerDb(options.path);
  const visibility = options.visibilityTimeoutMs ?? 30_000;
  const subs = new Set<EmbeddedSubscription>();
  let closed = false;
  const sql = statements(db);
  return {
    name: 'embedded',
    deadLetterQueue: (queue) => `${queue}.dead`,
    async declare() {},
    async publish(queue, messages) {
      if (closed) throw new BrokerUnavailableError('the embedded broker is closed');
      db.exec('BEGIN IMMEDIATE');
      try {
        for (const m of messages) sql.insert.run(queue, m.jobId, m.priority ?? 0);
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw new BrokerUnavailableError(`publish failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      published.emit(`${options.path}\0${queue}`);
    },
    async consume(queue, opts, onDelivery) {
      const sub = new EmbeddedSubscription({
        db,
        sql,
        queue,
        opts,
        onDelivery,
        visibility,
        key: `${options.path}\0${queue}`,
      });
      subs.add(sub);
      sub.start(options.pollMs ?? 50);
      return sub;
    },
    async stats(queue): Promise<QueueStats> {
      const now = Date.now();
      sql.requeueStale.run(now - visibility);
      const row = sql.stats.get(queue) as { ready: number; unacked: number };
      const consumers = (sql.consumers.get(queue, now - visibility) as { n: number }).n;
      return { ready: row.ready ?? 0, unacked: row.unacked ?? 0, consumers };
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const sub of subs) await sub.cancel(true);
      db.close();
    },
  };
}

type Sql = ReturnType<typeof statements>;

function statements(db: DatabaseSync) {
  return {
    insert: db.prepare('INSERT INTO broker_messages (queue, job_id, priority) VALUES (?, ?, ?)'),
    take: db.prepare(`UPDATE broker_messages SET delivered_to = ?, touched_at = ?, deliveries = deliveries + 1
      WHERE id IN (SELECT id FROM broker_messages WHERE queue = ? AND delivered_to IS NULL
      ORDER BY priority DESC, id LIMIT ?) RETURNING id, job_id, priority, deliveries`),
    ack: db.prepare('DELETE FROM broker_messages WHERE id = ? AND delivered_to = ?'),
    requeue: db.prepare(
      'UPDATE broker_messages SET delivered_to = NULL WHERE id = ? AND delivered_to = ?',
    ),
    dead: db.prepare('INSERT INTO broker_dead (queue, job_id) VALUES (?, ?)'),
    releaseAll: db.prepare('UPDATE broker_messages SET delivered_to = NULL WHERE delivered_to = ?'),
    touch: db.prepare('UPDATE broker_messages SET touched_at = ? WHERE delivered_to = ?'),
    requeueStale: db.prepare(
      'UPDATE broker_messages SET delivered_to = NULL WHERE delivered_to IS NOT NULL AND touched_at < ?',
    ),
    stats:
      db.prepare(`SELECT sum(delivered_to IS NULL) AS ready, sum(delivered_to IS NOT NULL) AS unacked
      FROM broker_messages WHERE queue = ?`),
    register: db.prepare(
      'INSERT OR REPLACE INTO broker_consumers (id, queue, seen_at) VALUES (?, ?, ?)',
    ),
    unregister: db.prepare('DELETE FROM broker_consumers WHERE id = ?'),
    consumers: db.prepare(
      'SELECT count(*) AS n FROM broker_consumers WHERE queue = ? AND seen_at >= ?',
    ),
  } satisfies Record<string, StatementSync>;
}

interface SubscriptionInit {
  db: DatabaseSync;
  sql: Sql;
  queue: string;
  opts: ConsumeOptions;
  onDelivery: (d: Delivery) => void;
  visibility: number;
  key: string;
}

class EmbeddedSubscription implements Subscription {
  readonly #i: SubscriptionInit;
  readonly #id = `c-${randomUUID()}`;
  readonly #held = new Set<number>();
  #prefetch: number;
  #timer: NodeJS.Timeout | null = null;
  #active = true;
  readonly #wake = () => this.#pump();

  constructor(init: SubscriptionInit) {
    this.#i = init;
    this.#prefetch = init.opts.prefetch;
  }

  start(pollMs: number): void {
    let beats = 0;
    const beatEvery = Math.max(1, Math.floor(this.#i.visibility / 3 / pollMs));
    this.#heartbeat();
    published.on(this.#i.key, this.#wake);
    this.#timer = setInterval(() => {
      if (++beats % beatEvery === 0) {
        this.#heartbeat();
        // Messages held by a consumer that stopped renewing them (its process died) go back.
        this.#i.sql.requeueStale.run(Date.now() - this.#i.visibility);
      }
      this.#pump();
    }, pollMs);
    this.#timer.unref();
    this.#pump();
  }

  async setPrefetch(prefetch: number): Promise<void> {
    this.#prefetch = prefetch;
    this.#pump();
  }

  /**
   * Stops deliveries. With `release` (closing the broker), held messages go back to ready — also
   * those of a subscription cancelled before (a draining worker stops its deliveries first, and
   * closes its broker once its jobs are done): else they would wait out the visibility timeout.
   */
  async cancel(release = false): Promise<void> {
    if (this.#active) {
      this.#active = false;
      if (this.#timer) clearInterval(this.#timer);
      published.off(this.#i.key, this.#wake);
      this.#i.sql.unregister.run(this.#id);
    }
    if (release && this.#held.size > 0) {
      this.#held.clear();
      this.#i.sql.releaseAll.run(this.#id);
    }
  }

  #heartbeat(): void {
    const now = Date.now();
    this.#i.sql.register.run(this.#id, this.#i.queue, now);
    this.#i.sql.touch.run(now, this.#id);
  }

  #pump(): void {
    const free = this.#prefetch - this.#held.size;
    if (!this.#active || free <= 0) return;
    const rows = this.#i.sql.take.all(this.#id, Date.now(), this.#i.queue, free) as {
      id: number;
      job_id: string;
      priority: number;
      deliveries: number;
    }[];
    rows.sort((a, b) => b.priority - a.priority || a.id - b.id);
    for (const row of rows) {
      this.#held.add(row.id);
      this.#i.onDelivery(this.#delivery(row));
    }
  }

  #delivery(row: { id: number; job_id: string; priority: number; deliveries: number }): Delivery {
    const message: BrokerMessage = { jobId: row.job_id, priority: row.priority };
    const settle = (fn: () => void) => async () => {
      if (!this.#held.delete(row.id)) return; // idempotent
      fn();
      queueMicrotask(() => this.#pump());
    };
    return {
      message,
      redelivered: row.deliveries > 1,
      ack: settle(() => this.#i.sql.ack.run(row.id, this.#id)),
      nack: (requeue) =>
        settle(() => {
          if (requeue) this.#i.sql.requeue.run(row.id, this.#id);
          else if (this.#i.sql.ack.run(row.id, this.#id).changes > 0) {
            this.#i.sql.dead.run(this.#i.queue, row.job_id);
          }
        })(),
    };
  }
}
