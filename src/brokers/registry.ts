import type { BrokerRef } from '../worker/protocol.ts';
import type { Broker } from './broker.ts';

/**
 * The one registry of brokers: a kind names a factory. Server brokers are imported on first use,
 * so their client libraries load only in processes that need them.
 */
export async function createBroker(
  ref: Pick<BrokerRef, 'kind' | 'url' | 'visibilityTimeoutMs'>,
): Promise<Broker> {
  const visibility = ref.visibilityTimeoutMs
    ? { visibilityTimeoutMs: ref.visibilityTimeoutMs }
    : {};
  switch (ref.kind) {
    case 'embedded': {
      const { createEmbeddedBroker } = await import('./embedded/index.ts');
      return createEmbeddedBroker({ path: ref.url, ...visibility });
    }
    case 'rabbitmq': {
      const { createRabbitMQBroker } = await import('./rabbitmq/index.ts');
      return createRabbitMQBroker({ url: ref.url });
    }
    case 'redis': {
      const { createRedisBroker } = await import('./redis/index.ts');
      return createRedisBroker({ url: ref.url, ...visibility });
    }
  }
}

/** The kind a broker address names: amqp(s):// → rabbitmq, redis(s):// → redis, a path → embedded. */
export function brokerKindOf(url: string): BrokerRef['kind'] {
  if (/^amqps?:\/\//.test(url)) return 'rabbitmq';
  if (/^rediss?:\/\//.test(url)) return 'redis';
  return 'embedded';
}
