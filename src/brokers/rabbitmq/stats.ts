import type { QueueStats } from '../broker.ts';
import { BrokerUnavailableError } from '../broker.ts';
import type { ReconnectingConnection } from './connection.ts';

/**
 * Queue statistics.
 *
 * With a `managementUrl` (the management plugin's HTTP API, e.g. `http://user:pass@host:15672`),
 * `ready`, `unacked` and `consumers` are the queue's `messages_ready`, `messages_unacknowledged`
 * and `consumers`. The plugin refreshes them every `collect_statistics_interval` (5 s by default;
 * lower it for a responsive autoscaler), so they lag that much.
 *
 * Without one, AMQP's queue.declare-passive (`checkQueue`) answers `ready` and `consumers` only:
 * AMQP has no way to read the unacked count, so `unacked` is reported as 0. Deploy with the
 * management plugin when the autoscaler needs unacked counts.
 */
export async function readStats(
  conn: ReconnectingConnection,
  queue: string,
  vhost: string,
  managementUrl: string | undefined,
): Promise<QueueStats> {
  if (managementUrl !== undefined) return fromManagement(managementUrl, vhost, queue);
  const c = conn.current();
  if (!c) throw new BrokerUnavailableError('RabbitMQ connection is down');
  const ch = await c.createChannel();
  ch.on('error', () => {});
  try {
    const q = await ch.checkQueue(queue);
    return { ready: q.messageCount, unacked: 0, consumers: q.consumerCount };
  } finally {
    await ch.close().catch(() => {});
  }
}

async function fromManagement(base: string, vhost: string, queue: string): Promise<QueueStats> {
  const url = new URL(base);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (url.username !== '' || url.password !== '') {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    headers['authorization'] = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = `${path}/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`;
  url.search = '?columns=messages_ready,messages_unacknowledged,consumers,consumer_details';
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new BrokerUnavailableError('RabbitMQ management API unreachable', { cause: err });
  }
  if (!res.ok) {
    throw new BrokerUnavailableError(
      `RabbitMQ management API answered ${res.status} for queue ${queue}`,
    );
  }
  const body = (await res.json()) as {
    messages_ready?: number;
    messages_unacknowledged?: number;
    consumers?: number;
    consumer_details?: unknown[];
  };
  // A queue the collector has not sampled yet has no message counts: nothing counted is 0.
  return {
    ready: body.messages_ready ?? 0,
    unacked: body.messages_unacknowledged ?? 0,
    // A quorum queue keeps counting a cancelled consumer in `consumers` until its unacked messages
    // settle; `consumer_details` lists only live consumers (basic.consume not yet cancelled).
    consumers: Array.isArray(body.consumer_details)
      ? body.consumer_details.length
      : (body.consumers ?? 0),
  };
}
