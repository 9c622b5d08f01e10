import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { startRabbitMQ } from '../helpers/servers/rabbitmq.ts';
import { startRedis } from '../helpers/servers/redis.ts';
import { countByState, startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

interface Outage {
  /** gaffer's `broker` config for this server. */
  broker: Record<string, unknown>;
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The broker goes down mid-run, then comes back. While it is down the API answers 503 with
 * Retry-After and keeps no record of the refused job; gaffer and its workers reconnect by
 * themselves; every accepted job ends in exactly one terminal state. (A short outage here; the
 * 30-second one belongs to the chaos profile.)
 */
function describeOutage(name: string, start: () => Promise<Outage>, enabled: boolean): void {
  describe(`broker outage: ${name}`, { skip: !enabled }, () => {
    let server: Outage;
    let g: TestGaffer;
    before(async () => {
      server = await start();
      g = await startGaffer({
        broker: server.broker,
        autoscaler: { intervalMs: 100 },
        jobTypes: {
          work: {
            queue: `outage-${process.pid}`,
            worker: { handler: 'test/e2e/fixtures/handlers.ts#row', env: { ROW_DELAY_MS: '5' } },
            concurrency: 4,
            scaling: { min: 1, max: 2 },
          },
        },
      });
    });
    after(async () => {
      await g?.close();
      await server?.stop();
    });

    const submit = (i: number) =>
      g.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        payload: { type: 'work', payload: { id: String(i) } },
      });

    test('down: 503 with Retry-After, nothing half-accepted; back up: every accepted job completes once', async () => {
      let accepted = 0;
      for (let i = 0; i < 300; i++) if ((await submit(i)).statusCode === 201) accepted++;
      assert.equal(accepted, 300);

      await server.down();
      const refused = await submit(1000);
      assert.equal(refused.statusCode, 503, refused.body);
      assert.equal(refused.json().error.code, 'GAFFER_UNAVAILABLE');
      assert.ok(refused.headers['retry-after']);
      await server.up();

      // Submissions succeed again once gaffer's connection is back. A client retries after
      // Retry-After; this one after a tenth of it, to keep the test short.
      for (let i = 300; i < 400; i++) {
        let res = await submit(i);
        for (let tries = 0; res.statusCode === 503 && tries < 200; tries++) {
          await new Promise((r) => setTimeout(r, Number(res.headers['retry-after'] ?? 1) * 100));
          res = await submit(i);
        }
        assert.equal(res.statusCode, 201, res.body);
        accepted++;
      }

      await until(g, async () => (await countByState(g, 'work'))['succeeded'] === accepted, [
        'job:succeeded',
        'job:retrying',
      ]);
      const byState = await countByState(g, 'work');
      assert.deepEqual(
        byState,
        { succeeded: accepted },
        'every accepted job ended once; the refused one left no record',
      );
    });
  });
}

describeOutage(
  'rabbitmq (app stopped and started)',
  async () => {
    const rabbit = await startRabbitMQ();
    return {
      broker: { kind: 'rabbitmq', url: rabbit.url },
      down: async () => void (await rabbit.ctl(['stop_app'])),
      up: async () => void (await rabbit.ctl(['start_app'])),
      stop: () => rabbit.stop(),
    };
  },
  serviceAvailable('rabbitmq-server'),
);

describeOutage(
  'redis (server frozen and resumed)',
  async () => {
    const redis = await startRedis();
    return {
      broker: { kind: 'redis', url: redis.url },
      down: async () => redis.pause(),
      up: async () => redis.resume(),
      stop: () => redis.stop(),
    };
  },
  serviceAvailable('redis-server'),
);
