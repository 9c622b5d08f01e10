import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Outcome } from '../../src/domain/job.ts';
import { createHandlerRunner } from '../../src/worker/handler-runner.ts';
import type { JobControl } from '../../src/worker/runtime.ts';
import { assignment, HANDLERS } from '../fixtures/harness.ts';

/** Real child processes throughout: an isolated assignment runs its handler in a sandbox. */

function control(extra: Partial<JobControl> = {}): JobControl & {
  logs: string[];
  abort(reason: string): void;
} {
  const logs: string[] = [];
  const aborter = new AbortController();
  return {
    signal: aborter.signal,
    log: (stream, data) => logs.push(`${stream}:${data}`),
    logs,
    abort: (reason) => aborter.abort(new Error(reason)),
    ...extra,
  };
}

async function runIsolated(
  handler: string,
  ctl: JobControl = control(),
  killGraceMs = 2000,
): Promise<Outcome> {
  const runner = await createHandlerRunner(`${HANDLERS}#${handler}`, undefined, killGraceMs);
  return runner.run(assignment({ isolate: true, attempt: 2 }), ctl);
}

function failure(outcome: Outcome) {
  assert.equal(outcome.status, 'failed');
  return outcome.status === 'failed' ? outcome.error : assert.fail('not failed');
}

describe('sandboxed handler runner (isolated assignments)', () => {
  it('runs the handler in another process, with the worker environment and context', async () => {
    process.env['GAFFER_SANDBOX_TEST'] = 'inherited';
    const ctl = control({ dirs: { input: '/tmp/in', output: '/tmp/out' } });
    const outcome = await runIsolated('whereAmI', ctl);
    delete process.env['GAFFER_SANDBOX_TEST'];
    assert.equal(outcome.status, 'succeeded');
    const result =
      outcome.status === 'succeeded' ? (outcome.result as Record<string, unknown>) : {};
    assert.notEqual(result['pid'], process.pid, 'not in this process');
    assert.deepEqual(
      { ...result, pid: 0 },
      { pid: 0, env: 'inherited', inputDir: '/tmp/in', attempt: 2 },
    );
    assert.equal(ctl.logs.length, 1);
    assert.match(ctl.logs[0]!, /^stdout:running job-\d+\n$/);
  });

  it('applies the in-process rules to throws (application; retryable: false kept)', async () => {
    assert.deepEqual(failure(await runIsolated('fails')), {
      class: 'application',
      message: 'handler said no',
    });
    assert.deepEqual(failure(await runIsolated('refuses')), {
      class: 'application',
      message: 'never',
      retryable: false,
    });
  });

  it('runs a job that is not isolated in this process, as before', async () => {
    const runner = await createHandlerRunner(`${HANDLERS}#whereAmI`);
    const outcome = await runner.run(assignment(), control());
    assert.equal(
      outcome.status === 'succeeded' && Reflect.get(outcome.result as object, 'pid'),
      process.pid,
    );
  });

  it('a handler that kills its process fails only its attempt: infrastructure, workerLost', async () => {
    const error = failure(await runIsolated('crashes'));
    assert.equal(error.class, 'infrastructure');
    assert.equal(error.signal, 'SIGKILL');
    assert.equal(error.exitCode, null);
    assert.equal(error.workerLost, true, 'still a suspect: its next attempt is sandboxed too');
    assert.match(error.message, /killed by SIGKILL/);
  });

  it('a handler that exits names the exit code and the tail of its stderr', async () => {
    const error = failure(await runIsolated('exits'));
    assert.equal(error.class, 'infrastructure');
    assert.equal(error.exitCode, 3);
    assert.equal(error.workerLost, true);
    assert.match(error.message, /exited with code 3: giving up now$/);
  });

  it('passes an abort on to the handler signal', async () => {
    const ctl = control();
    // The handler logs once it waits for its signal: abort it then.
    ctl.log = (_stream, data) => ctl.abort(`job x stopped: cancel (${data.trim()})`);
    assert.deepEqual(failure(await runIsolated('waitsForAbort', ctl)), {
      class: 'application',
      message: 'job x stopped: cancel (waiting)',
    });
  });

  it('does not start the handler of a job stopped while its sandbox starts', async () => {
    const ctl = control();
    const running = runIsolated('whereAmI', ctl);
    ctl.abort('job x stopped: timeout');
    assert.deepEqual(await running, { status: 'cancelled' });
    assert.deepEqual(ctl.logs, [], 'never ran');
  });

  it('kills a sandbox whose handler ignores its abort after the kill grace', async () => {
    // Aborted once the handler runs: an abort before it starts cancels it instead (above).
    const { promise: started, resolve } = Promise.withResolvers<void>();
    const ctl = control({ log: (_stream, data) => data.includes('started') && resolve() });
    const running = runIsolated('startsThenIgnoresAbort', ctl, 50);
    await started;
    ctl.abort('job x stopped: timeout');
    const error = failure(await running);
    assert.equal(error.signal, 'SIGKILL');
  });
});
