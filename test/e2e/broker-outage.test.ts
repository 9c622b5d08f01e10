import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { startRabbitMQ } from '../helpers/servers/rabbitmq.ts';
import { startRedis } from '../helpers/servers/redis.ts';
import { countByState, startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

/**
 * A broker outage: the broker server is stopped in the middle of a 5,000-job run and started
 * again after 30 s (GAFFER_OUTAGE_MS overrides it). While it is down the API answers 503 with
 * Retry-After and keeps no record of a refused job; gaffer and its workers reconnect by
 * themselves; the client retries each refused job until it is accepted, and every job ends in
 * exactly one terminal state. The outage is the fault's length, not a wait for an event.
 */
const JOBS = 5000;
const OUTAGE_MS = Number(process.env['GAFFER_OUTAGE_MS'] ?? 30_000);
/** Client lanes submitting at once. */
const LANES = 8;

interface Server {
  /** gaffer's `broker` config for this server. */
  broker: Record<string, unknown>;
  shutdown(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function describeOutage(name: string, start: () => Promise<Server>, enabled: boolean): void {
  describe(`broker outage: ${name}`, { skip: !enabled }, () => {
    let server: Server;
    let g: TestGaffer;
    before(async () => {
      server = await start();
      g = await startGaffer({
        broker: server.broker,
        autoscaler: { intervalMs: 100 },
        jobTypes: {
          work: {
            queue: `outage-${process.pid}`,
            worker: { handler: 'test/e2e/fixtures/handlers.ts#row', env: { ROW_DELAY_MS: '2' } },
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

    test(`stopped for ${OUTAGE_MS / 1000} s mid-run: 503 + Retry-After while down, then all ${JOBS} jobs end once`, async () => {
      let accepted = 0;
      let refused = 0;
      let outage: { down: Promise<void>; over: Promise<void> } | null = null;
      const submit = async (i: number) => {
        for (;;) {
          const res = await g.app.inject({
            method: 'POST',
            url: '/v1/jobs',
            payload: { type: 'work', payload: { id: String(i) } },
          });
          if (res.statusCode === 201) return;
          assert.equal(res.statusCode, 503, res.body);
          assert.equal(res.json().error.code, 'GAFFER_UNAVAILABLE');
          assert.ok(Number(res.headers['retry-after']) > 0, 'Retry-After is set');
          refused++;
          // A client waits Retry-After; this one a tenth of it, to keep the run short.
          await new Promise((r) => setTimeout(r, Number(res.headers['retry-after']) * 100));
        }
      };
      let next = 0;
      const lane = async () => {
        while (next < JOBS) {
          await submit(next++);
          if (++accepted === JOBS / 2) outage = runOutage(server);
          // The second half is submitted once the server is down, so it meets the outage
          // whatever the server's shutdown takes.
          if (outage) await outage.down;
        }
      };
      await Promise.all(Array.from({ length: LANES }, lane));
      await outage!.over;

      assert.ok(refused > 0, 'submissions during the outage were refused');
      await until(g, async () => (await countByState(g, 'work'))['succeeded'] === JOBS, [
        'job:succeeded',
        'job:retrying',
      ]);
      assert.deepEqual(
        await countByState(g, 'work'),
        { succeeded: JOBS },
        'every job ended once; no refused submission left a record',
      );
    });
  });
}

/** Stops the server (`down` settles once it is down) and starts it again OUTAGE_MS later. */
function runOutage(server: Server): { down: Promise<void>; over: Promise<void> } {
  const down = server.shutdown();
  const over = down.then(async () => {
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await server.restart();
  });
  return { down, over };
}

describeOutage(
  'rabbitmq (node stopped and started)',
  async () => {
    const rabbit = await startRabbitMQ();
    return { ...rabbit, broker: { kind: 'rabbitmq', url: rabbit.url } };
  },
  serviceAvailable('rabbitmq-server'),
);

describeOutage(
  'redis (server shut down and started)',
  async () => {
    const redis = await startRedis();
    return { ...redis, broker: { kind: 'redis', url: redis.url } };
  },
  serviceAvailable('redis-server'),
);
