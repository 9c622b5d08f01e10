import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCommandRunner, MAX_LOG_CHUNK } from '../../src/worker/command-runner.ts';
import type { WorkerSpec } from '../../src/worker/protocol.ts';
import { WorkerRuntime, type JobControl } from '../../src/worker/runtime.ts';
import {
  assignment,
  COMMAND,
  holdCommand,
  HoldServer,
  isGone,
  memoryLink,
  spec,
} from '../fixtures/harness.ts';

const node = (...args: string[]): string[] => [process.execPath, COMMAND, ...args];

function control(): JobControl & { logs: { stream: string; data: string }[] } {
  const logs: { stream: string; data: string }[] = [];
  return {
    signal: new AbortController().signal,
    log: (stream, data) => logs.push({ stream, data }),
    logs,
  };
}

async function run(command: string[], overrides: Partial<WorkerSpec> = {}, job = assignment()) {
  const s = spec({ command, ...overrides });
  const ctl = control();
  const outcome = await createCommandRunner(s).run(job, ctl);
  return { outcome, logs: ctl.logs, scratch: join(s.scratchDir, `${job.id}-${job.attempt}`) };
}

/** A runtime running `command`, with the test as gaffer on an in-memory link. */
function startRuntime(command: string[]) {
  const { link, inbox, deliver } = memoryLink();
  let exited: (code: number) => void = () => {};
  const exit = new Promise<number>((resolve) => (exited = resolve));
  const s = spec({ command, killGraceMs: 5000 });
  const runtime = new WorkerRuntime({
    workerId: 'w',
    spec: s,
    link,
    runner: createCommandRunner(s),
    exit: exited,
  });
  runtime.start();
  return { inbox, deliver, exit };
}

describe('command runner', () => {
  it('gives the payload on stdin and in a file, sets the env, takes the last stdout line as result', async () => {
    const job = assignment({ payload: { a: [1, 2] }, attempt: 2 });
    const { outcome, logs, scratch } = await run(node('echo'), { env: { EXTRA: 'yes' } }, job);
    assert.deepEqual(outcome, {
      status: 'succeeded',
      result: {
        fromStdin: { a: [1, 2] },
        fromFile: { a: [1, 2] },
        env: { id: job.id, type: 'test', attempt: '2', extra: 'yes' },
      },
    });
    const text = (stream: string): string =>
      logs
        .filter((l) => l.stream === stream)
        .map((l) => l.data)
        .join('');
    assert.match(text('stdout'), /^a line of noise\n\{"fromStdin"/);
    assert.equal(text('stderr'), 'a line on stderr\n');
    assert.equal(existsSync(scratch), false, 'the scratch dir is removed');
  });

  it('prefers the result file', async () => {
    const { outcome } = await run(node('result-file'));
    assert.deepEqual(outcome, { status: 'succeeded', result: { from: 'file' } });
  });

  it('falls back to all of stdout, trimmed, when the last line is not JSON', async () => {
    const { outcome } = await run(node('text'));
    assert.deepEqual(outcome, { status: 'succeeded', result: 'hello\nworld' });
  });

  it('fails a non-zero exit as an application error with the exit code and stderr', async () => {
    const { outcome } = await run(node('exit', '3'));
    assert.deepEqual(outcome, {
      status: 'failed',
      error: {
        class: 'application',
        message: 'command exited with code 3: something went wrong',
        exitCode: 3,
        signal: null,
      },
    });
  });

  it('classes exit code 137 it did not cause as oom', async () => {
    const { outcome } = await run(node('exit', '137'));
    assert.equal(outcome.status === 'failed' && outcome.error.class, 'oom');
  });

  it('fails a command that cannot start', async () => {
    const { outcome } = await run(['/no/such/program']);
    assert.equal(outcome.status === 'failed' && outcome.error.class, 'application');
    assert.match(outcome.status === 'failed' ? outcome.error.message : '', /ENOENT/);
  });

  it('splits a long line into log messages of at most 64 KiB', async () => {
    const size = 150_000;
    const { outcome, logs } = await run([
      'sh',
      '-c',
      `head -c ${size} /dev/zero | tr '\\0' x; echo`,
    ]);
    assert.ok(logs.every((l) => l.data.length <= MAX_LOG_CHUNK));
    assert.equal(logs.map((l) => l.data).join(''), `${'x'.repeat(size)}\n`);
    assert.equal(outcome.status === 'succeeded' && (outcome.result as string).length, size);
  });
});

describe('command jobs in the runtime', () => {
  const holds = new HoldServer();
  let port = 0;
  before(async () => (port = await holds.listen()));
  after(() => holds.close());

  it('on timeout kills the whole process tree and reports class timeout', async () => {
    // `sh` prints its background sleep's pid at once; the job times out while both run.
    const w = startRuntime(['sh', '-c', 'sleep 1000 & echo $!; wait']);
    await w.inbox.next('claim');
    const job = assignment({ timeoutMs: 1000 });
    w.deliver({ t: 'jobs', jobs: [job] });
    const pid = Number((await w.inbox.next('log')).data);
    const done = await w.inbox.next('done');
    assert.deepEqual(done.outcome, {
      status: 'failed',
      error: { class: 'timeout', message: 'timed out after 1000 ms' },
    });
    // The job ends only once its stdout is closed, which the grandchild held until it died.
    assert.ok(pid > 0 && isGone(pid), `grandchild ${pid} is gone`);
    w.deliver({ t: 'drain' });
    assert.equal(await w.exit, 0);
  });

  it('cancel kills the job tree and reports cancelled', async () => {
    const w = startRuntime(holdCommand(port));
    await w.inbox.next('claim');
    const job = assignment();
    w.deliver({ t: 'jobs', jobs: [job] });
    const held = await holds.next();
    assert.equal(held.jobId, job.id);
    w.deliver({ t: 'cancel', id: job.id, reason: 'user asked' });
    assert.deepEqual((await w.inbox.next('done')).outcome, { status: 'cancelled' });
    await held.dead;
    assert.ok(isGone(held.grandchild));
    w.deliver({ t: 'drain' });
    assert.equal(await w.exit, 0);
  });

  it('a held job finishes when told to, with its output as the result', async () => {
    const w = startRuntime(holdCommand(port));
    await w.inbox.next('claim');
    w.deliver({ t: 'jobs', jobs: [assignment()] });
    (await holds.next()).finish('{"finished":true}');
    assert.deepEqual((await w.inbox.next('done')).outcome, {
      status: 'succeeded',
      result: { finished: true },
    });
    w.deliver({ t: 'drain' });
    assert.equal(await w.exit, 0);
  });
});
