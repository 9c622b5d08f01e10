import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { BrokerUnavailableError, hasDeadLettering } from '../../src/brokers/broker.ts';
import type { Broker, Delivery, QueueStats } from '../../src/brokers/broker.ts';
import { createRabbitMQBroker } from '../../src/brokers/rabbitmq/index.ts';
import type { RabbitMQOptions } from '../../src/brokers/rabbitmq/index.ts';
import { collect, describeBrokerContract, settled } from './broker.contract.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { startRabbitMQ } from '../helpers/servers/rabbitmq.ts';
import type { RabbitMQServer } from '../helpers/servers/rabbitmq.ts';

const available = serviceAvailable('rabbitmq-server');

describe('RabbitMQ broker', { skip: !available }, () => {
  let server: RabbitMQServer;
  /** Every queue these tests declare, for the residue check. */
  const queues: string[] = [];
  const brokers: Broker[] = [];

  before(async () => {
    server = await startRabbitMQ();
  });
  after(async () => {
    for (const b of brokers) await b.close().catch(() => {});
    await server?.stop();
  });

  const make = async (extra: Partial<RabbitMQOptions> = {}): Promise<Broker> => {
    const b = await createRabbitMQBroker({
      url: server.url,
      managementUrl: server.managementUrl,
      reconnectMinMs: 50,
      reconnectMaxMs: 500,
      publishTimeoutMs: 3_000,
      ...extra,
    });
    brokers.push(b);
    return b;
  };
  const fresh = async (b: Broker, prefix: string) => {
    const q = `${prefix}-${randomUUID().slice(0, 8)}`;
    await b.declare(q);
    queues.push(q);
    return q;
  };

  describeBrokerContract('rabbitmq (quorum)', () => make({ queueType: 'quorum' }));
  describeBrokerContract('rabbitmq (classic)', () => make({ queueType: 'classic' }));

  for (const queueType of ['quorum', 'classic'] as const) {
    describe(queueType, () => {
      test('nack without requeue lands in the dead-letter queue', async () => {
        const b = await make({ queueType });
        assert.ok(hasDeadLettering(b));
        const q = await fresh(b, `dlx-${queueType}`);
        const dead = b.deadLetterQueue(q);
        queues.push(dead);
        await b.publish(q, [{ jobId: 'poison' }]);
        const inbox = collect();
        const sub = await b.consume(q, { prefetch: 1 }, inbox.push);
        const [d] = await inbox.take(1);
        await d!.nack(false);
        await sub.cancel();

        const deadInbox = collect();
        const deadSub = await b.consume(dead, { prefetch: 1 }, deadInbox.push);
        const [dl] = await deadInbox.take(1);
        assert.equal(dl!.message.jobId, 'poison');
        await dl!.ack();
        await deadSub.cancel();
        assert.deepEqual(await settled(b, q, (s) => s.ready === 0 && s.unacked === 0), {
          ready: 0,
          unacked: 0,
          consumers: 0,
        });
      });

      test('publishing to an undeclared queue is returned and rejects', async () => {
        const b = await make({ queueType });
        await assert.rejects(
          b.publish(`never-declared-${randomUUID().slice(0, 8)}`, [{ jobId: 'x' }]),
          BrokerUnavailableError,
        );
        // The channel survives: a declared queue still takes messages.
        const q = await fresh(b, `after-return-${queueType}`);
        await b.publish(q, [{ jobId: 'y' }]);
        const inbox = collect();
        const sub = await b.consume(q, { prefetch: 1 }, inbox.push);
        const [d] = await inbox.take(1);
        assert.equal(d!.message.jobId, 'y');
        await d!.ack();
        await sub.cancel();
      });

      test('lowering the prefetch bounds deliveries to the new value', async () => {
        const b = await make({ queueType });
        const q = await fresh(b, `lower-${queueType}`);
        await b.publish(q, ids(10));
        const inbox = collect();
        const sub = await b.consume(q, { prefetch: 4 }, inbox.push);
        const first = await inbox.take(4);
        await sub.setPrefetch(2);
        for (const d of first) await d.ack();
        const next = await inbox.take(2);
        // The management API counts consumers on its own tick: a generation swap may show 0 briefly.
        const atRest = (s: QueueStats) => s.unacked === 2 && s.ready === 4 && s.consumers === 1;
        assert.deepEqual(await settled(b, q, atRest), {
          ready: 4,
          unacked: 2,
          consumers: 1,
        });
        assert.equal(inbox.size(), 0, 'no delivery past the lowered prefetch');
        for (const d of next) await d.ack();
        const rest: Delivery[] = [];
        for (let i = 0; i < 2; i++) {
          const two = await inbox.take(2); // the lowered prefetch: 2 at a time
          for (const d of two) await d.ack();
          rest.push(...two);
        }
        await sub.cancel();
        const seen = new Set([...first, ...next, ...rest].map((d) => d.message.jobId));
        assert.equal(seen.size, 10);
      });

      test('after the connection is force-closed the consumer resubscribes and gets every message', async () => {
        const b = await make({ queueType });
        const q = await fresh(b, `reconnect-${queueType}`);
        await b.publish(q, ids(6));
        const inbox = collect();
        const sub = await b.consume(q, { prefetch: 3 }, inbox.push);
        const held = await inbox.take(3); // unacked when the connection dies
        await server.ctl(['close_all_connections', 'gaffer test: forced close']);

        // Deliveries after the drop: the 3 held ones again (redelivered), then the other 3.
        const afterDrop: Delivery[] = [];
        while (new Set(afterDrop.map((d) => d.message.jobId)).size < 6) {
          const [d] = await inbox.take(1);
          afterDrop.push(d!);
          await d!.ack();
        }
        assert.deepEqual(
          [...new Set(afterDrop.map((d) => d.message.jobId))].sort(),
          ids(6)
            .map((m) => m.jobId)
            .sort(),
        );
        const redelivered = afterDrop.filter((d) => d.redelivered).map((d) => d.message.jobId);
        assert.deepEqual(
          redelivered.sort(),
          held.map((d) => d.message.jobId).sort(),
          'the held messages come back marked redelivered',
        );
        // Acking a delivery of the dead connection is a no-op, not an error.
        await held[0]!.ack();

        // The deliveries above came over the new connection, so publishing works again.
        await b.publish(q, [{ jobId: 'after-reconnect' }]);
        const [d] = await inbox.take(1);
        assert.equal(d!.message.jobId, 'after-reconnect');
        await d!.ack();
        await sub.cancel();
        assert.deepEqual(await settled(b, q, (s) => s.ready === 0 && s.unacked === 0), {
          ready: 0,
          unacked: 0,
          consumers: 0,
        });
      });
    });
  }

  test('publish while the node is stopped rejects with BrokerUnavailableError, and works after start_app', async () => {
    const b = await make({ queueType: 'quorum', publishTimeoutMs: 2_000 });
    const q = await fresh(b, 'stopped');
    const inbox = collect();
    const sub = await b.consume(q, { prefetch: 10 }, inbox.push);
    await server.ctl(['stop_app']);
    try {
      await assert.rejects(b.publish(q, [{ jobId: 'while-down' }]), BrokerUnavailableError);
    } finally {
      await server.ctl(['start_app']);
    }
    // A probe from a fresh connection reaches b's consumer only once b has reconnected and
    // resubscribed by itself: that delivery, not a timer, says b is back.
    const probe = await make({ queueType: 'quorum' });
    await probe.publish(q, [{ jobId: 'probe' }]);
    const [p] = await inbox.take(1);
    assert.equal(p!.message.jobId, 'probe');
    await p!.ack();

    await b.publish(q, [{ jobId: 'back-up' }]);
    const [d] = await inbox.take(1);
    assert.equal(d!.message.jobId, 'back-up');
    await d!.ack();
    await sub.cancel();
  });

  test('without a managementUrl, stats count ready and consumers through AMQP (unacked is 0)', async () => {
    const b = await make({ queueType: 'classic', managementUrl: undefined });
    const q = await fresh(b, 'amqp-stats');
    await b.publish(q, ids(3));
    assert.deepEqual(await settled(b, q, (s) => s.ready === 3), {
      ready: 3,
      unacked: 0,
      consumers: 0,
    });
    const inbox = collect();
    const sub = await b.consume(q, { prefetch: 1 }, inbox.push);
    const [d] = await inbox.take(1);
    assert.deepEqual(await settled(b, q, (s) => s.ready === 2), {
      ready: 2,
      unacked: 0, // not knowable over AMQP
      consumers: 1,
    });
    await d!.ack();
    for (let i = 0; i < 2; i++) {
      const [next] = await inbox.take(1); // prefetch 1: one at a time
      await next!.ack();
    }
    await sub.cancel();
  });

  test('no residue: every test queue is empty', async () => {
    const out = await server.ctl([
      'list_queues',
      'name',
      'messages_ready',
      'messages_unacknowledged',
    ]);
    const rows = new Map(
      out
        .trim()
        .split('\n')
        .map((line) => line.trim().split(/\s+/))
        .filter((cols) => cols.length === 3)
        .map(([name, ready, unacked]) => [
          name!,
          { ready: Number(ready), unacked: Number(unacked) },
        ]),
    );
    const leftovers = queues
      .map((q) => ({ q, counts: rows.get(q) }))
      .filter(({ counts }) => counts !== undefined && (counts.ready !== 0 || counts.unacked !== 0));
    assert.deepEqual(leftovers, []);
    assert.ok(
      queues.every((q) => rows.has(q)),
      'every test queue is listed',
    );
  });
});

const ids = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ jobId: `job-${from + i}` }));
