import path from 'node:path';
import { after } from 'node:test';
import { createEmbeddedBroker } from '../../src/brokers/embedded/index.ts';
import { createRabbitMQBroker } from '../../src/brokers/rabbitmq/index.ts';
import { createRedisBroker } from '../../src/brokers/redis/index.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { startRabbitMQ, type RabbitMQServer } from '../helpers/servers/rabbitmq.ts';
import { startRedis } from '../helpers/servers/redis.ts';
import { describeBrokerMode } from './broker-mode/suite.ts';

describeBrokerMode('embedded', async () => ({
  config: () => ({ kind: 'embedded' }),
  connect: async (g) => createEmbeddedBroker({ path: path.join(g.dataDir, 'broker.db') }),
}));

let rabbit: RabbitMQServer | undefined;
after(() => rabbit?.stop());
describeBrokerMode(
  'rabbitmq',
  async () => {
    rabbit = await startRabbitMQ();
    const server = rabbit;
    return {
      config: () => ({ kind: 'rabbitmq', url: server.url }),
      connect: () => createRabbitMQBroker({ url: server.url, managementUrl: server.managementUrl }),
    };
  },
  { skip: !serviceAvailable('rabbitmq-server') },
);

let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
after(() => redis?.stop());
describeBrokerMode(
  'redis',
  async () => {
    redis = await startRedis();
    const server = redis;
    return {
      config: () => ({ kind: 'redis', url: server.url }),
      connect: () => createRedisBroker({ url: server.url }),
    };
  },
  { skip: !serviceAvailable('redis-server') },
);
