import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { createGaffer, type JobContext } from 'gaffer';
import { createGrpcClient, type GrpcClient } from '../../src/api/grpc/client.ts';
import { startGrpcServer, type GrpcServer } from '../../src/api/grpc/server.ts';
import { api, gafferDir, spawnGaffer, untilEvent } from '../helpers/process.ts';
import { multipart, REPO, startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

type JobView = {
  id: string;
  state: string;
  attempt: number;
  createdAt: number;
  runAt: number;
  startedAt: number | null;
};

/**
 * Delayed jobs: a job submitted with `runAt` or `delay` is not started before it is due, through
 * the real `gaffer up` (also when gaffer restarts in between, with and without a broker), and every
 * front end carries the due time.
 */

for (const broker of ['none', 'embedded'] as const) {
  describe(`gaffer up, broker ${broker}: a job with runAt 3 s ahead`, () => {
    const config = [
      'autoscaler: { intervalMs: 100 }',
      'leases: { ttlMs: 10000, sweepMs: 500 }',
      `broker: { kind: ${broker} }`,
      'jobTypes:',
      '  work:',
      '    worker: { handler: test/e2e/fixtures/handlers.ts#row }',
      '    scaling: { min: 0, max: 1 }',
    ];
    const submitAhead = async (url: string) => {
      const runAt = new Date(Date.now() + 3000).toISOString();
      const { job } = await api<{ job: JobView }>(url, '/v1/jobs', {
        type: 'work',
        payload: { n: 1 },
        runAt,
      });
      assert.equal(job.runAt, Date.parse(runAt), 'the due time is the one asked for');
      return job;
    };
    const done = (url: string, id: string) =>
      untilEvent(
        url,
        async () => (await api<{ job: JobView }>(url, `/v1/jobs/${id}`)).job.state === 'succeeded',
      );

    test('runs after it and not before', async () => {
      const { args } = gafferDir('gaffer-delay-', config);
      const g = await spawnGaffer(args);
      try {
        const submitted = await submitAhead(g.url);
        await done(g.url, submitted.id);
        const { job } = await api<{ job: JobView }>(g.url, `/v1/jobs/${submitted.id}`);
        assert.ok(job.startedAt! >= job.runAt, `started ${job.startedAt} ≥ due ${job.runAt}`);
        assert.equal(job.attempt, 1);
      } finally {
        g.child.kill('SIGTERM');
        await g.exited;
      }
    });

    test('runs after it and not before across a kill -9 and restart of gaffer', async () => {
      const { args } = gafferDir('gaffer-delay-restart-', config);
      const first = await spawnGaffer(args);
      const submitted = await submitAhead(first.url);
      first.child.kill('SIGKILL');
      await first.exited;
      const second = await spawnGaffer(args);
      try {
        await done(second.url, submitted.id);
        const { job } = await api<{ job: JobView }>(second.url, `/v1/jobs/${submitted.id}`);
        assert.ok(job.startedAt! >= job.runAt, `started ${job.startedAt} ≥ due ${job.runAt}`);
        assert.equal(job.attempt, 1);
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
    });
  });
}

describe('every front end carries the due time', () => {
  let g: TestGaffer;
  let grpc: GrpcServer;
  let client: GrpcClient;
  before(async () => {
    g = await startGaffer({
      jobTypes: {
        held: {
          worker: { handler: 'test/e2e/fixtures/handlers.ts#row' },
          scaling: { min: 0, max: 0 },
        },
      },
    });
    grpc = await startGrpcServer(g.orch, { host: '127.0.0.1', port: 0 });
    client = createGrpcClient({ address: `127.0.0.1:${grpc.port}` });
  });
  after(async () => {
    client?.close();
    await grpc?.close();
    await g?.close();
  });
  const delayOf = async (id: string) => {
    const job = await g.orch.service.get(id);
    return job.runAt - job.createdAt;
  };

  test('POST /v1/jobs: delay; the view shows runAt, the waiting reason delayed with its ETA', async () => {
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: 'held', delay: '1h' },
    });
    assert.equal(res.statusCode, 201, res.body);
    const id = res.json().job.id as string;
    assert.equal(await delayOf(id), 3_600_000);
    const view = (await g.app.inject({ url: `/v1/jobs/${id}` })).json();
    assert.equal(view.job.runAt, view.job.createdAt + 3_600_000);
    assert.equal(view.job.waiting.reason, 'delayed');
    assert.equal(view.job.waiting.estimatedStartAt, view.job.runAt);
    const now = await g.app.inject({ method: 'POST', url: '/v1/jobs', payload: { type: 'held' } });
    const listed = (await g.app.inject({ url: '/v1/jobs?state=delayed' })).json().jobs as {
      id: string;
      state: string;
    }[];
    assert.ok(
      listed.some((j) => j.id === id),
      'state=delayed lists the delayed job',
    );
    assert.ok(!listed.some((j) => j.id === now.json().job.id), 'and not a due one');
    assert.ok(
      listed.every((j) => j.state === 'queued'),
      'a view of queued jobs',
    );
  });

  test('POST /v1/jobs: runAt and delay both, or malformed → 400 GAFFER_DELAY_INVALID', async () => {
    for (const body of [
      { runAt: '2030-01-01T00:00:00Z', delay: 5 },
      { runAt: '2026-12-07T12:00:00' },
      { delay: '5 minutes' },
      { delay: -1 },
    ]) {
      const res = await g.app.inject({
        method: 'POST',
        url: '/v1/jobs',
        payload: { type: 'held', ...body },
      });
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json().error.code, 'GAFFER_DELAY_INVALID', JSON.stringify(body));
    }
  });

  test('a batch line', async () => {
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/jobs/batch',
      payload: { type: 'held', jobs: [{ delay: 60 }, {}] },
    });
    assert.equal(res.statusCode, 201, res.body);
    const [delayed, now] = res.json().jobIds as string[];
    assert.equal(await delayOf(delayed!), 60_000);
    assert.equal(await delayOf(now!), 0);
  });

  test('NDJSON lines: their own delay, else the query’s', async () => {
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/batches?type=held&delay=2m',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: '{"payload":1}\n{"payload":2,"delay":"5s"}\n',
    });
    assert.equal(res.statusCode, 201, res.body);
    const jobs = (await g.orch.store.list({ batchId: res.json().batch.id, limit: 10 })).jobs;
    const delays = jobs.map((j) => [j.payload, j.runAt - j.createdAt]).sort();
    assert.deepEqual(delays, [
      [1, 120_000],
      [2, 5_000],
    ]);
  });

  test('a CSV upload: the query parameter delays every row', async () => {
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/batches?type=held&delay=90',
      ...multipart('rows.csv', 'a\n1\n2\n'),
    });
    assert.equal(res.statusCode, 201, res.body);
    const jobs = (await g.orch.store.list({ batchId: res.json().batch.id, limit: 10 })).jobs;
    assert.deepEqual(
      jobs.map((j) => j.runAt - j.createdAt),
      [90_000, 90_000],
    );
    const bad = await g.app.inject({
      method: 'POST',
      url: '/v1/batches?type=held&delay=soon',
      ...multipart('rows.csv', 'a\n1\n'),
    });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.equal(bad.json().error.code, 'GAFFER_DELAY_INVALID');
  });

  test('a CSV upload: a row’s own gaffer.delay / gaffer.runAt cell, else the query’s; a bad cell rejects that row', async () => {
    const at = g.clock.now() + 300_000;
    const csv = [
      'n,gaffer.delay,gaffer.runAt',
      '1,30s,',
      '2,,',
      `3,,${new Date(at).toISOString()}`,
      '4,soon,',
      '5,10,2030-01-01T00:00:00Z',
      '6,5m,',
    ].join('\n');
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/batches?type=held&delay=90',
      ...multipart('rows.csv', csv + '\n'),
    });
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json() as {
      batch: { id: string; accepted: number; rejected: number };
      rejected: { row: number; code: string }[];
    };
    assert.deepEqual(
      body.rejected.map((r) => [r.row, r.code]),
      [
        [5, 'GAFFER_DELAY_INVALID'],
        [6, 'GAFFER_DELAY_INVALID'],
      ],
    );
    assert.equal(body.batch.accepted, 4);
    const jobs = (await g.orch.store.list({ batchId: body.batch.id, limit: 10 })).jobs;
    const byN = Object.fromEntries(jobs.map((j) => [(j.payload as { n: string }).n, j] as const));
    assert.deepEqual(
      jobs
        .map((j) => j.payload)
        .sort((a, b) => Number((a as { n: string }).n) - Number((b as { n: string }).n)),
      [{ n: '1' }, { n: '2' }, { n: '3' }, { n: '6' }],
      'the reserved columns are not payload fields',
    );
    assert.equal(byN['1']!.runAt - byN['1']!.createdAt, 30_000);
    assert.equal(byN['2']!.runAt - byN['2']!.createdAt, 90_000, 'an empty cell: the query’s');
    assert.equal(byN['3']!.runAt, at);
    assert.equal(byN['6']!.runAt - byN['6']!.createdAt, 300_000);
    const stored = await g.app.inject({ url: `/v1/batches/${body.batch.id}/rejected` });
    assert.match(stored.body, /^5,GAFFER_DELAY_INVALID,/m);
  });

  test('a CSV upload: an unknown gaffer. column rejects every row, never taken for payload', async () => {
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/batches?type=held',
      ...multipart('rows.csv', 'n,gaffer.dealy\n1,30s\n2,1m\n'),
    });
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json() as {
      batch: { accepted: number };
      rejected: { code: string; message: string }[];
    };
    assert.equal(body.batch.accepted, 0);
    assert.deepEqual(
      body.rejected.map((r) => r.code),
      ['GAFFER_UNKNOWN_FIELD', 'GAFFER_UNKNOWN_FIELD'],
    );
    assert.match(body.rejected[0]!.message, /gaffer\.dealy/);
  });

  test('NDJSON: a line with a bad delay is rejected as GAFFER_DELAY_INVALID, the others go on', async () => {
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/batches?type=held',
      headers: { 'content-type': 'application/x-ndjson' },
      payload:
        '{"payload":1,"delay":"soon"}\n{"payload":2,"delay":"5s"}\n{"payload":3,"runAt":"2026-12-07T12:00:00"}\n',
    });
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json() as {
      batch: { accepted: number };
      rejected: { row: number; code: string }[];
    };
    assert.equal(body.batch.accepted, 1);
    assert.deepEqual(
      body.rejected.map((r) => [r.row, r.code]),
      [
        [1, 'GAFFER_DELAY_INVALID'],
        [3, 'GAFFER_DELAY_INVALID'],
      ],
    );
  });

  test('gRPC SubmitJob: run_at and delay', async () => {
    const at = g.clock.now() + 600_000;
    const byTime = await client.submitJob({ type: 'held', runAt: String(at) });
    assert.equal(byTime.job.runAtMs, at);
    const byDelay = await client.submitJob({ type: 'held', delay: '10m' });
    assert.equal(await delayOf(byDelay.job.id), 600_000);
  });

  test('gRPC ListJobs delayed: the queued jobs not yet due, as HTTP state=delayed', async () => {
    const later = await client.submitJob({ type: 'held', delay: '1h' });
    const due = await client.submitJob({ type: 'held' });
    const ids = async (req: Parameters<GrpcClient['listJobs']>[0]) =>
      (await client.listJobs({ type: 'held', limit: 1000, ...req })).jobs.map((j) => j.id);
    const http = (await g.app.inject({ url: '/v1/jobs?type=held&state=delayed&limit=1000' }))
      .json()
      .jobs.map((j: { id: string }) => j.id) as string[];
    const delayed = await ids({ delayed: true });
    assert.ok(delayed.includes(later.job.id), 'the delayed job is listed');
    assert.ok(!delayed.includes(due.job.id), 'a due one is not');
    assert.deepEqual(delayed, http, 'the same page as HTTP state=delayed');
    assert.deepEqual(await ids({ delayed: true, state: 'JOB_STATE_QUEUED' }), delayed);
    const got = await client.getJob(later.job.id);
    assert.equal(got.waiting?.reason, 'delayed', 'GetJob says why it waits');
    assert.equal(got.waiting?.estimatedStartAtMs, later.job.runAtMs);
    assert.equal((await client.listJobs({ type: 'held' })).jobs[0]?.waiting ?? null, null);
    await assert.rejects(client.listJobs({ delayed: true, state: 'JOB_STATE_RUNNING' }), (err) => {
      assert.equal((err as { gafferCode?: string }).gafferCode, 'GAFFER_BAD_REQUEST');
      return true;
    });
  });

  test('the CLI: gaffer submit --delay and --run-at', async () => {
    const url = await g.app.listen({ host: '127.0.0.1', port: 0 });
    const cli = async (...args: string[]) =>
      (
        await promisify(execFile)(
          process.execPath,
          [path.join(REPO, 'src/cli/main.ts'), 'submit', 'held', ...args, '--url', url],
          { env: { ...process.env, GAFFER_URL: '' } },
        )
      ).stdout.trim();
    const cliJson = async <T>(...args: string[]): Promise<T> =>
      JSON.parse(
        (
          await promisify(execFile)(
            process.execPath,
            [path.join(REPO, 'src/cli/main.ts'), ...args, '--json', '--url', url],
            { env: { ...process.env, GAFFER_URL: '' } },
          )
        ).stdout,
      ) as T;
    assert.equal(await delayOf(await cli('--delay', '45s')), 45_000);
    // `gaffer upload --delay`: every row's due time, unless the row's own gaffer.delay cell.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-upload-delay-'));
    try {
      const file = path.join(dir, 'rows.csv');
      writeFileSync(file, 'n,gaffer.delay\n1,\n2,5s\n');
      const out = await cliJson<{ batch: { id: string; accepted: number } }>(
        ...['upload', file, '--type', 'held', '--delay', '2m', '--no-progress'],
      );
      assert.equal(out.batch.accepted, 2);
      const jobs = (await g.orch.store.list({ batchId: out.batch.id, limit: 10 })).jobs;
      assert.deepEqual(
        jobs.map((j) => [(j.payload as { n: string }).n, j.runAt - j.createdAt]).sort(),
        [
          ['1', 120_000],
          ['2', 5_000],
        ],
      );
      // `gaffer submit-batch --delay --expire-in`: each job's, unless it sets its own; JSON and
      // NDJSON alike.
      const batch = path.join(dir, 'jobs.json');
      writeFileSync(
        batch,
        JSON.stringify([{ payload: { n: '3' } }, { payload: { n: '4' }, delay: '5s' }]),
      );
      const lines = path.join(dir, 'jobs.ndjson');
      writeFileSync(lines, '{"payload":{"n":"5"}}\n{"payload":{"n":"6"},"expireIn":"2h"}\n');
      for (const f of [batch, lines]) {
        const res = await cliJson<{ batchId?: string; batch?: { id: string } }>(
          ...['submit-batch', f, '--type', 'held', '--delay', '2m', '--expire-in', '1h'],
        );
        const batchId = res.batchId ?? res.batch!.id;
        const got = (await g.orch.store.list({ batchId, limit: 10 })).jobs;
        assert.deepEqual(
          got
            .map((j) => [
              (j.payload as { n: string }).n,
              j.runAt - j.createdAt,
              j.expiresAt! - j.createdAt,
            ])
            .sort(),
          f === batch
            ? [
                ['3', 120_000, 3_600_000],
                ['4', 5_000, 3_600_000],
              ]
            : [
                ['5', 120_000, 3_600_000],
                ['6', 120_000, 7_200_000],
              ],
          f,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // `gaffer jobs --state delayed` and `gaffer job ID`, over REST and over gRPC.
    const run = async (...args: string[]) =>
      (
        await promisify(execFile)(process.execPath, [path.join(REPO, 'src/cli/main.ts'), ...args], {
          env: { ...process.env, GAFFER_URL: '', GAFFER_GRPC: '', GAFFER_MODE: '' },
        })
      ).stdout;
    const delayedId = await cli('--delay', '1h');
    for (const mode of [
      ['--url', url],
      ['--mode', 'grpc', '--grpc', `127.0.0.1:${grpc.port}`],
    ]) {
      const table = await run(
        'jobs',
        '--state',
        'delayed',
        '--type',
        'held',
        '-n',
        '1000',
        ...mode,
      );
      assert.match(table, /^ID +TYPE +STATE +DUE +ATTEMPT/m, mode.join(' '));
      assert.match(table, new RegExp(`^${delayedId} +held +delayed +in 59m \\d\\ds +0/`, 'm'));
      const shown = await run('job', delayedId, ...mode);
      assert.match(shown, /^state: +delayed, due in 59m \d\ds$/m, mode.join(' '));
      assert.match(shown, /^run at: +\d{4}-/m);
    }
    const at = g.clock.now() + 900_000;
    const id = await cli('--run-at', new Date(at).toISOString());
    assert.equal((await g.orch.service.get(id)).runAt, at);
  });
});

describe('the library', () => {
  test('submit with delay: the job starts only once due', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-delay-lib-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const gaffer = await createGaffer({
      config: { store: { dataDir: dir, synchronous: 'NORMAL' } },
      jobs: { tick: { handler: (ctx: JobContext<null>) => ctx.attempt } },
    });
    try {
      const handle = await gaffer.submit('tick', null, { delay: '1s' });
      assert.equal(handle.job.runAt, handle.job.createdAt + 1000);
      assert.equal(await handle.result(), 1);
      const job = await gaffer.job(handle.id);
      assert.ok(job.startedAt! >= job.runAt, `started ${job.startedAt} ≥ due ${job.runAt}`);
    } finally {
      await gaffer.close();
    }
  });
});

