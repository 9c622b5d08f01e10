import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import {
  WORKER_ENV,
  type GafferMessage,
  type WorkerMessage,
  type WorkerSpec,
} from '../../src/worker/protocol.ts';
import {
  assignment,
  HANDLERS,
  holdCommand,
  HoldServer,
  Inbox,
  isGone,
  spec,
  WORKER_MAIN,
} from '../fixtures/harness.ts';

/** Starts src/worker/main.ts the way an executor does; the test is gaffer on its IPC channel. */
function startWorker(s: WorkerSpec, jobId?: string) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [WORKER_ENV.workerId]: 'w-main',
    [WORKER_ENV.type]: s.type,
    [WORKER_ENV.spec]: JSON.stringify(s),
  };
  if (jobId) env[WORKER_ENV.jobId] = jobId;
  const child = spawn(process.execPath, [WORKER_MAIN], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env,
  });
  const inbox = new Inbox<WorkerMessage>();
  child.on('message', (msg: WorkerMessage) => inbox.push(msg));
  const exit = once(child, 'exit') as Promise<[number | null, string | null]>;
  const send = (msg: GafferMessage): boolean => child.send(msg);
  return { child, inbox, exit, send };
}

function claimsAfter(inbox: Inbox<WorkerMessage>, index: number): number {
  return inbox.all.slice(index).filter((m) => m.t === 'claim').length;
}

describe('worker process (src/worker/main.ts)', () => {
  const holds = new HoldServer();
  let port = 0;
  before(async () => (port = await holds.listen()));
  after(() => holds.close());

  it('per-job mode: hello with the job id, jobs, started, done, exit 0', async () => {
    const job = assignment({ payload: 'p' });
    const w = startWorker(spec({ mode: 'per-job', handler: HANDLERS }), job.id);
    const hello = await w.inbox.next('hello');
    assert.deepEqual(hello, {
      t: 'hello',
      workerId: 'w-main',
      type: 'test',
      pid: w.child.pid,
      jobId: job.id,
      concurrency: 1,
    });
    w.send({ t: 'jobs', jobs: [job] });
    assert.deepEqual(await w.inbox.next('started'), { t: 'started', id: job.id, token: job.token });
    const done = await w.inbox.next('done');
    assert.deepEqual(done.outcome, {
      status: 'succeeded',
      result: { payload: 'p', attempt: 1, type: 'test', id: job.id },
    });
    assert.deepEqual(await w.exit, [0, null]);
    assert.equal(w.inbox.count('claim'), 0);
  });

  it('SIGTERM drains: the running job finishes, no further claim, exit 0', async () => {
    const w = startWorker(spec({ command: holdCommand(port), concurrency: 2 }));
    assert.equal((await w.inbox.next('claim')).max, 2);
    const job = assignment();
    w.send({ t: 'jobs', jobs: [job] });
    const held = await holds.next();
    await w.inbox.next('claim');
    w.child.kill('SIGTERM');
    const drainedAt = w.inbox.all.length;
    held.finish('"finished"');
    assert.deepEqual((await w.inbox.next('done')).outcome, {
      status: 'succeeded',
      result: 'finished',
    });
    assert.deepEqual(await w.exit, [0, null]);
    assert.equal(claimsAfter(w.inbox, drainedAt), 0);
  });

  it('gaffer gone (IPC disconnected): kills its job trees, then exits', async () => {
    const w = startWorker(spec({ command: holdCommand(port), concurrency: 2 }));
    await w.inbox.next('claim');
    w.send({ t: 'jobs', jobs: [assignment(), assignment()] });
    const held = [await holds.next(), await holds.next()];
    w.child.disconnect();
    await Promise.all([w.exit, ...held.map((h) => h.dead)]);
    for (const h of held) assert.ok(isGone(h.grandchild), `grandchild ${h.grandchild} is gone`);
  });

  it('refuses to start without an IPC channel', async () => {
    const child: ChildProcess = spawn(process.execPath, [WORKER_MAIN], { stdio: 'ignore' });
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 64);
  });
});
