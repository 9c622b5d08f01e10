import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { honoursConsumerPriority } from '../../src/brokers/broker.ts';
import type { Broker, Delivery, QueueStats } from '../../src/brokers/broker.ts';

/**
 * The contract every broker passes (src/brokers/broker.ts states it). `makeBroker` opens a new
 * connection to the same server each call, so a test can drop one consumer's connection while
 * another keeps going. Each test uses its own queue name.
 */
export function describeBrokerContract(name: string, makeBroker: () => Promise<Broker>): void {
  describe(`Broker contract: ${name}`, () => {
    const open: Broker[] = [];
    const connect = async () => {
      const b = await makeBroker();
      open.push(b);
      return b;
    };
    after(async () => {
      for (const b of open) await b.close().catch(() => {});
    });
    const fresh = async (b: Broker) => {
      const q = `contract-${randomUUID().slice(0, 8)}`;
      await b.declare(q);
      return q;
    };
    const ids = (n: number, from = 0) =>
      Array.from({ length: n }, (_, i) => ({ jobId: `job-${from + i}` }));

    test('declare is idempotent; a published message is delivered once and acked', async () => {
      const b = await connect();
      const q = await fresh(b);
      await b.declare(q);
      await b.publish(q, [{ jobId: 'a' }]);
      const inbox = collect();
      const sub = await b.consume(q, { prefetch: 10 }, inbox.push);
      const [d] = await inbox.take(1);
      assert.equal(d!.message.jobId, 'a');
      await d!.ack();
      await d!.ack(); // idempotent
      await sub.cancel();
      assert.deepEqual(await settled(b, q, (s) => s.ready === 0 && s.unacked === 0), {
        ready: 0,
        unacked: 0,
        consumers: 0,
      });
    });

    test('one consumer with prefetch 1 receives messages in publish order', async () => {
      const b = await connect();
      const q = await fresh(b);
      await b.publish(q, ids(5));
      const inbox = collect();
      const sub = await b.consume(q, { prefetch: 1 }, inbox.push);
      const order: string[] = [];
      for (let i = 0; i < 5; i++) {
        const [d] = await inbox.take(1);
        order.push(d!.message.jobId);
        await d!.ack();
      }
      assert.deepEqual(
        order,
        ids(5).map((m) => m.jobId),
      );
      await sub.cancel();
    });

    test('prefetch bounds unacked deliveries; raising it delivers more; stats count ready and unacked', async () => {
      const b = await connect();
      const q = await fresh(b);
      await b.publish(q, ids(10));
      const inbox = collect();
      const sub = await b.consume(q, { prefetch: 3 }, inbox.push);
      const first = await inbox.take(3);
      assert.deepEqual(await settled(b, q, (s) => s.unacked === 3), {
        ready: 7,
        unacked: 3,
        consumers: 1,
      });
      assert.equal(inbox.size(), 0, 'no delivery past the prefetch');
      await sub.setPrefetch(5);
      const more = await inbox.take(2);
      assert.deepEqual(await settled(b, q, (s) => s.unacked === 5), {
        ready: 5,
        unacked: 5,
        consumers: 1,
      });
      for (const d of [...first, ...more]) await d.ack();
      const rest = await inbox.take(5);
      for (const d of rest) await d.ack();
      await sub.cancel();
      const seen = new Set([...first, ...more, ...rest].map((d) => d.message.jobId));
      assert.equal(seen.size, 10, 'every message delivered exactly once');
    });

    test('nack with requeue delivers the message again', async () => {
      const b = await connect();
      const q = await fresh(b);
      await b.publish(q, [{ jobId: 'again' }]);
      const inbox = collect();
      const sub = await b.consume(q, { prefetch: 1 }, inbox.push);
      const [d1] = await inbox.take(1);
      await d1!.nack(true);
      const [d2] = await inbox.take(1);
      assert.equal(d2!.message.jobId, 'again');
      await d2!.ack();
      await sub.cancel();
    });

    test('nack without requeue drops the message from the queue', async () => {
      const b = await connect();
      const q = await fresh(b);
      await b.publish(q, [{ jobId: 'poison' }, { jobId: 'fine' }]);
      const inbox = collect();
      const sub = await b.consume(q, { prefetch: 1 }, inbox.push);
      const [d1] = await inbox.take(1);
      await d1!.nack(false);
      const [d2] = await inbox.take(1);
      assert.equal(d2!.message.jobId, 'fine');
      await d2!.ack();
      await sub.cancel();
      assert.deepEqual(await settled(b, q, (s) => s.ready === 0 && s.unacked === 0), {
        ready: 0,
        unacked: 0,
        consumers: 0,
      });
    });

    test("a consumer's unacked messages go to another consumer when its connection closes", async () => {
      const a = await connect();
      const b = await connect();
      const q = await fresh(a);
      await a.publish(q, ids(4));
      const inboxA = collect();
      await a.consume(q, { prefetch: 4 }, inboxA.push);
      await inboxA.take(4); // held, never acked
      await a.close();
      const inboxB = collect();
      const sub = await b.consume(q, { prefetch: 4 }, inboxB.push);
      const again = await inboxB.take(4);
      assert.deepEqual(
        again.map((d) => d.message.jobId).sort(),
        ids(4)
          .map((m) => m.jobId)
          .sort(),
      );
      for (const d of again) await d.ack();
      await sub.cancel();
    });

    test("a cancelled subscription's unacked messages are ready again as soon as its broker closes", async () => {
      const a = await connect();
      const b = await connect();
      const q = await fresh(a);
      await a.publish(q, ids(3));
      const inboxA = collect();
      const subA = await a.consume(q, { prefetch: 3 }, inboxA.push);
      await inboxA.take(3); // held, never acked
      await subA.cancel(); // as a draining worker does before its jobs are done
      await a.close();
      // Ready at once, not after a visibility timeout: nothing holds them any more.
      assert.deepEqual(await settled(b, q, (s) => s.ready === 3 && s.unacked === 0), {
        ready: 3,
        unacked: 0,
        consumers: 0,
      });
      const inboxB = collect();
      const sub = await b.consume(q, { prefetch: 3 }, inboxB.push);
      for (const d of await inboxB.take(3)) await d.ack();
      await sub.cancel();
    });

    test('consumer priorities: the higher subscription gets every message it has room for, the lower the overflow', async (t) => {
      const b = await connect();
      if (!honoursConsumerPriority(b)) {
        t.skip(`${b.name} does not honour consumer priorities`);
        return;
      }
      const q = await fresh(b);
      const got: { to: 'high' | 'low'; d: Delivery }[] = [];
      const inbox = collect();
      const to = (name: 'high' | 'low') => (d: Delivery) => {
        got.push({ to: name, d });
        inbox.push(d);
      };
      // The lower one subscribes first, so a broker serving in subscription order would pick it.
      // Priorities as workers use them (minus the start time in ms): beyond 32 bits.
      const low = await b.consume(q, { prefetch: 5, priority: -1765130000001 }, to('low'));
      const high = await b.consume(q, { prefetch: 5, priority: -1765130000000 }, to('high'));
      // Sorted: the two subscriptions' deliveries may arrive interleaved in any order.
      const where = () => got.map((g) => `${g.d.message.jobId}:${g.to}`).sort();
      // Room in both: all to the higher one.
      await b.publish(q, ids(3));
      await inbox.take(3);
      assert.deepEqual(where(), ['job-0:high', 'job-1:high', 'job-2:high']);
      // It fills up to its prefetch; only what it has no room for goes to the lower one.
      await b.publish(q, ids(4, 3));
      await inbox.take(4);
      assert.deepEqual(where().slice(3), ['job-3:high', 'job-4:high', 'job-5:low', 'job-6:low']);
      for (const g of got) await g.d.ack();
      await low.cancel();
      await high.cancel();
    });

    test('queues are isolated', async () => {
      const b = await connect();
      const q1 = await fresh(b);
      const q2 = await fresh(b);
      await b.publish(q1, [{ jobId: 'one' }]);
      await b.publish(q2, [{ jobId: 'two' }]);
      const inbox = collect();
      const sub = await b.consume(q2, { prefetch: 5 }, inbox.push);
      const [d] = await inbox.take(1);
      assert.equal(d!.message.jobId, 'two');
      await d!.ack();
      await sub.cancel();
      assert.equal((await settled(b, q1, (s) => s.ready === 1)).ready, 1);
    });

    test('a batch of 2,000 messages is published with one confirm and all delivered', async () => {
      const b = await connect();
      const q = await fresh(b);
      await b.publish(q, ids(2000));
      const inbox = collect();
      const sub = await b.consume(q, { prefetch: 500 }, (d) => {
        inbox.push(d);
        void d.ack();
      });
      const all = await inbox.take(2000);
      assert.equal(new Set(all.map((d) => d.message.jobId)).size, 2000);
      await sub.cancel();
    });
  });
}

/** Deliveries as they arrive; `take(n)` resolves with the next n (no sleeping). */
export function collect() {
  const queue: Delivery[] = [];
  let waiter: { n: number; resolve: (d: Delivery[]) => void } | null = null;
  const check = () => {
    if (waiter && queue.length >= waiter.n) {
      const w = waiter;
      waiter = null;
      w.resolve(queue.splice(0, w.n));
    }
  };
  return {
    push: (d: Delivery) => {
      queue.push(d);
      check();
    },
    take: (n: number) =>
      new Promise<Delivery[]>((resolve) => {
        waiter = { n, resolve };
        check();
      }),
    size: () => queue.length,
  };
}

/**
 * Broker statistics are eventually consistent (RabbitMQ refreshes them on an interval), and no
 * event says they changed, so this re-reads them until `ok` holds — at most 100 reads, 50 ms apart.
 */
export async function settled(
  b: Broker,
  q: string,
  ok: (s: QueueStats) => boolean,
): Promise<QueueStats> {
  let s = await b.stats(q);
  for (let i = 0; i < 100 && !ok(s); i++) {
    await new Promise((r) => setTimeout(r, 50));
    s = await b.stats(q);
  }
  return s;
}
