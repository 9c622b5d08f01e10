import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Broker } from '../../src/brokers/broker.ts';
import { BrokerUnavailableError, hasDeadLettering } from '../../src/brokers/broker.ts';
import { createRedisBroker } from '../../src/brokers/redis/index.ts';
import type { RedisBrokerOptions } from '../../src/brokers/redis/index.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import { startRedis } from '../helpers/servers/redis.ts';
import { collect, describeBrokerContract, settled } from './broker.contract.ts';

if (serviceAvailable('redis-server')) {
  const server = await startRedis();
  const open: Broker[] = [];
  const connect = async (options: Partial<RedisBrokerOptions> = {}) => {
    const b = await createRedisBroker({ url: server.url, ...options });
    open.push(b);
    return b;
  };
  after(async () => {
    for (const b of open) await b.close().catch(() => {});
    await server.stop();
  });

  describeBrokerContract('redis streams', () => connect());

  describe('Redis broker', () => {
    test('messages of a consumer that went silent are reclaimed after the visibility timeout', async () => {
      const q = `stall-${randomUUID().slice(0, 8)}`;
      const b = await connect({ visibilityTimeoutMs: 300 });
      await b.declare(q);
      await b.publish(q, [{ jobId: 's1' }, { jobId: 's2' }, { jobId: 'later' }]);
      // Another process takes two and is killed without cancel or close: no hand-back happens.
      const child = spawn(
        process.execPath,
        ['--input-type=module', '-e', CONSUMER_CHILD, server.url, q, '2'],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const lines = createInterface({ input: child.stdout });
      const [line] = (await once(lines, 'line')) as [string];
      assert.deepEqual(JSON.parse(line), ['s1', 's2']);
      child.kill('SIGKILL');
      await once(child, 'exit');
      const stalled = await settled(b, q, (s) => s.unacked === 2);
      assert.equal(stalled.ready, 1);
      assert.equal(stalled.unacked, 2);

      const inbox = collect();
      const sub = await b.consume(q, { prefetch: 3 }, inbox.push);
      const got = await inbox.take(3);
      const byId = new Map(got.map((d) => [d.message.jobId, d]));
      assert.deepEqual([...byId.keys()].sort(), ['later', 's1', 's2']);
      assert.equal(byId.get('s1')!.redelivered, true);
      assert.equal(byId.get('s2')!.redelivered, true);
      assert.equal(byId.get('later')!.redelivered, false);
      for (const d of got) await d.ack();
      await sub.cancel();
      assert.deepEqual(await settled(b, q, (s) => s.consumers === 0), {
        ready: 0,
        unacked: 0,
        consumers: 0,
      });
      // The dead process's consumer is still in the group (nothing pending, idle): the next
      // subscription's first tick deletes it.
      const again = await b.consume(q, { prefetch: 1 }, () => {});
      await again.cancel();
      assert.equal(await server.cli(['XINFO', 'CONSUMERS', `gaffer:q:${q}`, 'gaffer']), '');
    });

    test('publish while Redis is frozen rejects with BrokerUnavailableError, and works after', async () => {
      const q = `frozen-${randomUUID().slice(0, 8)}`;
      const b = await connect({ commandTimeoutMs: 300 });
      await b.declare(q);
      server.pause();
      try {
        await assert.rejects(b.publish(q, [{ jobId: 'maybe' }]), BrokerUnavailableError);
      } finally {
        server.resume();
      }
      await b.publish(q, [{ jobId: 'sure' }]);
      // The rejected write was still in the socket and lands after the resume: a publish that
      // rejected may have happened (gaffer deletes those jobs; the message is then acked unrun).
      const inbox = collect();
      const sub = await b.consume(q, { prefetch: 5 }, inbox.push);
      const got = await inbox.take(2);
      assert.deepEqual(got.map((d) => d.message.jobId).sort(), ['maybe', 'sure']);
      for (const d of got) await d.ack();
      await sub.cancel();
    });

    test('the consume loop survives its connections being killed', async () => {
      const q = `killed-${randomUUID().slice(0, 8)}`;
      const b = await connect();
      await b.declare(q);
      const inbox = collect();
      const sub = await b.consume(q, { prefetch: 2 }, inbox.push);
      await b.publish(q, [{ jobId: 'before' }]);
      const [d1] = await inbox.take(1);
      await d1!.ack();
      const killed = Number(await server.cli(['CLIENT', 'KILL', 'TYPE', 'normal']));
      assert.ok(killed >= 2, `killed ${killed} connections`);
      // A new broker publishes (this file's other connections are reconnecting too).
      const p = await connect();
      await p.publish(q, [{ jobId: 'after' }]);
      const [d2] = await inbox.take(1);
      assert.equal(d2!.message.jobId, 'after');
      await d2!.ack();
      await sub.cancel();
      assert.deepEqual(await settled(b, q, (s) => s.unacked === 0 && s.consumers === 0), {
        ready: 0,
        unacked: 0,
        consumers: 0,
      });
    });

    test('an ack that fails while Redis is down holds no slot; the message is acked or comes back', async () => {
      const q = `restart-${randomUUID().slice(0, 8)}`;
      const b = await connect({ commandTimeoutMs: 300 });
      await b.declare(q);
      const inbox = collect();
      // prefetch 1: a slot leaked by the failed ack would stop every later delivery.
      const sub = await b.consume(q, { prefetch: 1 }, inbox.push);
      await b.publish(q, [{ jobId: 'held' }]);
      const [d1] = await inbox.take(1);
      await server.shutdown();
      await assert.rejects(d1!.ack(), BrokerUnavailableError);
      await server.restart();
      const p = await connect();
      await p.publish(q, [{ jobId: 'next' }]);
      // The timed-out ack may still land after the restart (it was queued on the connection);
      // if it did not, the entry is read back from the consumer's own history. Either way the
      // subscription goes on: 'next' arrives, and nothing is left behind.
      const seen: string[] = [];
      while (!seen.includes('next')) {
        const [d] = await inbox.take(1);
        seen.push(d!.message.jobId);
        await d!.ack();
      }
      assert.ok(
        seen.every((id) => id === 'held' || id === 'next'),
        seen.join(),
      );
      await sub.cancel();
      assert.deepEqual(await settled(b, q, (st) => st.unacked === 0 && st.consumers === 0), {
        ready: 0,
        unacked: 0,
        consumers: 0,
      });
    });

    test('nack without requeue dead-letters the message, redelivered, with its job id', async () => {
      const b = await connect();
      assert.ok(hasDeadLettering(b));
      const q = `dl-${randomUUID().slice(0, 8)}`;
      await b.declare(q);
      await b.publish(q, [{ jobId: 'poison' }]);
      const inbox = collect();
      const sub = await b.consume(q, { prefetch: 1 }, inbox.push);
      const [d] = await inbox.take(1);
      await d!.nack(false);
      await d!.nack(false); // idempotent
      await sub.cancel();
      const dlq = b.deadLetterQueue(q);
      assert.equal((await settled(b, dlq, (s) => s.ready === 1)).ready, 1);
      const dead = collect();
      const dsub = await b.consume(dlq, { prefetch: 1 }, dead.push);
      const [x] = await dead.take(1);
      assert.equal(x!.message.jobId, 'poison');
      assert.equal(x!.redelivered, true);
      await x!.ack();
      await dsub.cancel();
      assert.deepEqual(await b.stats(q), { ready: 0, unacked: 0, consumers: 0 });
    });

    test('cancel keeps held deliveries ackable; close hands them back', async () => {
      const a = await connect();
      const b = await connect();
      const q = `cancel-${randomUUID().slice(0, 8)}`;
      await a.declare(q);
      await a.publish(q, [{ jobId: 'k1' }, { jobId: 'k2' }, { jobId: 'k3' }]);
      const inbox = collect();
      const sub = await a.consume(q, { prefetch: 2 }, inbox.push);
      const [k1, k2] = await inbox.take(2);
      await sub.cancel();
      assert.deepEqual(await settled(a, q, (s) => s.consumers === 0), {
        ready: 1,
        unacked: 2,
        consumers: 0,
      });
      await k1!.ack();
      await a.close();
      await k2!.ack(); // after close: a no-op
      const inboxB = collect();
      const subB = await b.consume(q, { prefetch: 5 }, inboxB.push);
      const got = await inboxB.take(2);
      assert.deepEqual(got.map((d) => [d.message.jobId, d.redelivered]).sort(), [
        ['k2', true],
        ['k3', false],
      ]);
      for (const d of got) await d.ack();
      await subB.cancel();
    });

    test('no residue: no pending entries, no consumers left in any group', async () => {
      const keys = (await server.cli(['--scan', '--pattern', 'gaffer:q:*'])).split('\n');
      assert.ok(keys.length > 5);
      for (const key of keys) {
        // The contract's 'queues are isolated' test leaves one message in its other queue.
        const len = Number(await server.cli(['XLEN', key]));
        assert.ok(len <= 1, `${key} holds ${len}`);
        const pending = (await server.cli(['XPENDING', key, 'gaffer'])).split('\n')[0];
        assert.equal(pending, '0', `${key} has pending entries`);
        const consumers = await server.cli(['XINFO', 'CONSUMERS', key, 'gaffer']);
        assert.equal(consumers, '', `${key} still lists consumers`);
      }
    });
  });
}

/** A separate process: consumes `n` messages of a queue, prints their ids, holds them. */
const CONSUMER_CHILD = `
const [url, q, n] = process.argv.slice(1);
const { createRedisBroker } = await import(${JSON.stringify(
  fileURLToPath(new URL('../../src/brokers/redis/index.ts', import.meta.url)),
)});
const b = await createRedisBroker({ url, visibilityTimeoutMs: 300 });
const got = [];
await b.consume(q, { prefetch: Number(n) }, (d) => {
  got.push(d.message.jobId);
  if (got.length === Number(n)) console.log(JSON.stringify(got));
});
`;
