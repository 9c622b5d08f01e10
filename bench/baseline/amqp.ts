import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { atRate, inLanes, perSecond } from '../lib.ts';

/**
 * The RabbitMQ baseline: raw amqplib with gaffer's durability — a durable quorum queue, persistent
 * messages, publisher confirms, manual acks, prefetch 50 — 50 publishes in flight while one
 * consumer process acks every message. No job record anywhere: the floor gaffer is measured against.
 */
export async function benchAmqp(url: string, n: number): Promise<{ submit: number; e2e: number }> {
  const conn = await amqp.connect(url);
  const ch = await conn.createConfirmChannel();
  const queue = `bench-${process.pid}-${Date.now()}`;
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const child = fork(fileURLToPath(import.meta.url), ['consumer', url, queue, String(n)]);
  await new Promise((resolve) => child.once('message', resolve));
  const done = new Promise((resolve) => child.once('message', resolve));
  const t0 = performance.now();
  await inLanes(
    n,
    50,
    (i) =>
      new Promise<void>((resolve, reject) =>
        ch.sendToQueue(queue, Buffer.from(JSON.stringify({ i })), { persistent: true }, (err) =>
          err ? reject(err) : resolve(),
        ),
      ),
  );
  const submit = perSecond(n, performance.now() - t0);
  await done;
  const e2e = perSecond(n, performance.now() - t0);
  child.kill();
  await ch.deleteQueue(queue);
  await conn.close();
  return { submit, e2e };
}

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes. */
const epochNow = () => performance.timeOrigin + performance.now();

/**
 * Latency at a steady rate: `n` confirmed publishes at `rate` per second (open loop), each
 * measured from when it was due until the consumer process acked it.
 */
export async function latencyAmqp(url: string, rate: number, n: number): Promise<number[]> {
  const conn = await amqp.connect(url);
  const ch = await conn.createConfirmChannel();
  const queue = `lat-${process.pid}-${Date.now()}`;
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const child = fork(fileURLToPath(import.meta.url), ['consumer', url, queue, String(n)]);
  await new Promise((resolve) => child.once('message', resolve));
  const done = new Promise<number[]>((resolve) =>
    child.once('message', (m) => resolve(m as number[])),
  );
  const origin = performance.timeOrigin;
  await atRate(rate, n, (_, due) => {
    const body = Buffer.from(JSON.stringify({ due: origin + due }));
    ch.sendToQueue(queue, body, { persistent: true }, () => {});
  });
  const latencies = await done;
  child.kill();
  await ch.deleteQueue(queue);
  await conn.close();
  return latencies;
}

async function consumer(url: string, queue: string, n: number): Promise<void> {
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  await ch.prefetch(50);
  let done = 0;
  const latencies: number[] = [];
  await ch.consume(queue, (msg) => {
    if (!msg) return;
    const { due } = JSON.parse(msg.content.toString()) as { due?: number };
    ch.ack(msg);
    if (due !== undefined) latencies.push(epochNow() - due);
    if (++done === n) process.send!(due === undefined ? 'done' : latencies);
  });
  process.send!('ready');
}

if (process.argv[2] === 'consumer') {
  await consumer(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
}
