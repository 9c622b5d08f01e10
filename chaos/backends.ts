import { serviceAvailable } from '../test/helpers/servers/common.ts';
import { startRabbitMQ } from '../test/helpers/servers/rabbitmq.ts';
import { startRedis } from '../test/helpers/servers/redis.ts';

/**
 * The backends a chaos run puts under gaffer: the embedded default (the store is the queue),
 * RabbitMQ and Redis, each a private server on loopback started by the test harness's helpers.
 * Residue is read with the server's own tool (rabbitmqctl, redis-cli), not through gaffer.
 */
export interface Backend {
  name: BackendName;
  /** gaffer's `broker` config section. */
  broker: Record<string, unknown>;
  /** Messages of `queue` ready or unacknowledged, as the server itself counts them. */
  messages(queue: string): Promise<number>;
  /** Stops the broker's process and starts it again `downMs` later (same port and data). */
  restart(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

export type BackendName = 'embedded' | 'rabbitmq' | 'redis';
export const BACKENDS: readonly BackendName[] = ['embedded', 'rabbitmq', 'redis'];

/** Whether this machine has the backend's server (the embedded one needs none). */
export function backendAvailable(name: BackendName): boolean {
  if (name === 'rabbitmq') return serviceAvailable('rabbitmq-server');
  if (name === 'redis') return serviceAvailable('redis-server');
  return true;
}

export async function startBackend(name: BackendName): Promise<Backend> {
  if (name === 'rabbitmq') {
    const server = await startRabbitMQ();
    return {
      name,
      broker: { kind: 'rabbitmq', url: server.url, republishAfterMs: 2000 },
      async messages(queue) {
        const out = await server.ctl(['list_queues', 'name', 'messages']);
        const row = out.split('\n').find((l) => l.trim().split(/\s+/)[0] === queue);
        return row ? Number(row.trim().split(/\s+/)[1]) : 0;
      },
      async restart(downMs) {
        await server.shutdown();
        await new Promise((r) => setTimeout(r, downMs)); // the fault's length, not a wait
        await server.restart();
      },
      stop: () => server.stop(),
    };
  }
  if (name === 'redis') {
    const server = await startRedis();
    return {
      name,
      broker: { kind: 'redis', url: server.url, republishAfterMs: 2000 },
      async messages(queue) {
        return Number((await server.cli(['XLEN', `gaffer:q:${queue}`])).trim() || 0);
      },
      async restart(downMs) {
        await server.shutdown();
        await new Promise((r) => setTimeout(r, downMs)); // the fault's length, not a wait
        await server.restart();
      },
      stop: () => server.stop(),
    };
  }
  return {
    name,
    broker: { kind: 'none' },
    messages: async () => 0, // the store is the queue: its unfinished jobs are the residue
    restart: async () => {},
    stop: async () => {},
  };
}
