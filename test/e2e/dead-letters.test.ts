import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

/**
 * Failures end to end: failure classes and their retry policies, non-retryable failures, and the
 * dead-letter queue's inspect, edit and replay through the API and the CLI.
 */
let g: TestGaffer;
before(async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      strict: {
        worker: { handler: 'test/e2e/fixtures/handlers.ts#needsOk' },
        payloadSchema: { type: 'object', properties: { ok: { type: 'boolean' } } },
        retry: { maxAttempts: 3, backoffMs: 0 },
        scaling: { max: 1 },
      },
      'exit-64': {
        worker: { command: ['sh', '-c', 'exit 64'] },
        retry: { maxAttempts: 3, backoffMs: 0, nonRetryableExitCodes: [64] },
        deadLetter: false,
        scaling: { max: 1 },
      },
      'exit-1': {
        worker: { command: ['sh', '-c', 'echo failing >&2; exit 1'] },
        retry: { maxAttempts: 4, backoffMs: 0, classes: { application: { maxAttempts: 2 } } },
        scaling: { max: 1 },
      },
      held: { worker: { command: ['true'] }, scaling: { max: 0 } },
    },
  });
  g.url = await g.app.listen({ host: '127.0.0.1', port: 0 });
});
after(() => g.close());

const inject = async (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
  g.app.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
const submit = async (type: string, payload: unknown) =>
  (await inject('POST', '/v1/jobs', { type, payload })).json().job as { id: string };
const stateIs = (id: string, state: string, replays = 0) =>
  until(g, async () => {
    const job = await g.orch.service.get(id);
    return job.state === state && job.replays === replays;
  });

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');
async function cli(...args: string[]) {
  const run = promisify(execFile)(process.execPath, [MAIN, '--url', g.url!, ...args]);
  return run.then(
    ({ stdout }) => ({ code: 0, stdout }),
    (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
  );
}

test('a handler error marked non-retryable ends the job after one attempt, in the DLQ', async () => {
  const { id } = await submit('strict', { ok: false });
  await stateIs(id, 'dead_lettered');
  const job = (await inject('GET', `/v1/dead-letters/${id}`)).json().job;
  assert.equal(job.attempt, 1, 'no retry though attempts remained');
  assert.deepEqual(
    [job.error.class, job.error.retryable, job.error.message],
    ['application', false, 'payload not ok'],
  );
  const listed = (await inject('GET', '/v1/dead-letters?type=strict')).json();
  assert.ok(listed.jobs.some((j: { id: string }) => j.id === id));
  assert.ok(!('leaseToken' in listed.jobs[0]), 'the lease token never leaves gaffer');
});

test('an exit code listed as non-retryable ends the job at once, marked on its error', async () => {
  const { id } = await submit('exit-64', {});
  await stateIs(id, 'failed');
  const job = await g.orch.service.get(id);
  assert.deepEqual([job.attempt, job.error?.exitCode, job.error?.retryable], [1, 64, false]);
});

test("a class limit ends application failures before the job's own maxAttempts", async () => {
  const { id } = await submit('exit-1', {});
  await stateIs(id, 'dead_lettered');
  const job = await g.orch.service.get(id);
  assert.deepEqual([job.attempt, job.maxAttempts, job.error?.class], [2, 4, 'application']);
  assert.equal(job.error?.retryable, undefined, 'retryable: only the class limit ended it');
});

test('edit (validated) then replay: a fresh run that succeeds, counted in replays', async () => {
  const { id } = await submit('strict', { ok: false });
  await stateIs(id, 'dead_lettered');

  const bad = await inject('PATCH', `/v1/dead-letters/${id}`, { payload: { ok: 'yes' } });
  assert.equal(bad.statusCode, 422);
  assert.equal(bad.json().error.code, 'GAFFER_PAYLOAD_INVALID');
  const empty = await inject('PATCH', `/v1/dead-letters/${id}`, {});
  assert.equal(empty.json().error.code, 'GAFFER_BAD_REQUEST');

  const edited = await inject('PATCH', `/v1/dead-letters/${id}`, {
    payload: { ok: true },
    maxAttempts: 5,
    priority: 2,
  });
  assert.equal(edited.statusCode, 200);
  assert.deepEqual(
    [edited.json().job.state, edited.json().job.maxAttempts, edited.json().job.priority],
    ['dead_lettered', 5, 2],
  );

  const replayed = (await inject('POST', `/v1/dead-letters/${id}/replay`)).json().job;
  assert.deepEqual([replayed.state, replayed.attempt, replayed.replays], ['queued', 0, 1]);
  await stateIs(id, 'succeeded', 1);
  const done = await g.orch.service.get(id);
  assert.deepEqual(done.result, { ok: true, attempt: 1 });

  const again = await inject('POST', `/v1/dead-letters/${id}/replay`);
  assert.equal(again.statusCode, 409);
  assert.equal(again.json().error.code, 'GAFFER_NOT_DEAD_LETTERED');
  const edit = await inject('PATCH', `/v1/dead-letters/${id}`, { priority: 1 });
  assert.equal(edit.json().error.code, 'GAFFER_NOT_DEAD_LETTERED');
  const missing = await inject('POST', '/v1/dead-letters/nope/replay');
  assert.equal(missing.json().error.code, 'GAFFER_JOB_NOT_FOUND');
});

test('bulk replay by type: each job runs again once; an empty selection is refused', async () => {
  const refused = await inject('POST', '/v1/dead-letters/replay', {});
  assert.equal(refused.statusCode, 400);

  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await submit('exit-1', { i })).id);
  for (const id of ids) await stateIs(id, 'dead_lettered');
  const queued = await submit('held', {});

  const res = await inject('POST', '/v1/dead-letters/replay', {
    ids: [...ids, queued.id, 'missing'],
  });
  const body = res.json();
  assert.deepEqual(body.jobIds, ids);
  assert.deepEqual(
    body.skipped.map((s: { id: string; code: string }) => [s.id, s.code]).sort(),
    [
      [queued.id, 'GAFFER_NOT_DEAD_LETTERED'],
      ['missing', 'GAFFER_JOB_NOT_FOUND'],
    ].sort(),
  );
  // They fail again (exit 1) and come back, each replayed exactly once.
  for (const id of ids) await stateIs(id, 'dead_lettered', 1);

  const byType = (await inject('POST', '/v1/dead-letters/replay', { type: 'exit-1' })).json();
  assert.ok(ids.every((id) => byType.jobIds.includes(id)));
  assert.equal(new Set(byType.jobIds).size, byType.jobIds.length, 'no job twice in one call');
  for (const id of ids) await stateIs(id, 'dead_lettered', 2);
});

