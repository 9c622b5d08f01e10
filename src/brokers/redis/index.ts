/**
 * The Redis broker: native Redis Streams with one consumer group per queue — not BullMQ.
 *
 * Why not BullMQ: BullMQ is a job system, not a transport. It keeps job state, attempts, retries,
 * delays and a lock per active job in Redis, and its stalled-job checker fails a job after
 * `maxStalledCount` lock losses without using any retry policy (features.md pain point 5). In
 * gaffer the store owns all of that (invariant 1), so BullMQ would be a second source of truth to
 * keep in step, and its ack (moveToCompleted) is tied to its own job record. It has no prefetch that
 * follows free slots and no count of delivered-unacked messages separate from its job states.
 *
 * What Streams give directly: XADD in MULTI/EXEC is an atomic batch publish whose reply means the
 * write is done (durable with appendfsync always); XREADGROUP COUNT n is a prefetch; the pending
 * entries list is "delivered, unacked", per consumer; XACK is a late ack; XAUTOCLAIM moves a silent
 * consumer's entries to a live one. Stats are exact: acked entries are deleted, so the stream holds
 * only ready + pending. The visibility timeout here is a liveness timeout, not a job-length limit
 * (pain point 6): a live subscription resets the idle time of what it holds every timeout/3, so
 * only a consumer that stopped answering (dead, paused, partitioned) loses its messages.
 * Costs: requeue goes to the tail (re-XADD), no priorities, no Redis Cluster (scripts touch two keys
 * of different queues), and `consumers` is our own registry: subscriptions that heartbeat within
 * the visibility timeout (cancel unregisters at once).
 */
import type { Broker } from '../broker.ts';
import { hostname } from 'node:os';
import { openConnection } from './connection.ts';
import { RedisBroker } from './redis-broker.ts';

export interface RedisBrokerOptions {
  /** `redis://[:password@]host:port[/db]` */
  url: string;
  /**
   * A delivery whose subscription has not refreshed it for this long (its process died, froze or
   * lost Redis) is reclaimed and delivered to another consumer, marked redelivered. Default 30000.
   */
  visibilityTimeoutMs?: number;
  /** Longest XREADGROUP BLOCK, in ms. Default 5000. */
  blockMs?: number;
  /** Bound on every non-blocking command; past it the call rejects. Default 5000. */
  commandTimeoutMs?: number;
  /** Consumer name prefix; each subscription appends a random suffix. Default `host:pid`. */
  consumer?: string;
  /** Connection and background errors (the broker recovers from them by itself). */
  onError?: (err: unknown) => void;
}

/**
 * Connects to Redis; rejects with BrokerUnavailableError when it cannot. `publish` while the
 * connection is down rejects at once with BrokerUnavailableError (no offline queue for publishes);
 * consume loops and acks wait for ioredis' reconnect.
 */
export async function createRedisBroker(options: RedisBrokerOptions): Promise<Broker> {
  const settings = {
    url: options.url,
    visibilityTimeoutMs: options.visibilityTimeoutMs ?? 30_000,
    blockMs: options.blockMs ?? 5_000,
    commandTimeoutMs: options.commandTimeoutMs ?? 5_000,
    consumer: options.consumer ?? `${hostname()}:${process.pid}`,
    onError: options.onError ?? (() => {}),
  };
  if (!(settings.visibilityTimeoutMs > 0)) throw new RangeError('visibilityTimeoutMs must be > 0');
  const cmd = await openConnection(
    settings.url,
    {
      connectionName: 'gaffer-broker',
      commandTimeout: settings.commandTimeoutMs,
      enableOfflineQueue: true,
    },
    settings.onError,
  );
  return new RedisBroker(settings, cmd);
}
