import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { atRate, inLanes, perSecond } from '../lib.ts';

/**
 * The baseline: BullMQ on a private Redis, measured the same way as gaffer — bulk add in chunks
 * of 1,000, and end to end with 50 concurrent `add()` while one Worker process (concurrency 50)
 * completes no-op jobs.
 */
export async function benchBullmq(
  port: number,
  n: number,
): Promise<{ submit: number; e2e: number }> {
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
  const tag = `${process.pid}-${Date.now()}`;
  const qa = new Queue(`a-${tag}`, { connection });
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1000) {
    await qa.addBulk(
      Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
        name: 'noop',
        data: { i: i + j },
      })),
    );
  }
  const submit = perSecond(n, performance.now() - t0);
  await qa.obliterate({ force: true });
  await qa.close();

  const qc = new Queue(`c-${tag}`, { connection });
  const child = fork(fileURLToPath(import.meta.url), [
    'consumer',
    qc.name,
    String(n),
    String(port),
  ]);
  await new Promise((resolve) => child.once('message', resolve));
  const t1 = performance.now();
  const done = new Promise((resolve) => child.once('message', resolve));
  await inLanes(n, 50, (i) => qc.add('noop', { i }));
  await done;
  const e2e = perSecond(n, performance.now() - t1);
  child.kill();
  await qc.obliterate({ force: true });
  await qc.close();
  return { submit, e2e };
}

/** Epoch milliseconds with sub-millisecond resolution, comparable across processes. */
const epochNow = () => performance.timeOrigin + performance.now();

/**
 * Latency at a steady rate: `n` adds at `rate` per second (not awaited: open loop), each measured
 * from when it was due until the consumer process saw it completed.
 */
export async function latencyBullmq(port: number, rate: number, n: number): Promise<number[]> {
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
  const q = new Queue(`l-${process.pid}-${Date.now()}`, { connection });
  const child = fork(fileURLToPath(import.meta.url), ['consumer', q.name, String(n), String(port)]);
  await new Promise((resolve) => child.once('message', resolve));
  const done = new Promise<number[]>((resolve) =>
    child.once('message', (m) => resolve(m as number[])),
  );
  const origin = performance.timeOrigin;
  await atRate(rate, n, (_, due) => void q.add('noop', { due: origin + due }));
  const latencies = await done;
  child.kill();
  await q.obliterate({ force: true });
  await q.close();
  return latencies;
}

async function consumer(queue: string, n: number, port: number): Promise<void> {
  let done = 0;
  const latencies: number[] = [];
  const worker = new Worker(queue, async () => null, {
    connection: { host: '127.0.0.1', port, maxRetriesPerRequest: null },
    concurrency: 50,
  });
  worker.on('completed', (job) => {
    const due = (job.data as { due?: number }).due;
    if (due !== undefined) latencies.push(epochNow() - due);
    if (++done === n) process.send!(due === undefined ? 'done' : latencies);
  });
  await worker.waitUntilReady();
  process.send!('ready');
}

if (process.argv[2] === 'consumer') {
  await consumer(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]));
}