test('the CLI: dlq list, show, edit and replay, with --json', async () => {
  const { id } = await submit('strict', { ok: false });
  await stateIs(id, 'dead_lettered');

  const list = await cli('--json', 'dlq', 'list', '--type', 'strict');
  assert.equal(list.code, 0);
  assert.ok(JSON.parse(list.stdout).jobs.some((j: { id: string }) => j.id === id));
  const table = await cli('dlq', 'list', '--type', 'strict');
  assert.match(table.stdout, /LAST ERROR/);
  assert.match(table.stdout, /application: payload not ok/);

  const show = await cli('dlq', 'show', id);
  assert.match(show.stdout, /not retryable/);

  const badEdit = await cli('dlq', 'edit', id);
  assert.equal(badEdit.code, 2, 'nothing to change is a usage error');
  const edit = await cli('--json', 'dlq', 'edit', id, '--payload', '{"ok":true}');
  assert.deepEqual(JSON.parse(edit.stdout).job.payload, { ok: true });

  const replay = await cli('--json', 'dlq', 'replay', id);
  assert.equal(JSON.parse(replay.stdout).job.replays, 1);
  await stateIs(id, 'succeeded', 1);

  const none = await cli('dlq', 'replay', id);
  assert.equal(none.code, 1, 'the API refused: not dead-lettered');
  const usage = await cli('dlq', 'replay');
  assert.equal(usage.code, 2);
});
