import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { benchKeyLimited, benchRateLimited, ratioOf } from './flow.ts';
import { benchGaffer } from './gaffer.ts';
import { latencyGaffer } from './latency.ts';
import { startRabbitMQ } from '../test/helpers/servers/rabbitmq.ts';
import { latencySummary, round, startRedis } from './lib.ts';

/**
 * `npm run bench [-- --n=20000 --rounds=3] [--brokers]`: gaffer (embedded) and BullMQ (Redis) in
 * the same run, rounds interleaved so machine noise spreads over both; prints medians and ratios.
 * Flow control in the same rounds: a type limited to `--rate-limit=500` starts/s running
 * `--rate-n=5000` queued jobs (its sustained starts/s, and the most in any 1 s window), and `n`
 * jobs over `--keys=1000` keys limited to `--key-running=2` in flight each (end to end against
 * the plain `NORMAL` row, and the most of one key seen in flight).
 * `--brokers` adds gaffer on Redis and on RabbitMQ beside raw amqplib, and a latency table: p50/p99
 * from due to completed at a steady `--rate=1000` jobs/s for `--lat-n=5000` jobs.
 *
 * Durability, like for like: gaffer NORMAL and BullMQ on Redis with AOF `everysec` both survive a
 * process crash and may lose the last moments on power loss; gaffer FULL survives power loss.
 */
