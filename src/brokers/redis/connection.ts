import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { BrokerUnavailableError } from '../broker.ts';

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function unavailable(err: unknown, what = 'Redis'): BrokerUnavailableError {
  if (err instanceof BrokerUnavailableError) return err;
  return new BrokerUnavailableError(`${what}: ${errorMessage(err)}`, { cause: err });
}

/**
 * Opens a connection and waits until it is ready; rejects with BrokerUnavailableError (and gives
 * up on the connection) when the first attempt fails. ioredis reconnects by itself afterwards,
 * with its default backoff; `error` events go to `onError` instead of ioredis' console warning.
 */
export async function openConnection(
  url: string,
  options: RedisOptions,
  onError: (err: unknown) => void,
): Promise<Redis> {
  // RESP2: the reply shapes the broker parses (RESP3 turns XREADGROUP's reply into a map).
  const conn = new Redis(url, { ...options, protocol: 2, lazyConnect: true });
  conn.on('error', onError);
  try {
    await conn.connect();
  } catch (err) {
    conn.disconnect();
    throw unavailable(err, `cannot connect to ${redact(url)}`);
  }
  return conn;
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis';
  }
}
