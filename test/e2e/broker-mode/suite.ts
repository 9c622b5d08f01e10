import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Broker } from '../../../src/brokers/broker.ts';
import {
  countByState,
  multipart,
  startGaffer,
  until,
  type TestGaffer,
} from '../../helpers/gaffer.ts';

export interface BrokerModeSetup {
  /** The `broker` section of gaffer's config. */
  config(): Record<string, unknown>;
  /** A separate connection to the same broker, to read its residue after the run. */
  connect(g: TestGaffer): Promise<Broker>;
}

/**
 * Broker mode end to end, the same on every broker: jobs are published after commit, workers get
 * job ids from the broker, claim them through gaffer and ack each message once its job is done here.
 */
export function describeBrokerMode(
  name: string,
  setup: () => Promise<BrokerModeSetup>,
  options: { skip?: boolean } = {},
): void {
  describe(`broker mode: ${name}`, { skip: options.skip ?? false }, () => {
    let g: TestGaffer;
    let s: BrokerModeSetup;
    before(async () => {
      s = await setup();
      g = await startGaffer({
        broker: s.config(),
        autoscaler: { intervalMs: 100 },
        // No sweep fires on its own during the run: the republish test calls it at chosen times.
        leases: { ttlMs: 600_000, sweepMs: 300_000 },
        jobTypes: {
          row: {
            queue: `rows-${process.pid}`,
            worker: { handler: 'test/e2e/fixtures/handlers.ts#row' },
            concurrency: 4,
            scaling: { min: 0, max: 3, burst: 3, threshold: 10 },
          },
          unserved: {
            queue: `unserved-${process.pid}`,
            worker: { handler: 'test/e2e/fixtures/handlers.ts#row' },
            scaling: { min: 0, max: 0 },
          },
          later: {
            queue: `later-${process.pid}`,
            worker: { handler: 'test/e2e/fixtures/handlers.ts#row' },
            scaling: { min: 0, max: 0 },
          },
          stuck: {
            queue: `stuck-${process.pid}`,
            worker: { handler: 'test/e2e/fixtures/handlers.ts#stuckOnce' },
            retry: { maxAttempts: 3, backoffMs: 0 },
            scaling: { min: 0, max: 1 },
          },
        },
      });
    });
    after(() => g?.close());

    test('a 2,000-row upload runs through the broker; nothing is left in it afterwards', async () => {
      const csv = ['id,name', ...Array.from({ length: 2000 }, (_, i) => `${i},n${i}`)].join('\n');
      const res = await g.app.inject({
        method: 'POST',
        url: '/v1/batches?type=row',
        ...multipart('rows.csv', csv),
      });
      assert.equal(res.statusCode, 201, res.body);
      await until(g, async () => (await countByState(g, 'row'))['succeeded'] === 2000, [
        'job:succeeded',
      ]);
      // Retire the (now idle) workers: once they are gone, every message must have been acked.
      g.clock.advance(31_000);
      g.orch.loop.poke();
      await until(g, () => g.orch.gateway.workers('row').length === 0, [
        'worker:stopped',
        'scaler:decision',
      ]);
      const broker = await s.connect(g);
      try {
        const queue = g.orch.catalog.type('row')!.queue;
        let stats = await broker.stats(queue);
        // Broker statistics trail the acks (RabbitMQ refreshes them on an interval): re-read, bounded.
        for (let i = 0; i < 100 && (stats.ready !== 0 || stats.unacked !== 0); i++) {
          await new Promise((r) => setTimeout(r, 50));
          stats = await broker.stats(queue);
        }
        assert.deepEqual([stats.ready, stats.unacked], [0, 0]);
      } finally {
        await broker.close();
      }
    });

    test('a job whose message went missing is published again after the grace, once', async () => {
      const { job } = (
        await g.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type: 'unserved' } })
      ).json();
      const queue = g.orch.catalog.type('unserved')!.queue;
      const broker = await s.connect(g);
      try {
        assert.equal(await takeOne(broker, queue), job.id, 'the message is taken away');
        assert.equal(await g.orch.republishMissing(), 0, 'not within the grace');
        g.clock.advance(31_000);
        assert.equal(await g.orch.republishMissing(), 1, 'the missing one, after the grace');
        assert.equal(await g.orch.republishMissing(), 0, 'once: its message is back');
        assert.equal(await takeOne(broker, queue), job.id);
      } finally {
        await broker.close();
      }
    });

    test('a delayed job is published when it falls due, not at submit', async () => {
      const submit = async (payload: object) =>
        (await g.app.inject({ method: 'POST', url: '/v1/jobs', payload })).json<{
          job: { id: string };
        }>().job.id;
      // Messages earlier tests took away are published again first: the counts below are ours.
      await g.orch.republishMissing();
      const delayed = await submit({ type: 'later', delay: '60s' });
      const now = await submit({ type: 'later' });
      const queue = g.orch.catalog.type('later')!.queue;
      const broker = await s.connect(g);
      try {
        assert.equal(await takeOne(broker, queue), now, 'the due job alone was published');
        await g.orch.service.cancel(now); // so the republish counts below are the delayed job's
        assert.equal(await g.orch.republishMissing(), 0, 'not due yet: nothing to publish');
        g.clock.advance(60_000);
        assert.equal(await g.orch.republishMissing(), 1, 'due: published by the due sweep');
        assert.equal(await g.orch.republishMissing(), 0, 'once');
        assert.equal(await takeOne(broker, queue), delayed);
      } finally {
        await broker.close();
      }
    });

    test('kill -9 of a broker-fed worker mid-job: the job is retried through the broker and completes', async () => {
      const { job } = (
        await g.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type: 'stuck' } })
      ).json();
      await g.orch.events.once('job:started', ({ job: j }) => j.id === job.id);
      await until(g, () => g.orch.gateway.workers('stuck')[0]?.pid != null, ['worker:state']);
      process.kill(g.orch.gateway.workers('stuck')[0]!.pid!, 'SIGKILL');
      await until(g, async () => (await g.orch.service.get(job.id)).state === 'succeeded', [
        'job:succeeded',
        'job:retrying',
      ]);
      assert.equal((await g.orch.service.get(job.id)).attempt, 2);
    });
  });
}

/** Consumes one message of `queue` and acks it: the broker no longer holds it. */
async function takeOne(broker: Broker, queue: string): Promise<string> {
  let got!: (id: string) => void;
  const taken = new Promise<string>((resolve) => (got = resolve));
  const sub = await broker.consume(queue, { prefetch: 1 }, (d) => {
    void d.ack().then(() => got(d.message.jobId));
  });
  const id = await taken;
  await sub.cancel();
  return id;
}