const arg = (name: string, dflt: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const BULLMQ = 'BullMQ (Redis, AOF everysec)';
const AMQP = 'raw amqplib (quorum, confirms)';
const n = arg('n', 20_000);
const rounds = arg('rounds', 3);
const rate = arg('rate', 1000);
const latN = arg('lat-n', 5000);
const rateLimit = arg('rate-limit', 500);
const rateN = arg('rate-n', 5000);
const keys = arg('keys', 1000);
const keyRunning = arg('key-running', 2);
const PLAIN = 'gaffer embedded (synchronous=NORMAL)';
const RATED = `gaffer, rate limit ${rateLimit} starts/s`;
const KEYED = `gaffer, ${keys} keys, ${keyRunning} running per key`;

try {
  execFileSync('redis-server', ['--version']);
} catch {
  console.error('redis-server is missing: run `bash scripts/install-deps.sh --bench` first');
  process.exit(2);
}

// Loaded by URL: the baseline's dependencies are installed on demand in bench/baseline, outside
// gaffer's own dependency tree, so the type checker does not follow this import.
type BenchFn = (port: number, n: number) => Promise<{ submit: number; e2e: number }>;
const { benchBullmq, latencyBullmq } = (await import(
  new URL('./baseline/bullmq.ts', import.meta.url).href
)) as {
  benchBullmq: BenchFn;
  latencyBullmq: (port: number, rate: number, n: number) => Promise<number[]>;
};

const results: Record<string, { submit: number[]; e2e: number[] }> = {};
const add = (name: string, r: { submit: number; e2e: number }) => {
  results[name] ??= { submit: [], e2e: [] };
  results[name].submit.push(r.submit);
  results[name].e2e.push(r.e2e);
  console.log(
    `  ${name.padEnd(34)} submit ${String(r.submit).padStart(7)} jobs/s   end to end ${String(r.e2e).padStart(7)} jobs/s`,
  );
};

const { benchAmqp, latencyAmqp } = (await import(
  new URL('./baseline/amqp.ts', import.meta.url).href
)) as {
  benchAmqp: (url: string, n: number) => Promise<{ submit: number; e2e: number }>;
  latencyAmqp: (url: string, rate: number, n: number) => Promise<number[]>;
};
const flow = {
  rated: [] as number[],
  peak: [] as number[],
  keyed: [] as number[],
  most: [] as number[],
};
// gaffer's CPU µs per job in the plain (NORMAL) and the key-limited rows, by round.
const cpu = { plain: [] as number[], keyed: [] as number[] };
const brokers = process.argv.includes('--brokers');
const redis = await startRedis('everysec');
const rabbit = brokers ? await startRabbitMQ() : null;
try {
  for (let round = 1; round <= rounds; round++) {
    console.log(`round ${round}/${rounds} (n=${n}, load ${os.loadavg()[0]!.toFixed(2)})`);
    add(BULLMQ, await benchBullmq(redis.port, n));
    const plain = await benchGaffer(n, 'NORMAL');
    add(PLAIN, plain);
    cpu.plain.push(plain.cpuUs);
    add('gaffer embedded (synchronous=FULL)', await benchGaffer(n, 'FULL'));
    const rated = await benchRateLimited(rateN, rateLimit);
    flow.rated.push(rated.startsPerSecond);
    flow.peak.push(rated.peakWindow);
    console.log(
      `  ${RATED.padEnd(34)} ${rated.startsPerSecond} starts/s sustained, at most ${rated.peakWindow} in any 1 s`,
    );
    const keyed = await benchKeyLimited(n, keys, keyRunning);
    flow.keyed.push(keyed.e2e);
    flow.most.push(keyed.mostPerKey);
    cpu.keyed.push(keyed.cpuUs);
    console.log(
      `  ${KEYED.padEnd(34)} end to end ${String(keyed.e2e).padStart(7)} jobs/s, at most ${keyed.mostPerKey} of a key in flight, gaffer CPU ${keyed.cpuUs} µs/job (plain ${plain.cpuUs})`,
    );
    if (rabbit) {
      const redisUrl = `redis://127.0.0.1:${redis.port}`;
      add(
        'gaffer on Redis (AOF everysec)',
        await benchGaffer(n, 'NORMAL', { kind: 'redis', url: redisUrl }),
      );
      add(AMQP, await benchAmqp(rabbit.url, n));
      add(
        'gaffer on RabbitMQ (quorum)',
        await benchGaffer(n, 'NORMAL', { kind: 'rabbitmq', url: rabbit.url }),
      );
    }
  }
  if (rabbit) {
    const redisUrl = `redis://127.0.0.1:${redis.port}`;
    console.log(`\nlatency at ${rate} jobs/s, ${latN} no-op jobs, due → completed`);
    console.log('| system | p50 ms | p99 ms | max ms |');
    console.log('| --- | --- | --- | --- |');
    const row = (name: string, ms: number[]) => {
      const l = latencySummary(ms);
      console.log(`| ${name} | ${l.p50} | ${l.p99} | ${l.max} |`);
    };
    row(BULLMQ, await latencyBullmq(redis.port, rate, latN));
    row('gaffer on Redis', await latencyGaffer(rate, latN, { kind: 'redis', url: redisUrl }));
    row(AMQP, await latencyAmqp(rabbit.url, rate, latN));
    row(
      'gaffer on RabbitMQ',
      await latencyGaffer(rate, latN, { kind: 'rabbitmq', url: rabbit.url }),
    );
    row('gaffer embedded', await latencyGaffer(rate, latN));
  }
} finally {
  await redis.stop();
  await rabbit?.stop();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// Each row against the floor of its own broker: gaffer on RabbitMQ against raw amqplib, the rest
// against BullMQ on Redis.
const baselineOf = (name: string) => (name.includes('RabbitMQ') ? AMQP : BULLMQ);
console.log(`\nmedian of ${rounds} rounds, ${n} no-op jobs, ${os.cpus().length} cores`);
console.log('| system | submit jobs/s | end to end jobs/s | min–max e2e | e2e × baseline |');
console.log('| --- | --- | --- | --- | --- |');
for (const [name, r] of Object.entries(results)) {
  const e = median(r.e2e);
  const base = baselineOf(name);
  const ratio = name === base ? '—' : `${round(e / median(results[base]!.e2e), 2)} × ${base}`;
  console.log(
    `| ${name} | ${median(r.submit)} | ${e} | ${Math.min(...r.e2e)}–${Math.max(...r.e2e)} | ${ratio} |`,
  );
}

console.log(`\nflow control, median of ${rounds} rounds (embedded, synchronous=NORMAL)`);
console.log('| row | median | min–max | against | held | gaffer CPU µs/job |');
console.log('| --- | --- | --- | --- | --- | --- |');
const rated = median(flow.rated);
console.log(
  `| ${RATED}, ${rateN} jobs queued | ${rated} starts/s | ${Math.min(...flow.rated)}–${Math.max(...flow.rated)} | ${ratioOf(rated, rateLimit)} × the limit | at most ${Math.max(...flow.peak)} starts in any 1 s | — |`,
);
const keyed = median(flow.keyed);
console.log(
  `| ${KEYED}, ${n} jobs end to end | ${keyed} jobs/s | ${Math.min(...flow.keyed)}–${Math.max(...flow.keyed)} | ${ratioOf(keyed, median(results[PLAIN]!.e2e))} × plain (NORMAL) | at most ${Math.max(...flow.most)} of a key in flight | ${median(cpu.keyed)} (plain ${median(cpu.plain)}) |`,
);
