import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import {
  ConfigError,
  createGaffer,
  GafferError,
  JobFailedError,
  NonRetryableError,
  StartError,
  type Gaffer,
  type JobContext,
} from 'gaffer';
import { createClient } from 'gaffer/client';

/**
 * gaffer as a library, through the package's public exports only: job types given in code run in
 * this process on the real embedded store, with the real autoscaler and worker loop.
 */

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function dataDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-library-'));
  dirs.push(dir);
  return dir;
}
const store = (dir: string) => ({ store: { dataDir: dir, synchronous: 'NORMAL' as const } });

/** Resolves when the signal aborts: a handler that runs until it is stopped. */
const aborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) =>
    signal.addEventListener('abort', () => reject(new Error('stopped'))),
  );

describe('jobs given in code', () => {
  test('submit, await the typed result, see the events and the log', async (t) => {
    const gaffer = await createGaffer({
      config: store(dataDir()),
      jobs: {
        add: {
          concurrency: 4,
          handler: (ctx: JobContext<{ a: number; b: number }>) => {
            ctx.log(`adding ${ctx.payload.a} and ${ctx.payload.b}`);
            return { sum: ctx.payload.a + ctx.payload.b };
          },
        },
      },
    });
    t.after(() => gaffer.close());
    const seen: string[] = [];
    gaffer.on('job:succeeded', ({ job }) => seen.push(job.id));
    const handle = await gaffer.submit('add', { a: 2, b: 3 });
    assert.equal(handle.created, true);
    assert.equal(handle.job.state, 'queued');
    assert.deepEqual(await handle.result(), { sum: 5 });
    assert.deepEqual(seen, [handle.id]);
    const job = await gaffer.job(handle.id);
    assert.equal(job.state, 'succeeded');
    assert.equal(job.attempt, 1);
    const logs = await gaffer.logs(handle.id);
    assert.deepEqual(
      logs.map((l) => l.data),
      ['adding 2 and 3\n'],
    );
    // Many at once: every one ends, each with its own result.
    const many = await Promise.all(
      Array.from({ length: 50 }, (_, i) => gaffer.submit('add', { a: i, b: 1 })),
    );
    const sums = await Promise.all(many.map(async (h) => (await h.result()).sum));
    assert.deepEqual(
      sums,
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.equal(
      (await gaffer.jobs({ type: 'add', state: 'succeeded', limit: 100 })).jobs.length,
      51,
    );
  });

  test('a throw is retried by the type policy; a NonRetryableError ends the job at once', async (t) => {
    let calls = 0;
    const gaffer = await createGaffer({
      config: store(dataDir()),
      jobs: {
        flaky: {
          retry: { maxAttempts: 3, backoffMs: 1, maxBackoffMs: 1 },
          handler: (ctx: JobContext<null>) => {
            calls++;
            if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} failed`);
            return 'third time';
          },
        },
        hopeless: {
          retry: { maxAttempts: 5 },
          deadLetter: false,
          handler: () => {
            throw new NonRetryableError('the payload is wrong');
          },
        },
      },
    });
    t.after(() => gaffer.close());
    assert.equal(await (await gaffer.submit('flaky', null)).result(), 'third time');
    assert.equal(calls, 3);
    const hopeless = await gaffer.submit('hopeless', null);
    const err = await hopeless.result().then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof JobFailedError);
    assert.equal(err.job.state, 'failed');
    assert.equal(err.job.attempt, 1);
    assert.match(err.message, /the payload is wrong/);
    assert.equal((await hopeless.done()).state, 'failed');
  });

  test('a running job is cancelled through its signal; a timeout stops it the same way', async (t) => {
    const gaffer = await createGaffer({
      config: store(dataDir()),
      jobs: {
        forever: { handler: (ctx: JobContext<null>) => aborted(ctx.signal) },
        slow: { timeoutSeconds: 0.05, handler: (ctx: JobContext<null>) => aborted(ctx.signal) },
      },
    });
    t.after(() => gaffer.close());
    const running = gaffer.once('job:started');
    const handle = await gaffer.submit('forever', null);
    await running;
    await gaffer.cancel(handle.id);
    assert.equal((await handle.done()).state, 'cancelled');
    const slow = await gaffer.submit('slow', null, { maxAttempts: 1 });
    const end = await slow.done();
    assert.equal(end.state, 'dead_lettered');
    assert.equal(end.error?.class, 'timeout');
  });

  test('per-job mode: a worker per job, in this process', async (t) => {
    const gaffer = await createGaffer({
      config: store(dataDir()),
      jobs: {
        once: { mode: 'per-job', handler: (ctx: JobContext<string>) => ctx.payload.toUpperCase() },
      },
    });
    t.after(() => gaffer.close());
    const handles = await Promise.all(['a', 'b', 'c'].map((p) => gaffer.submit('once', p)));
    assert.deepEqual(await Promise.all(handles.map((h) => h.result())), ['A', 'B', 'C']);
  });

  test('broker mode: the embedded broker feeds in-process workers', async (t) => {
    const gaffer = await createGaffer({
      config: { ...store(dataDir()), broker: { kind: 'embedded' } },
      jobs: { double: { concurrency: 3, handler: (ctx: JobContext<number>) => ctx.payload * 2 } },
    });
    t.after(() => gaffer.close());
    const handles = await Promise.all(
      Array.from({ length: 30 }, (_, i) => gaffer.submit('double', i)),
    );
    const results = await Promise.all(handles.map((h) => h.result()));
    assert.deepEqual(
      results,
      Array.from({ length: 30 }, (_, i) => i * 2),
    );
  });

  test('the autoscaler retires an idle in-process worker (scale to zero)', async (t) => {
    const gaffer = await createGaffer({
      config: store(dataDir()),
      jobs: { quick: { scaling: { idleSeconds: 0 }, handler: () => 'ok' } },
    });
    t.after(() => gaffer.close());
    const stopped = gaffer.once('worker:stopped');
    assert.equal(await (await gaffer.submit('quick', null)).result(), 'ok');
    const { worker, clean } = await stopped;
    assert.deepEqual([worker.type, worker.active, clean], ['quick', 0, true]);
  });

  test('refusals carry the catalogue code; submitMany reports each bad item by index', async (t) => {
    const gaffer = await createGaffer({
      config: store(dataDir()),
      jobs: {
        typed: {
          payloadSchema: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } },
          handler: (ctx: JobContext<{ n: number }>) => ctx.payload.n * 2,
        },
      },
    });
    t.after(() => gaffer.close());
    await assert.rejects(
      gaffer.submit({ type: 'typed', payload: { n: 'x' } }),
      (err: unknown) => err instanceof GafferError && err.code === 'GAFFER_PAYLOAD_INVALID',
    );
    await assert.rejects(
      gaffer.submit({ type: 'nope', payload: null }),
      (err: unknown) => err instanceof GafferError && err.code === 'GAFFER_UNKNOWN_TYPE',
    );
    const { accepted, rejected } = await gaffer.submitMany([
      { type: 'typed', payload: { n: 1 } },
      { type: 'typed', payload: {} },
      { type: 'typed', payload: { n: 3 } },
    ]);
    assert.deepEqual(
      rejected.map((r) => [r.index, r.code]),
      [[1, 'GAFFER_PAYLOAD_INVALID']],
    );
    assert.deepEqual(await Promise.all(accepted.map((h) => h.result())), [2, 6]);
  });

  test('an invalid config is refused with every problem and its path', async () => {
    const err = await createGaffer({
      config: {
        ...store(dataDir()),
        jobTypes: { both: { worker: { command: ['true'] } } },
      },
      jobs: {
        both: { handler: () => null },
        zero: { concurrency: 0, handler: () => null },
        commanded: { worker: { command: ['true'] } as never, handler: () => null },
      },
    }).then(
      () => assert.fail('created'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems.map((p) => p.path).sort(), [
      '/jobTypes/both',
      '/jobTypes/commanded/worker/command',
      '/jobTypes/zero/concurrency',
    ]);
  });
});

describe('durability and the rest of gaffer', () => {
  test('a job running when gaffer closes runs again on the next start, on the same store', async () => {
    const dir = dataDir();
    const first = await createGaffer({
      config: store(dir),
      jobs: { work: { handler: (ctx: JobContext<number>) => aborted(ctx.signal) } },
    });
    const started = first.once('job:started');
    const { id } = await first.submit('work', 7);
    await started;
    // The handler is aborted; the job goes back to the queue, its attempt not counted.
    const summary = await first.close();
    assert.deepEqual(summary, { handedBack: [id], unrecorded: [] });
    const second: Gaffer = await createGaffer({
      config: store(dir),
      jobs: { work: { handler: (ctx: JobContext<number>) => ctx.payload * 6 } },
    });
    try {
      const end = await second.wait(id);
      assert.equal(end.state, 'succeeded');
      assert.equal(end.result, 42);
      assert.equal(end.attempt, 1, 'the attempt the stop interrupted did not count');
    } finally {
      await second.close();
    }
  });

  test('one gaffer per data folder: a second is refused at once, naming the holder', async () => {
    const dir = dataDir();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const jobs = { work: { handler: () => released.then(() => 'done') } };
    const first = await createGaffer({ config: store(dir), jobs });
    try {
      const started = first.once('job:started');
      const { id } = await first.submit('work', null);
      await started;
      const url = await first.listen({ host: '127.0.0.1', port: 0 });
      const refused = await createGaffer({ config: store(dir), jobs }).then(
        () => assert.fail('a second gaffer on the same data folder started'),
        (e: unknown) => e,
      );
      assert.ok(refused instanceof StartError);
      assert.equal(refused.code, 'GAFFER_DATA_DIR_IN_USE');
      assert.match(refused.message, new RegExp(`pid ${process.pid} on .*serving ${url}`));
      // The first's running job was not touched: it runs on and ends once, on its first attempt.
      assert.equal((await first.job(id)).state, 'running');
      release();
      const end = await first.wait(id);
      assert.deepEqual([end.state, end.attempt, end.result], ['succeeded', 1, 'done']);
    } finally {
      await first.close();
    }
    const again = await createGaffer({ config: store(dir), jobs }); // released on close
    await again.close();
  });

  test('a port that is taken: listen rejects and binds nothing; gaffer runs on and closes', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    after(() => blocker.close());
    const port = (blocker.address() as net.AddressInfo).port;
    const dir = dataDir();
    const jobs = { add: { handler: (ctx: JobContext<number>) => ctx.payload + 1 } };
    // Given at creation, the port is bound before the store is opened: nothing is created there.
    const early = await createGaffer({
      config: store(dir),
      jobs,
      listen: { host: '127.0.0.1', port },
    }).then(
      () => assert.fail('started on a taken port'),
      (e: unknown) => e,
    );
    assert.ok(early instanceof StartError && early.code === 'GAFFER_PORT_IN_USE', String(early));
    assert.match(early.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.equal(existsSync(path.join(dir, 'gaffer.db')), false, 'the store was not opened');
    // Later, on a gaffer that runs: listen rejects, the gaffer works on, close does not hang.
    const gaffer = await createGaffer({ config: store(dir), jobs });
    try {
      const late = await gaffer.listen({ host: '127.0.0.1', port }).then(
        () => assert.fail('listened on a taken port'),
        (e: unknown) => e,
      );
      assert.ok(late instanceof StartError && late.code === 'GAFFER_PORT_IN_USE', String(late));
      assert.equal(gaffer.url, null);
      assert.equal(await (await gaffer.submit('add', 1)).result(), 2);
      const url = await gaffer.listen({ host: '127.0.0.1', port: 0 });
      assert.equal((await fetch(`${url}/healthz`)).ok, true);
    } finally {
      await gaffer.close();
    }
  });

  test('listen serves the HTTP API: the typed client submits to a type given in code', async (t) => {
    const gaffer = await createGaffer({
      config: store(dataDir()),
      jobs: { echo: { handler: (ctx: JobContext<unknown>) => ({ echoed: ctx.payload }) } },
    });
    t.after(() => gaffer.close());
    const url = await gaffer.listen({ host: '127.0.0.1', port: 0 });
    assert.equal(gaffer.url, url);
    const client = createClient({ url });
    const { job } = await client.jobs.submit({ type: 'echo', payload: [1, 2] });
    const end = await client.waitFor(job.id, { intervalMs: 20 });
    assert.equal(end.succeeded, true);
    assert.deepEqual(end.kind === 'job' && end.job.result, { echoed: [1, 2] });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /gaffer_jobs_submitted_total\{[^}]*type="echo"/);
  });

  test("log: gaffer's own log goes to the host's logger (a pino logger)", async (t) => {
    const dir = dataDir();
    const records: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) {
          records.push(JSON.parse(line) as Record<string, unknown>);
        }
        done();
      },
    });
    const gaffer = await createGaffer({ config: store(dir), log: pino(destination) });
    t.after(() => gaffer.close());
    const off = gaffer.on('job:queued', () => {
      throw new Error('a broken listener');
    });
    t.after(off);
    await gaffer.reload({
      ...store(dir),
      jobTypes: { shell: { worker: { command: ['true'] } } },
    });
    await gaffer.reload({ ...store(dir), jobTypes: { bad: { concurrency: 0 } } });
    await gaffer.submit({ type: 'shell' });
    const seen = records.map((r) => [r['level'], r['msg']]);
    assert.deepEqual(seen, [
      [30, 'config reloaded'],
      [40, 'config reload refused, the running config stays'],
      [50, 'an event listener threw'],
    ]);
    assert.deepEqual(records[0]!['added'], ['shell']);
    assert.match(JSON.stringify(records[1]!['problems']), /jobTypes\/bad\/concurrency/);
    assert.equal(records[2]!['event'], 'job:queued');
    assert.match(JSON.stringify(records[2]!['err']), /a broken listener/);
  });

  test('reload(config): a type added to the config runs; the types given in code stay', async (t) => {
    const dir = dataDir();
    const gaffer = await createGaffer({
      config: store(dir),
      jobs: { code: { handler: () => 'from code' } },
    });
    t.after(() => gaffer.close());
    const status = await gaffer.reload({
      ...store(dir),
      jobTypes: { shell: { worker: { command: ['sh', '-c', 'echo \'"from a command"\''] } } },
    });
    assert.equal(status.ok, true);
    assert.deepEqual(gaffer.types.sort(), ['code', 'shell']);
    const refused = await gaffer.reload({ ...store(dir), jobTypes: { bad: { concurrency: 0 } } });
    assert.equal(refused.ok, false);
    assert.deepEqual(refused.errors?.map((e) => e.path).sort(), [
      '/jobTypes/bad/concurrency',
      '/jobTypes/bad/worker',
    ]);
    const unbuilt = await gaffer.reload({
      ...store(dir),
      executor: { kind: 'local', kubernetes: { namespace: 'jobs' } },
      jobTypes: {
        far: { executor: 'kubernetes', worker: { image: 'busybox', command: ['true'] } },
      },
    });
    assert.equal(unbuilt.ok, false, 'an executor this gaffer did not start with needs a restart');
    assert.deepEqual(
      unbuilt.errors?.map((e) => e.path),
      ['/jobTypes/far/executor'],
    );
    assert.equal((await gaffer.reload()).ok, true, 'the config in force is the source again');
    assert.deepEqual(gaffer.types.sort(), ['code', 'shell']);
    assert.equal(await (await gaffer.submit({ type: 'shell' })).result(), 'from a command');
    assert.equal(await (await gaffer.submit('code', undefined)).result(), 'from code');
  });
});
