import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

let g: TestGaffer;
before(async () => {
  g = await startGaffer({
    autoscaler: { intervalMs: 100 },
    jobTypes: {
      echo: {
        worker: { command: ['sh', '-c', 'cat; echo; echo "to stderr" >&2'] },
        scaling: { max: 2 },
      },
      held: { worker: { command: ['true'] }, scaling: { max: 0 } },
      chatty: {
        mode: 'per-job',
        worker: { handler: 'test/e2e/fixtures/handlers.ts#chatty' },
        scaling: { max: 1 },
      },
      sleepy: {
        worker: { command: ['sh', '-c', 'echo started; sleep 60'] },
        scaling: { max: 1 },
      },
    },
  });
});
after(() => g.close());

const post = (url: string, payload?: unknown) =>
  g.app.inject({
    method: 'POST',
    url,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
const get = (url: string) => g.app.inject({ method: 'GET', url });

test('a command job: payload on stdin, result from stdout, stdout and stderr kept as logs', async () => {
  const { job } = (await post('/v1/jobs', { type: 'echo', payload: { hello: 'world' } })).json();
  await until(g, async () => (await g.orch.service.get(job.id)).state === 'succeeded');
  const done = (await get(`/v1/jobs/${job.id}`)).json().job;
  assert.deepEqual(done.result, { hello: 'world' });
  const { lines } = (await get(`/v1/jobs/${job.id}/logs`)).json();
  assert.ok(
    lines.some(
      (l: { stream: string; data: string }) =>
        l.stream === 'stderr' && l.data.includes('to stderr'),
    ),
  );
  assert.ok(
    lines.some(
      (l: { stream: string; data: string }) => l.stream === 'stdout' && l.data.includes('hello'),
    ),
  );
});

test("a per-job worker's own stdout is its job's log", async () => {
  const { job } = (await post('/v1/jobs', { type: 'chatty', payload: {} })).json();
  const logged = async () =>
    (await g.orch.store.logs(job.id)).some((l) => l.data.includes(`hello from ${job.id}`));
  const succeeded = async () => (await g.orch.service.get(job.id)).state === 'succeeded';
  await until(g, async () => (await logged()) && (await succeeded()), ['job:log', 'job:succeeded']);
});

test('idempotency key: the same submission again returns the first job with 200', async () => {
  const first = await post('/v1/jobs', { type: 'held', payload: { a: 1 }, idempotencyKey: 'k-1' });
  const second = await post('/v1/jobs', { type: 'held', payload: { a: 1 }, idempotencyKey: 'k-1' });
  assert.equal(first.statusCode, 201);
  assert.equal(second.statusCode, 200);
  assert.equal(second.json().job.id, first.json().job.id);
  assert.ok(!('leaseToken' in first.json().job), 'the lease token never leaves gaffer');
  const other = await post('/v1/jobs', { type: 'held', payload: { a: 2 }, idempotencyKey: 'k-1' });
  assert.equal(other.statusCode, 409, 'the key with a different submission is a conflict');
  assert.equal(other.json().error.code, 'GAFFER_IDEMPOTENCY_CONFLICT');
});

test('batch JSON submission: valid items accepted together, invalid ones reported by index', async () => {
  const res = await post('/v1/jobs/batch', {
    type: 'held',
    jobs: [{ payload: 1 }, { type: 'nope' }, { payload: 3 }],
  });
  assert.equal(res.statusCode, 201);
  const body = res.json();
  assert.equal(body.accepted, 2);
  assert.deepEqual(
    body.rejected.map((r: { index: number; code: string }) => [r.index, r.code]),
    [[1, 'GAFFER_UNKNOWN_TYPE']],
  );
  const batch = (await get(`/v1/batches/${body.batchId}`)).json().batch;
  assert.equal(batch.byState.queued, 2);
});

test('cancel a queued job, retry it, and cancel a running one (its process is stopped)', async () => {
  const { job } = (await post('/v1/jobs', { type: 'held', payload: {} })).json();
  assert.equal((await post(`/v1/jobs/${job.id}/cancel`)).json().job.state, 'cancelled');
  assert.equal(
    (await post(`/v1/jobs/${job.id}/cancel`)).json().error.code,
    'GAFFER_NOT_CANCELLABLE',
  );
  assert.equal((await post(`/v1/jobs/${job.id}/retry`)).json().job.state, 'queued');

  const running = (await post('/v1/jobs', { type: 'sleepy', payload: {} })).json().job;
  await until(g, async () => (await g.orch.service.logs(running.id)).length > 0, [
    'job:log' as never,
    'job:started',
  ]);
  await post(`/v1/jobs/${running.id}/cancel`);
  await until(g, async () => (await g.orch.service.get(running.id)).state === 'cancelled', [
    'job:cancelled',
    'job:failed',
    'job:retrying',
  ]);
});

test('queues, workers, scaling decisions and their seed aliases', async () => {
  const queues = (await get('/v1/queues')).json().queues;
  assert.deepEqual(queues.map((q: { type: string }) => q.type).sort(), [
    'chatty',
    'echo',
    'held',
    'sleepy',
  ]);
  assert.deepEqual((await get('/queues/status')).json().queues.length, 4);
  for (const q of queues as { ready: number; inFlight: number; backlog: number }[]) {
    assert.equal(q.backlog, q.ready + q.inFlight, 'backlog is ready + in flight');
  }
  const desired = (await get('/desired-worker-scale')).json().types;
  assert.ok('echo' in desired && 'current' in desired.echo && 'desired' in desired.echo);
  const decisions = (await get('/v1/scaling/decisions?type=echo')).json().decisions;
  assert.ok(decisions.length > 0 && typeof decisions[0].reason === 'string');
  assert.equal((await get('/v1/workers')).statusCode, 200);
});

test('metrics, health, readiness, OpenAPI and the dashboard are served', async () => {
  const metrics = (await get('/metrics')).body;
  for (const name of [
    'job_queue_length',
    'worker_pool_size',
    'gaffer_jobs_submitted_total',
    'gaffer_job_duration_seconds',
  ]) {
    assert.match(metrics, new RegExp(`^# HELP ${name} `, 'm'));
  }
  assert.match(metrics, /^job_queue_length\{type="held"\} \d+/m);
  assert.equal((await get('/healthz')).json().status, 'ok');
  assert.equal((await get('/readyz')).statusCode, 200);
  const openapi = (await get('/openapi.json')).json();
  assert.ok(openapi.paths['/v1/jobs'] && openapi.paths['/v1/batches'] && openapi.paths['/upload']);
  const page = await get('/');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<html/i);
});