describe('queue-wait expiry', () => {
  let g: TestGaffer;
  before(async () => {
    g = await startGaffer({
      // No sweep on its own: the test sweeps at chosen times of gaffer's clock.
      leases: { ttlMs: 600_000, sweepMs: 300_000 },
      jobTypes: {
        held: {
          worker: { handler: 'test/e2e/fixtures/handlers.ts#row' },
          scaling: { min: 0, max: 0 },
        },
      },
    });
  });
  after(() => g?.close());
  const post = (url: string, payload?: object) =>
    g.app.inject({ method: 'POST', url, ...(payload ? { payload } : {}) });

  test('a job not started by its expiry ends as expired, never run; counted; retryable', async () => {
    const res = await post('/v1/jobs', { type: 'held', expireIn: '10s' });
    assert.equal(res.statusCode, 201, res.body);
    const { id, expiresAt, createdAt } = res.json().job;
    assert.equal(expiresAt, createdAt + 10_000);
    const kept = (await post('/v1/jobs', { type: 'held', expireIn: '1h' })).json().job.id;
    await g.orch.sweep();
    assert.equal((await g.orch.service.get(id)).state, 'queued', 'not yet');
    const seen: string[] = [];
    const off = g.orch.events.on('job:expired', ({ job }) => seen.push(job.id));
    g.clock.advance(10_000);
    await g.orch.sweep();
    off();
    assert.deepEqual(seen, [id]);
    const job = (await g.app.inject({ url: `/v1/jobs/${id}` })).json().job;
    assert.equal(job.state, 'expired');
    assert.equal(job.startedAt, null);
    assert.equal(job.attempt, 0);
    assert.equal((await g.orch.service.get(kept)).state, 'queued');
    const listed = (await g.app.inject({ url: '/v1/jobs?state=expired' })).json();
    assert.deepEqual(
      listed.jobs.map((j: { id: string }) => j.id),
      [id],
    );
    const metrics = (await g.app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /gaffer_jobs_finished_total\{type="held",state="expired"\} 1/);
    const retried = await post(`/v1/jobs/${id}/retry`);
    assert.equal(retried.statusCode, 200, retried.body);
    assert.equal(retried.json().job.state, 'queued');
    assert.equal(retried.json().job.expiresAt, undefined, 'a retry runs without the expiry');
  });

  test('an expiry not after the due time, or both forms → 400 GAFFER_EXPIRY_INVALID', async () => {
    for (const body of [
      { delay: '1m', expireIn: '30s' },
      { expireIn: '5s', expiresAt: '2030-01-01T00:00:00Z' },
      { expireIn: 'never' },
    ]) {
      const res = await post('/v1/jobs', { type: 'held', ...body });
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      assert.equal(res.json().error.code, 'GAFFER_EXPIRY_INVALID', JSON.stringify(body));
    }
  });
});
