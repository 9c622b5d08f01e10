import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { runScaleFlow, scaleConfig, SCALE_TYPE } from '../helpers/scale-flow.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { createDatabase, startPostgres, type PostgresServer } from '../helpers/servers/postgres.ts';
import { startRabbitMQ, type RabbitMQServer } from '../helpers/servers/rabbitmq.ts';
import { startRedis, type RedisServer } from '../helpers/servers/redis.ts';

// The burst-scaling scenario (test/helpers/scale-flow.ts) with the network transport: gaffer starts each
// worker as `gaffer worker`, a process with no IPC channel that connects back to the API and knows
// only gaffer's address, the worker token and the broker's address — never the store's.
const rabbitOk = serviceAvailable('rabbitmq-server');
const redisOk = serviceAvailable('redis-server');
const pgOk = serviceAvailable('/usr/lib/postgresql/15/bin/initdb');

let rabbit: Promise<RabbitMQServer> | undefined;
let redis: Promise<RedisServer> | undefined;
let pg: Promise<PostgresServer> | undefined;
const rabbitUrl = async () => (await (rabbit ??= startRabbitMQ())).url;
const redisUrl = async () => (await (redis ??= startRedis())).url;
const pgUrl = async () => createDatabase((await (pg ??= startPostgres())).url);
after(async () => {
  await Promise.all([rabbit, redis, pg].map(async (s) => (await s)?.stop()));
});

interface Setup {
  broker: 'rabbitmq' | 'redis';
  brokerUrl: string;
  /** Absent: the embedded SQLite store. */
  storeUrl?: string;
}

describe('burst scaling with networked workers', () => {
  test('rabbitmq broker, sqlite store', { skip: !rabbitOk }, async (t) =>
    scenario(t, { broker: 'rabbitmq', brokerUrl: await rabbitUrl() }, 'csv_rows_a'),
  );
  test('redis broker, postgres store', { skip: !redisOk || !pgOk }, async (t) =>
    scenario(
      t,
      { broker: 'redis', brokerUrl: await redisUrl(), storeUrl: await pgUrl() },
      'csv_rows_b',
    ),
  );
  test('rabbitmq broker, postgres store', { skip: !rabbitOk || !pgOk }, async (t) =>
    scenario(
      t,
      { broker: 'rabbitmq', brokerUrl: await rabbitUrl(), storeUrl: await pgUrl() },
      'csv_rows_c',
    ),
  );
});

async function scenario(t: test.TestContext, s: Setup, queue: string): Promise<void> {
  // gaffer's own environment holds the store's URL in the usual places: none may reach a worker.
  const leaked = leakStoreUrl(s.storeUrl);
  const g = await startGaffer(configFor(s, queue));
  try {
    const started = performance.now();
    await runScaleFlow(g, {
      whileRunning: (g) => assertWorkersKnowOnlyAddresses(g, s, forbidden(g, s)),
    });
    t.diagnostic(`${SCALE_TYPE} × 10,000 took ${Math.round(performance.now() - started)} ms`);
  } finally {
    await g.close();
    leaked.restore();
  }
}

function configFor(s: Setup, queue: string): Record<string, unknown> {
  const base = scaleConfig() as { jobTypes: Record<string, Record<string, unknown>> };
  return {
    ...base,
    jobTypes: { [SCALE_TYPE]: { ...base.jobTypes[SCALE_TYPE], queue } },
    executor: { transport: 'network' },
    broker: { kind: s.broker, url: s.brokerUrl },
    ...(s.storeUrl ? { store: { kind: 'postgres', url: s.storeUrl } } : {}),
  };
}

/** What a worker must never see: the store's URL, or for SQLite the store's directory. */
function forbidden(g: TestGaffer, s: Setup): string[] {
  return s.storeUrl ? [s.storeUrl, 'postgres://'] : [g.dataDir];
}

const LEAK_VARS = ['DATABASE_URL', 'GAFFER_STORE_URL', 'PGPASSWORD', 'APP_DSN'] as const;

function leakStoreUrl(url: string | undefined): { restore(): void } {
  if (!url) return { restore() {} };
  for (const name of LEAK_VARS) process.env[name] = url;
  process.env['SCALE_NETWORK_KEPT'] = 'yes';
  return {
    restore() {
      for (const name of [...LEAK_VARS, 'SCALE_NETWORK_KEPT']) delete process.env[name];
    },
  };
}

/**
 * Reads the live workers' /proc entries once the first burst is connected: each was started with
 * gaffer's URL, its id and the broker's URL in argv, the worker token in its environment, no IPC
 * channel, and nothing that names the store.
 */
async function assertWorkersKnowOnlyAddresses(
  g: TestGaffer,
  s: Setup,
  secrets: string[],
): Promise<void> {
  const live = () => g.orch.gateway.workers(SCALE_TYPE).filter((w) => w.pid !== null);
  await until(g, () => live().length >= 5);
  for (const w of live()) {
    const argv = readFileSync(`/proc/${w.pid}/cmdline`, 'utf8').split('\0');
    const environ = readFileSync(`/proc/${w.pid}/environ`, 'utf8').split('\0');
    const env = new Map(
      environ.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    assert.equal(argv[argv.indexOf('--id') + 1], w.id, 'started with its worker id');
    assert.ok(argv.includes('worker') && argv.includes('--url'), argv.join(' '));
    assert.equal(argv[argv.indexOf('--broker') + 1], s.brokerUrl);
    assert.equal(env.get('GAFFER_WORKER_TOKEN'), g.orch.workerToken);
    assert.ok(!argv.includes(g.orch.workerToken!), 'the token is not in argv');
    assert.equal(env.get('NODE_CHANNEL_FD'), undefined, 'no IPC channel');
    if (s.storeUrl) assert.equal(env.get('SCALE_NETWORK_KEPT'), 'yes', 'other variables pass');
    for (const secret of secrets) {
      for (const text of [...argv, ...environ]) {
        assert.ok(!text.includes(secret), `worker ${w.id} sees ${secret} in ${text}`);
      }
    }
  }
}
