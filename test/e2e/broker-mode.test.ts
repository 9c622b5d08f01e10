import path from 'node:path';
import { after } from 'node:test';
import { createEmbeddedBroker } from '../../src/brokers/embedded/index.ts';
import { createRabbitMQBroker } from '../../src/brokers/rabbitmq/index.ts';
import { createRedisBroker } from '../../src/brokers/redis/index.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { startRabbitMQ, type RabbitMQServer } from '../helpers/servers/rabbitmq.ts';
import { startRedis } from '../helpers/servers/redis.ts';
import { describeBrokerFlow } from './broker-mode/flow-suite.ts';
import { describeBrokerMode, type BrokerModeSetup } from './broker-mode/suite.ts';

/** One server per broker for every suite of this file: started by the first suite that asks. */
function once(start: () => Promise<BrokerModeSetup>): () => Promise<BrokerModeSetup> {
  let started: Promise<BrokerModeSetup> | undefined;
  return () => (started ??= start());
}

const embedded = async (): Promise<BrokerModeSetup> => ({
  config: () => ({ kind: 'embedded' }),
  connect: async (g) => createEmbeddedBroker({ path: path.join(g.dataDir, 'broker.db') }),
});
describeBrokerMode('embedded', embedded);
describeBrokerFlow('embedded', embedded);

let rabbit: RabbitMQServer | undefined;
after(() => rabbit?.stop());
const rabbitmq = once(async () => {
  rabbit = await startRabbitMQ();
  const server = rabbit;
  return {
    config: () => ({ kind: 'rabbitmq', url: server.url }),
    connect: () => createRabbitMQBroker({ url: server.url, managementUrl: server.managementUrl }),
  };
});
const noRabbit = !serviceAvailable('rabbitmq-server');
describeBrokerMode('rabbitmq', rabbitmq, { skip: noRabbit });
describeBrokerFlow('rabbitmq', rabbitmq, { skip: noRabbit });

let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
after(() => redis?.stop());
const redisSetup = once(async () => {
  redis = await startRedis();
  const server = redis;
  return {
    config: () => ({ kind: 'redis', url: server.url }),
    connect: () => createRedisBroker({ url: server.url }),
  };
});
const noRedis = !serviceAvailable('redis-server');
describeBrokerMode('redis', redisSetup, { skip: noRedis });
describeBrokerFlow('redis', redisSetup, { skip: noRedis });
