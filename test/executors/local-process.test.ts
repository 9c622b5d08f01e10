import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ExecutorHooks } from '../../src/executors/executor.ts';
import { createLocalProcessExecutor } from '../../src/executors/local-process/index.ts';
import type { WorkerConnection, WorkerMessage } from '../../src/worker/protocol.ts';
import {
  assignment,
  HANDLERS,
  holdCommand,
  HoldServer,
  Inbox,
  isGone,
  spec,
} from '../fixtures/harness.ts';

interface Seen {
  conn: WorkerConnection;
  pid: number | null;
  inbox: Inbox<WorkerMessage>;
  output: string[];
  exits: [number | null, string | null][];
  exited: PromiseWithResolvers<[number | null, string | null]>;
}

/** Hooks that record everything per worker; the test is gaffer on each connection. */
function recorder() {
  const seen = new Map<string, Seen>();
  const hooks: ExecutorHooks = {
    connected(id, conn, pid) {
      const inbox = new Inbox<WorkerMessage>();
      conn.onMessage((msg) => inbox.push(msg));
      seen.set(id, { conn, pid, inbox, output: [], exits: [], exited: Promise.withResolvers() });
    },
    output: (id, stream, data) => seen.get(id)?.output.push(`${stream}:${data}`),
    exited(id, code, signal) {
      const s = seen.get(id);
      s?.exits.push([code, signal]);
      s?.exited.resolve([code, signal]);
    },
  };
  const get = (id: string): Seen => {
    const s = seen.get(id);
    if (!s) throw new Error(`worker ${id} never connected`);
    return s;
  };
  return { hooks, get };
}

describe('local-process executor', () => {
  const holds = new HoldServer();
  let port = 0;
  before(async () => (port = await holds.listen()));
  after(() => holds.close());

  it('runs a pool worker: concurrent jobs, claims as slots free, heartbeats, drain, exit once', async () => {
    const { hooks, get } = recorder();
    const executor = createLocalProcessExecutor({ hooks });
    await executor.start({
      workerId: 'pool-1',
      spec: spec({ command: holdCommand(port), concurrency: 3, heartbeatMs: 50 }),
    });
    const w = get('pool-1');
    assert.ok(w.pid && w.pid > 0);
    assert.equal((await w.inbox.next('hello')).workerId, 'pool-1');
    assert.equal((await w.inbox.next('claim')).max, 3);

    const jobs = [assignment(), assignment(), assignment()];
    w.conn.send({ t: 'jobs', jobs });
    const held = [await holds.next(), await holds.next(), await holds.next()];
    assert.deepEqual(
      held.map((h) => h.jobId).sort(),
      jobs.map((j) => j.id).sort(),
      'all three run at once',
    );

    const beat = await w.inbox.next('heartbeat', (m) => m.leases.length === 3);
    assert.deepEqual(
      beat.leases.sort((a, b) => a.token - b.token),
      jobs.map(({ id, token }) => ({ id, token })),
    );

    held[0]!.finish('{"n":0}');
    const done = await w.inbox.next('done');
    assert.equal(done.id, held[0]!.jobId);
    assert.deepEqual(done.outcome, { status: 'succeeded', result: { n: 0 } });
    assert.equal((await w.inbox.next('claim')).max, 1, 'claims the freed slot');

    w.conn.send({ t: 'drain' });
    const drainedAt = w.inbox.all.length;
    held[1]!.finish('1');
    held[2]!.finish('2');
    assert.deepEqual(await w.exited.promise, [0, null]);
    assert.deepEqual(
      w.inbox.all
        .slice(drainedAt)
        .filter((m) => m.t !== 'heartbeat' && m.t !== 'log')
        .map((m) => m.t),
      ['done', 'done'],
      'no claim after the drain',
    );
    assert.equal(w.exits.length, 1);
    await executor.close();
  });

  it('runs a per-job worker and streams its own stdout to hooks.output', async () => {
    const { hooks, get } = recorder();
    const executor = createLocalProcessExecutor({ hooks });
    const job = assignment();
    await executor.start({
      workerId: 'pj-1',
      jobId: job.id,
      spec: spec({ mode: 'per-job', handler: `${HANDLERS}#logs` }),
    });
    const w = get('pj-1');
    assert.equal((await w.inbox.next('hello')).jobId, job.id);
    w.conn.send({ t: 'jobs', jobs: [job] });
    await w.inbox.next('started');
    assert.deepEqual(await w.inbox.next('log'), {
      t: 'log',
      id: job.id,
      token: job.token,
      stream: 'stdout',
      data: 'hello from the handler\n',
    });
    assert.deepEqual((await w.inbox.next('done')).outcome, {
      status: 'succeeded',
      result: 'logged',
    });
    assert.deepEqual(await w.exited.promise, [0, null]);
    assert.deepEqual(w.output, ['stdout:worker stdout line']);
    await executor.close();
  });

  it('kill of a worker running a long job leaves no orphan process', async () => {
    const { hooks, get } = recorder();
    const executor = createLocalProcessExecutor({ hooks });
    await executor.start({ workerId: 'k-1', spec: spec({ command: holdCommand(port) }) });
    const w = get('k-1');
    await w.inbox.next('claim');
    w.conn.send({ t: 'jobs', jobs: [assignment()] });
    const held = await holds.next();
    // SIGTERM only drains the worker, which waits for its job; after the grace, the tree dies.
    executor.kill('k-1', 100);
    executor.kill('k-1', 100);
    const [code, signal] = await w.exited.promise;
    assert.deepEqual([code, signal], [null, 'SIGKILL']);
    await held.dead;
    assert.ok(isGone(held.grandchild), `grandchild ${held.grandchild} is gone`);
    assert.ok(w.pid !== null && isGone(w.pid));
    executor.kill('k-1');
    assert.equal(w.exits.length, 1);
    await executor.close();
  });

  it('close() stops every worker and resolves once all have exited', async () => {
    const { hooks, get } = recorder();
    const executor = createLocalProcessExecutor({ hooks });
    for (const id of ['c-1', 'c-2']) {
      await executor.start({ workerId: id, spec: spec({ handler: `${HANDLERS}#noop` }) });
      await get(id).inbox.next('claim'); // idle, long-polling
    }
    await executor.close();
    for (const id of ['c-1', 'c-2']) {
      assert.deepEqual(get(id).exits, [[0, null]], `${id} drained on SIGTERM`);
    }
  });

  it('reports a worker that dies at start-up through exited', async () => {
    const { hooks, get } = recorder();
    const executor = createLocalProcessExecutor({ hooks, workerEntry: '/no/such/worker.ts' });
    await executor.start({ workerId: 'bad-1', spec: spec() });
    const [code] = await get('bad-1').exited.promise;
    assert.notEqual(code, 0);
    await executor.close();
  });
});
