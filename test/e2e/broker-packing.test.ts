import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRabbitMQBroker } from '../../src/brokers/rabbitmq/index.ts';
import { settled } from '../brokers/broker.contract.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { startRabbitMQ, type RabbitMQServer } from '../helpers/servers/rabbitmq.ts';

/**
 * Broker mode on RabbitMQ packs work onto the earliest-started workers (consumer priorities), as
 * the gateway does without a broker: under a steady trickle one worker runs everything, the
 * surplus goes idle and the autoscaler retires it. Spread round robin, every worker would run a
 * job every few seconds and none would stay idle long enough to be retired.
 */
describe(
  'broker mode on RabbitMQ: dispatch packs',
  { skip: !serviceAvailable('rabbitmq-server') },
  () => {
    let rabbit: RabbitMQServer;
    let g: TestGaffer;
    before(async () => {
      rabbit = await startRabbitMQ();
      g = await startGaffer({
        broker: { kind: 'rabbitmq', url: rabbit.url },
        autoscaler: { intervalMs: 100 },
        leases: { ttlMs: 600_000, sweepMs: 300_000 },
        jobTypes: {
          pack: {
            queue: `pack-${process.pid}`,
            worker: { handler: 'test/e2e/fixtures/handlers.ts#blockFirst' },
            // Room for a next job while the last one's ack is on its way: packing, not luck.
            concurrency: 2,
            scaling: {
              min: 0,
              max: 3,
              threshold: 0,
              burst: 3,
              drainTargetSeconds: 0,
              idleSeconds: 30,
              demandWindowSeconds: 4,
            },
          },
        },
      });
    });
    after(async () => {
      await g?.close();
      await rabbit?.stop();
    });

    const submit = async (payload: object) =>
      (
        await g.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type: 'pack', payload } })
      ).json<{ job: { id: string } }>().job.id;

    test('under a steady trickle one worker runs every job and the surplus workers are retired', async () => {
      const owner = new Map<string, string>();
      const offStarted = g.orch.events.on('job:started', ({ job }) => {
        if (job.leaseOwner) owner.set(job.id, job.leaseOwner);
      });
      const retired: string[] = [];
      const stopped = new Set<string>();
      const offDecision = g.orch.events.on('scaler:decision', ({ decision }) => {
        if (decision.type === 'pack') retired.push(...decision.retire);
      });
      const offStopped = g.orch.events.on('worker:stopped', ({ worker }) => {
        if (worker.type === 'pack') stopped.add(worker.id);
      });
      try {
        // Three workers, every slot taken by a job that blocks until it is cancelled.
        const blocked = await Promise.all(Array.from({ length: 6 }, () => submit({ block: true })));
        await until(g, () => blocked.every((id) => owner.has(id)), ['job:started']);
        const workers = g.orch.gateway.workers('pack').map((w) => w.id);
        assert.equal(workers.length, 3);
        // Every slot free before the trickle, on RabbitMQ's side too: a cancelled job's ack reaches
        // it after gaffer saw the job end, and until then its worker has less prefetch room. No
        // event says so, and the management API's counts trail by about a second, so: first see
        // the six held (a count from after the deliveries), then none (re-read, bounded).
        const broker = await createRabbitMQBroker({
          url: rabbit.url,
          managementUrl: rabbit.managementUrl,
        });
        try {
          const queue = g.orch.catalog.type('pack')!.queue;
          const held = await settled(broker, queue, (st) => st.unacked === 6);
          assert.deepEqual([held.ready, held.unacked], [0, 6]);
          for (const id of blocked) await g.orch.service.cancel(id);
          const free = await settled(broker, queue, (st) => st.unacked === 0);
          assert.deepEqual([free.ready, free.unacked], [0, 0]);
        } finally {
          await broker.close();
        }
        await until(g, () => g.orch.gateway.workers('pack').every((w) => w.active === 0), [
          'job:cancelled',
          'worker:state',
        ]);

        // The trickle: one job at a time, 1.5 s apart on gaffer's clock (under the 5 s grace).
        const trickle: string[] = [];
        const owners = () => new Set(trickle.map((id) => owner.get(id)));
        for (let i = 0; i < 40; i++) {
          const id = await submit({});
          trickle.push(id);
          await until(g, async () => (await g.orch.service.get(id)).state === 'succeeded', [
            'job:succeeded',
          ]);
          const busy = owner.get(id)!;
          if (workers.every((w) => w === busy || stopped.has(w))) break;
          g.clock.advance(1500);
          g.orch.loop.poke();
        }
        const ran = [...owners()];
        assert.equal(ran.length, 1, `every trickle job ran on one worker, not ${ran.join(', ')}`);
        const [packed] = ran;
        const surplus = workers.filter((w) => w !== packed).sort();
        assert.deepEqual(
          [...stopped].sort(),
          surplus,
          `the two idle workers stopped (${trickle.length} trickle jobs)`,
        );
        assert.deepEqual([...new Set(retired)].sort(), surplus, 'retired by the autoscaler');
        assert.deepEqual(
          g.orch.gateway.workers('pack').map((w) => w.id),
          [packed],
          'the busy one still runs',
        );
      } finally {
        offStarted();
        offDecision();
        offStopped();
      }
    });
  },
);
