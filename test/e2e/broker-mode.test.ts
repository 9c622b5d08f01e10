import path from 'node:path';
import { after } from 'node:test';
import { createEmbeddedBroker } from '../../src/brokers/embedded/index.ts';
import { createRabbitMQBroker } from '../../src/brokers/rabbitmq/index.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { startRabbitMQ, type RabbitMQServer } from '../helpers/servers/rabbitmq.ts';
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
