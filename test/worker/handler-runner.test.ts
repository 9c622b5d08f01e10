import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { describe, it } from 'node:test';
import { createHandlerRunner } from '../../src/worker/handler-runner.ts';
import type { JobControl } from '../../src/worker/runtime.ts';
import { assignment, HANDLERS, ROOT } from '../fixtures/harness.ts';

function control(): JobControl & { logs: string[] } {
  const logs: string[] = [];
  return {
    signal: new AbortController().signal,
    log: (stream, data) => logs.push(`${stream}:${data}`),
    logs,
  };
}

describe('handler runner', () => {
  it('runs the default export with the job context; its return value is the result', async () => {
    const runner = await createHandlerRunner(relative(ROOT, HANDLERS), ROOT);
    assert.equal(runner.inProcess, true);
    const job = assignment({ payload: { hello: 'world' }, attempt: 2 });
    const outcome = await runner.run(job, control());
    assert.deepEqual(outcome, {
      status: 'succeeded',
      result: { payload: { hello: 'world' }, attempt: 2, type: 'test', id: job.id },
    });
  });

  it('runs a named export (path#name); undefined becomes a null result', async () => {
    const runner = await createHandlerRunner(`${HANDLERS}#noop`);
    assert.deepEqual(await runner.run(assignment(), control()), {
      status: 'succeeded',
      result: null,
    });
  });

  it('reports a rejection or a synchronous throw as an application failure', async () => {
    for (const [name, message] of [
      ['fails', 'handler said no'],
      ['throwsSync', 'thrown at once'],
    ] as const) {
      const runner = await createHandlerRunner(`${HANDLERS}#${name}`);
      assert.deepEqual(await runner.run(assignment(), control()), {
        status: 'failed',
        error: { class: 'application', message },
      });
    }
  });

  it('sends ctx.log lines as stdout log text', async () => {
    const runner = await createHandlerRunner(`${HANDLERS}#logs`);
    const ctl = control();
    assert.deepEqual(await runner.run(assignment(), ctl), {
      status: 'succeeded',
      result: 'logged',
    });
    assert.deepEqual(ctl.logs, ['stdout:hello from the handler\n']);
  });

  it('fails every job with the reason when the handler cannot be loaded', async () => {
    for (const ref of [`${HANDLERS}#missing`, 'no/such/module.ts']) {
      const runner = await createHandlerRunner(ref, ROOT);
      const outcome = await runner.run(assignment(), control());
      assert.equal(outcome.status, 'failed');
      assert.equal(outcome.status === 'failed' && outcome.error.class, 'application');
      assert.match(outcome.status === 'failed' ? outcome.error.message : '', /cannot load handler/);
    }
  });
});
