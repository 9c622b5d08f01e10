import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHandlerRunner } from '../../src/worker/handler-runner.ts';
import type { WorkerSpec } from '../../src/worker/protocol.ts';
import { EXIT_STUCK_HANDLER, WorkerRuntime } from '../../src/worker/runtime.ts';
import { assignment, HANDLERS, memoryLink, spec } from '../fixtures/harness.ts';
import { release, running } from '../fixtures/handlers.ts';

/** A runtime running `handlers.ts#<handler>`, with the test as gaffer on an in-memory link. */
async function start(handler: string, overrides: Partial<WorkerSpec> = {}, jobId?: string) {
  const { link, inbox, deliver } = memoryLink();
  let exited: (code: number) => void = () => {};
  const exit = new Promise<number>((resolve) => (exited = resolve));
  const workerSpec = spec(overrides);
  const runtime = new WorkerRuntime({
    workerId: 'w-1',
    spec: workerSpec,
    jobId,
    link,
    runner: await createHandlerRunner(`${HANDLERS}#${handler}`, undefined, workerSpec.killGraceMs),
    exit: (code) => exited(code),
  });
  runtime.start();
  return { runtime, inbox, deliver, exit };
}

/** Lets already-scheduled work (the runtime's deferred claim) run; no time passes. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('worker runtime', () => {
  it('says hello, runs up to `concurrency` jobs at once and claims again as slots free', async () => {
    const w = await start('gated', { concurrency: 3, heartbeatMs: 10 });
    assert.deepEqual(await w.inbox.next('hello'), {
      t: 'hello',
      workerId: 'w-1',
      type: 'test',
      pid: process.pid,
      concurrency: 3,
    });
    assert.equal((await w.inbox.next('claim')).max, 3);
    const [a, b, c] = [assignment(), assignment(), assignment()];
    w.deliver({ t: 'jobs', jobs: [a!, b!] });
    assert.equal((await w.inbox.next('claim')).max, 1, 'asks for the one free slot');
    w.deliver({ t: 'jobs', jobs: [c!] });
    assert.deepEqual(running().sort(), [a!.id, b!.id, c!.id].sort(), 'three jobs run at once');

    const beat = await w.inbox.next('heartbeat', (m) => m.leases.length === 3);
    const held = [a!, b!, c!].map(({ id, token }) => ({ id, token }));
    assert.deepEqual(
      beat.leases.sort((x, y) => x.token - y.token),
      held,
    );

    release(a!.id, { ok: 1 });
    const done = await w.inbox.next('done');
    assert.deepEqual(done, {
      t: 'done',
      id: a!.id,
      token: a!.token,
      outcome: { status: 'succeeded', result: { ok: 1 } },
    });
    assert.equal((await w.inbox.next('claim')).max, 1, 'claims the freed slot');
    assert.deepEqual(
      w.inbox.all.filter((m) => m.t === 'claim').map((m) => m.t === 'claim' && m.max),
      [3, 1, 1],
      'never claims while full',
    );

    w.deliver({ t: 'drain' });
    release(b!.id);
    release(c!.id);
    assert.equal(await w.exit, 0);
  });

  it('replaces a batch of quick jobs with one claim for all their slots', async () => {
    const w = await start('noop', { concurrency: 50 });
    assert.equal((await w.inbox.next('claim')).max, 50);
    const jobs = Array.from({ length: 50 }, () => assignment());
    w.deliver({ t: 'jobs', jobs });
    assert.equal((await w.inbox.next('claim')).max, 50);
    assert.equal(w.inbox.count('done'), 50);
    assert.equal(w.inbox.count('claim'), 2);
    w.deliver({ t: 'drain' });
    assert.equal(await w.exit, 0);
  });

  it('drains: finishes in-flight jobs, sends no further claim, exits 0', async () => {
    const w = await start('gated', { concurrency: 3 });
    await w.inbox.next('claim');
    const [a, b] = [assignment(), assignment()];
    w.deliver({ t: 'jobs', jobs: [a!, b!] });
    await w.inbox.next('claim');
    w.deliver({ t: 'drain' });
    const drainedAt = w.inbox.all.length;
    release(a!.id);
    await w.inbox.next('done', (m) => m.id === a!.id);
    release(b!.id);
    await w.inbox.next('done', (m) => m.id === b!.id);
    assert.equal(await w.exit, 0);
    await turn();
    assert.deepEqual(
      w.inbox.all.slice(drainedAt).map((m) => m.t),
      ['done', 'done'],
    );
  });

  it('runs a per-job worker: hello with the job id, jobs, started, done, exit 0', async () => {
    const job = assignment({ payload: { x: 1 } });
    const w = await start('default', { mode: 'per-job' }, job.id);
    assert.equal((await w.inbox.next('hello')).jobId, job.id);
    w.deliver({ t: 'jobs', jobs: [job] });
    assert.equal(await w.exit, 0);
    assert.deepEqual(
      w.inbox.all.map((m) => m.t),
      ['hello', 'started', 'done'],
    );
    assert.deepEqual(w.inbox.all[1], { t: 'started', id: job.id, token: job.token });
    const done = await w.inbox.next('done');
    assert.equal(done.outcome.status, 'succeeded');
  });

  it('times out a handler through its signal and keeps working', async () => {
    const w = await start('honoursAbort');
    await w.inbox.next('claim');
    const job = assignment({ timeoutMs: 20 });
    w.deliver({ t: 'jobs', jobs: [job] });
    const done = await w.inbox.next('done');
    assert.deepEqual(done.outcome, {
      status: 'failed',
      error: { class: 'timeout', message: 'timed out after 20 ms' },
    });
    assert.equal((await w.inbox.next('claim')).max, 1, 'still alive, asking for work');
    w.deliver({ t: 'drain' });
    assert.equal(await w.exit, 0);
  });

  it('exits 70 when a timed-out handler ignores its abort for killGraceMs', async () => {
    const w = await start('ignoresAbort', { killGraceMs: 20 });
    await w.inbox.next('claim');
    w.deliver({ t: 'jobs', jobs: [assignment({ timeoutMs: 20 })] });
    const done = await w.inbox.next('done');
    assert.equal(done.outcome.status === 'failed' && done.outcome.error.class, 'timeout');
    assert.equal(await w.exit, EXIT_STUCK_HANDLER);
  });

  it('kills an isolated job that ignores its abort with its sandbox, and keeps working', async () => {
    const w = await start('ignoresAbort', { killGraceMs: 20 });
    await w.inbox.next('claim');
    w.deliver({ t: 'jobs', jobs: [assignment({ timeoutMs: 20, isolate: true })] });
    const done = await w.inbox.next('done');
    assert.equal(done.outcome.status === 'failed' && done.outcome.error.class, 'timeout');
    assert.equal((await w.inbox.next('claim')).max, 1, 'still alive, asking for work');
    w.deliver({ t: 'drain' });
    assert.equal(await w.exit, 0, 'never exits 70 for a sandboxed job');
  });

  it('cancels a job: aborts its handler and reports cancelled', async () => {
    const w = await start('honoursAbort');
    await w.inbox.next('claim');
    const job = assignment();
    w.deliver({ t: 'jobs', jobs: [job] });
    w.deliver({ t: 'cancel', id: job.id, reason: 'user' });
    const done = await w.inbox.next('done');
    assert.deepEqual(done, {
      t: 'done',
      id: job.id,
      token: job.token,
      outcome: { status: 'cancelled' },
    });
    w.deliver({ t: 'drain' });
    assert.equal(await w.exit, 0);
  });

  it('on shutdown (gaffer gone) stops every job and exits without sending', async () => {
    const w = await start('honoursAbort', { concurrency: 2 });
    await w.inbox.next('claim');
    w.deliver({ t: 'jobs', jobs: [assignment(), assignment()] });
    assert.equal(w.runtime.active, 2);
    const sent = w.inbox.all.length;
    w.runtime.shutdown();
    assert.equal(await w.exit, 0);
    assert.equal(w.runtime.active, 0);
    assert.equal(w.inbox.all.length, sent);
  });

  it("on gaffer's stop (SIGINT) stops every job and exits, reporting none of them and starting none", async () => {
    const w = await start('honoursAbort', { concurrency: 2, heartbeatMs: 10 });
    await w.inbox.next('claim');
    const [a, b] = [assignment(), assignment()];
    w.deliver({ t: 'jobs', jobs: [a!, b!] });
    assert.equal(w.runtime.active, 2);
    w.runtime.stop();
    // A job leased before gaffer saw the stop is not started: gaffer hands it back.
    w.deliver({ t: 'jobs', jobs: [assignment()] });
    assert.equal(await w.exit, 0);
    assert.equal(w.runtime.active, 0);
    assert.equal(w.inbox.count('done'), 0, 'a stopped job is not reported (gaffer hands it back)');
  });
});
