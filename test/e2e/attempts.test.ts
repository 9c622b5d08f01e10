import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { createKey } from '../../src/api/auth/keys.ts';
import { createClient, type Attempt, type GafferClient } from '../../src/client/index.ts';
import { isTerminal } from '../../src/domain/job.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';
import { FLAKY_TWICE } from '../fixtures/job-types.ts';

/**
 * A job's attempt history (GET /v1/jobs/:id/attempts, the typed client, `gaffer job --attempts`)
 * against a real gaffer: retries, a worker killed mid-job, a timeout. Each attempt's row is
 * written with the state change that ended it, so once the job has ended its history is complete.
 */
const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');

const TYPES = {
  flaky: FLAKY_TWICE,
  // Its first attempt runs until aborted (or its process dies); later attempts succeed.
  stuck: {
    worker: { handler: 'test/e2e/fixtures/handlers.ts#stuckOnce' },
    retry: { maxAttempts: 3, backoffMs: 0 },
    scaling: { min: 0, max: 1 },
  },
  // Runs past any timeout; two attempts, each timed out.
  slow: {
    worker: { command: ['sh', '-c', 'exec sleep 60'] },
    retry: { maxAttempts: 2, backoffMs: 0 },
    deadLetter: false,
    scaling: { max: 1 },
  },
};

let g: TestGaffer;
let client: GafferClient;
let url: string;
before(async () => {
  g = await startGaffer({ autoscaler: { intervalMs: 100 }, jobTypes: TYPES });
  url = await g.app.listen({ host: '127.0.0.1', port: 0 });
  client = createClient({ url });
});
after(() => g.close());

async function submit(type: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await g.app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: { type, payload: {}, ...extra },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().job.id as string;
}

const ended = (id: string) =>
  until(g, async () => isTerminal((await g.orch.service.get(id)).state), [
    'job:succeeded',
    'job:failed',
    'job:retrying',
    'job:cancelled',
  ]);

/** The fields a test compares: which attempt, how it ended, what became of the job, why. */
const shape = (list: readonly Attempt[]) =>
  list.map((a) => ({
    attempt: a.attempt,
    outcome: a.outcome,
    jobState: a.jobState,
    class: a.error?.class ?? null,
  }));

describe('attempt history', () => {
  it('fails, retries, succeeds: three attempts in order, each with its worker, times and error', async () => {
    const id = await submit('flaky');
    await ended(id);
    const res = await g.app.inject({ method: 'GET', url: `/v1/jobs/${id}/attempts` });
    assert.equal(res.statusCode, 200, res.body);
    const attempts = res.json().attempts as Attempt[];
    assert.deepEqual(shape(attempts), [
      { attempt: 1, outcome: 'failed', jobState: 'queued', class: 'application' },
      { attempt: 2, outcome: 'failed', jobState: 'queued', class: 'application' },
      { attempt: 3, outcome: 'succeeded', jobState: 'succeeded', class: null },
    ]);
    attempts.slice(0, 2).forEach((a, i) => {
      assert.equal(a.error?.exitCode, 3);
      assert.match(a.error?.message ?? '', new RegExp(`attempt ${i + 1} refused`));
    });
    for (const a of attempts) {
      assert.ok(a.worker, 'each attempt names its worker');
      assert.ok(a.startedAt !== null && a.finishedAt >= a.startedAt, 'started, then ended');
    }
    const job = await g.orch.service.get(id);
    assert.equal(attempts.at(-1)?.finishedAt, job.finishedAt, 'the history agrees with the record');
    // The typed client reads the same route.
    assert.deepEqual(await client.jobs.attempts(id), attempts);
  });

  it('a worker killed mid-job: an infrastructure attempt with the worker lost, then a success', async () => {
    const id = await submit('stuck');
    await g.orch.events.once('job:started', ({ job }) => job.id === id);
    await until(g, () => g.orch.gateway.workers('stuck')[0]?.pid != null, ['worker:state']);
    const worker = g.orch.gateway.workers('stuck')[0]!;
    process.kill(worker.pid!, 'SIGKILL');
    await ended(id);
    const attempts = await client.jobs.attempts(id);
    assert.deepEqual(shape(attempts), [
      { attempt: 1, outcome: 'lost', jobState: 'queued', class: 'infrastructure' },
      { attempt: 2, outcome: 'succeeded', jobState: 'succeeded', class: null },
    ]);
    assert.equal(attempts[0]?.worker, worker.id);
    assert.equal(attempts[0]?.error?.workerLost, true);
    assert.equal(attempts[0]?.error?.signal, 'SIGKILL');
  });

  it('a timeout: each attempt is timed_out, the last one ends the job', async () => {
    const id = await submit('slow', { timeoutSeconds: 0.5 });
    await ended(id);
    assert.equal((await g.orch.service.get(id)).state, 'timed_out');
    assert.deepEqual(shape(await client.jobs.attempts(id)), [
      { attempt: 1, outcome: 'timed_out', jobState: 'queued', class: 'timeout' },
      { attempt: 2, outcome: 'timed_out', jobState: 'timed_out', class: 'timeout' },
    ]);
  });

  it('`gaffer job <id> --attempts` prints them (and with --json, as the API answers)', async () => {
    const id = await submit('flaky');
    await ended(id);
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [MAIN, '--url', url, ...args], {
        env: { ...process.env, GAFFER_API_KEY: '' },
      });
    const json = JSON.parse((await run(['--json', 'job', id, '--attempts'])).stdout) as {
      job: { id: string };
      attempts: Attempt[];
    };
    assert.equal(json.job.id, id);
    assert.deepEqual(json.attempts, await client.jobs.attempts(id));
    const text = (await run(['job', id, '--attempts'])).stdout;
    assert.match(text, /^attempts:$/m);
    assert.match(text, /failed, retried .*application: command .*attempt 1 refused/);
    assert.match(text, /succeeded/);
  });

  it('an unknown job: 404 GAFFER_JOB_NOT_FOUND', async () => {
    const res = await g.app.inject({ method: 'GET', url: '/v1/jobs/no-such-job/attempts' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'GAFFER_JOB_NOT_FOUND');
  });
});

describe('attempt history under auth', () => {
  const scoped = createKey('alpha-viewer');
  let a: TestGaffer;
  before(async () => {
    const held = { worker: { command: ['true'] }, scaling: { max: 0 } };
    a = await startGaffer({
      jobTypes: { alpha: held, beta: held },
      auth: { keys: [{ id: 'alpha-viewer', hash: scoped.hash, role: 'viewer', types: ['alpha'] }] },
    });
  });
  after(() => a.close());

  it("a job of a type out of the key's scope is an unknown id (404), as for GET /v1/jobs/:id", async () => {
    const read = async (type: string) => {
      const { job } = await a.orch.service.submit({ type, payload: {} });
      return a.app.inject({
        method: 'GET',
        url: `/v1/jobs/${job.id}/attempts`,
        headers: { authorization: `Bearer ${scoped.key}` },
      });
    };
    const own = await read('alpha');
    assert.equal(own.statusCode, 200, own.body);
    assert.deepEqual(own.json(), { attempts: [] });
    const other = await read('beta');
    assert.equal(other.statusCode, 404, other.body);
    assert.equal(other.json().error.code, 'GAFFER_JOB_NOT_FOUND');
  });
});
