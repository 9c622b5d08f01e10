import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { createKey } from '../../src/api/auth/keys.ts';
import { startGrpcServer, type GrpcServer } from '../../src/api/grpc/server.ts';
import type * as pb from '../../src/api/grpc/types.ts';
import { fromGrpcJob, grpcExitCode, toSubmitRequest } from '../../src/cli/grpc-jobs.ts';
import { EXIT } from '../../src/cli/exit.ts';
import type { ApiJob } from '../../src/client/index.ts';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

const MAIN = path.resolve(import.meta.dirname, '../../src/cli/main.ts');

/** Runs the CLI as a subprocess; resolves with its exit code and output (never rejects). */
async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], {
      env: {
        ...process.env,
        GAFFER_URL: '',
        GAFFER_MODE: '',
        GAFFER_GRPC: '',
        GAFFER_API_KEY: '',
        ...env,
      },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A loopback port where nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('fromGrpcJob: a gRPC Job message as the REST job', () => {
  const base: pb.Job = {
    id: 'j-1',
    type: 'echo',
    queue: 'echo',
    state: 'JOB_STATE_QUEUED',
    payloadJson: '{"n":1}',
    priority: 5,
    attributesJson: '{"rows":10}',
    attempt: 0,
    maxAttempts: 3,
    replays: 0,
    timeoutMs: 60_000,
    createdAtMs: 1000,
    runAtMs: 1000,
    cancelRequested: false,
    resultJson: 'null',
    error: null,
    batchId: '',
    idempotencyKey: '',
    routeReason: '',
    data: null,
    leaseOwner: '',
  };
  const rest: ApiJob = {
    id: 'j-1',
    type: 'echo',
    queue: 'echo',
    payload: { n: 1 },
    priority: 5,
    attributes: { rows: 10 },
    state: 'queued',
    attempt: 0,
    maxAttempts: 3,
    replays: 0,
    timeoutMs: 60_000,
    createdAt: 1000,
    runAt: 1000,
    startedAt: null,
    finishedAt: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    cancelRequested: false,
    result: null,
    error: null,
    batchId: null,
    idempotencyKey: null,
    routeReason: null,
    data: null,
    resources: null,
  };
  const cases: [string, Partial<pb.Job>, Partial<ApiJob>][] = [
    ['a queued job: empty strings and absent times are null', {}, {}],
    [
      'its own resource request, the unset parts left out',
      { resources: { cpu: '500m', memory: '', gpus: 0 } },
      { resources: { cpu: '500m' } },
    ],
    [
      'a running job: lease and start',
      {
        state: 'JOB_STATE_RUNNING',
        attempt: 1,
        startedAtMs: 2000,
        leaseOwner: 'local-1',
        leaseExpiresAtMs: 9000,
      },
      {
        state: 'running',
        attempt: 1,
        startedAt: 2000,
        leaseOwner: 'local-1',
        leaseExpiresAt: 9000,
      },
    ],
    [
      'a succeeded job: its result parsed',
      { state: 'JOB_STATE_SUCCEEDED', finishedAtMs: 3000, resultJson: '[1,"a"]' },
      { state: 'succeeded', finishedAt: 3000, result: [1, 'a'] },
    ],
    [
      'a timed-out job: the state with an underscore',
      { state: 'JOB_STATE_TIMED_OUT' },
      { state: 'timed_out' },
    ],
    [
      'a failed job: the error, with only what is set',
      {
        state: 'JOB_STATE_FAILED',
        error: {
          class: 'application',
          message: 'exit 3',
          exitCode: 3,
          signal: '',
          nonRetryable: true,
          workerLost: false,
          oomKills: 0,
        },
      },
      {
        state: 'failed',
        error: { class: 'application', message: 'exit 3', exitCode: 3, retryable: false },
      },
    ],
    [
      'a crashed job: signal, lost worker, OOM kills',
      {
        state: 'JOB_STATE_DEAD_LETTERED',
        error: {
          class: 'oom',
          message: 'killed',
          signal: 'SIGKILL',
          nonRetryable: false,
          workerLost: true,
          oomKills: 2,
        },
      },
      {
        state: 'dead_lettered',
        error: {
          class: 'oom',
          message: 'killed',
          signal: 'SIGKILL',
          oomKills: 2,
          workerLost: true,
        },
      },
    ],
    [
      'batch, idempotency key, route, data, cancel flag',
      {
        batchId: 'batch-1',
        idempotencyKey: 'k',
        routeReason: 'rows > 5',
        data: { inputs: ['s3://b/in'], output: '' },
        cancelRequested: true,
      },
      {
        batchId: 'batch-1',
        idempotencyKey: 'k',
        routeReason: 'rows > 5',
        data: { inputs: ['s3://b/in'], output: null },
        cancelRequested: true,
      },
    ],
    [
      'data with an output; a null payload; empty JSON text',
      { data: { inputs: [], output: 's3://b/out/' }, payloadJson: 'null', attributesJson: '' },
      { data: { inputs: [], output: 's3://b/out/' }, payload: null, attributes: {} },
    ],
  ];
  for (const [name, message, expected] of cases) {
    it(name, () => {
      assert.deepEqual(fromGrpcJob({ ...base, ...message }), { ...rest, ...expected });
    });
  }

  it('a submission: a word priority goes as priority_name, data with an empty output', () => {
    assert.deepEqual(
      toSubmitRequest({
        type: 't',
        payload: { a: 1 },
        priority: 'high',
        attributes: { rows: 2 },
        idempotencyKey: 'k',
        maxAttempts: 2,
        timeoutSeconds: 7,
        data: { inputs: ['/in'] },
      }),
      {
        type: 't',
        payloadJson: '{"a":1}',
        priorityName: 'high',
        attributesJson: '{"rows":2}',
        idempotencyKey: 'k',
        maxAttempts: 2,
        timeoutSeconds: 7,
        data: { inputs: ['/in'], output: '' },
      },
    );
    assert.deepEqual(toSubmitRequest({ payload: {}, priority: 3 }), {
      payloadJson: '{}',
      priority: 3,
    });
  });

  it('gRPC statuses map to the exit codes of REST', () => {
    assert.equal(grpcExitCode(status.UNAUTHENTICATED), EXIT.auth);
    assert.equal(grpcExitCode(status.PERMISSION_DENIED), EXIT.auth);
    assert.equal(grpcExitCode(status.UNAVAILABLE), EXIT.connect);
    for (const s of [status.INVALID_ARGUMENT, status.NOT_FOUND, status.FAILED_PRECONDITION]) {
      assert.equal(grpcExitCode(s), EXIT.api);
    }
  });
});

describe('--mode grpc against a real gaffer', () => {
  let g: TestGaffer;
  let server: GrpcServer;
  let url: string;
  let grpc: string;
  const operator = createKey('cli-operator');
  const viewer = createKey('cli-viewer');
  /** The CLI in grpc mode with the operator's key (from the environment). */
  const viaGrpc = (args: string[], env: Record<string, string> = {}) =>
    cli(['--mode', 'grpc', '--grpc', grpc, ...args], { GAFFER_API_KEY: operator.key, ...env });
  const viaRest = (args: string[]) =>
    cli(['--url', url, ...args], { GAFFER_API_KEY: operator.key });
  const stateOf = async (id: string) =>
    (
      await g.app.inject({
        method: 'GET',
        url: `/v1/jobs/${id}`,
        headers: { authorization: `Bearer ${operator.key}` },
      })
    ).json<{ job: ApiJob }>().job.state;

  before(async () => {
    g = await startGaffer({
      jobTypes: {
        // max 0: no worker starts, so a submitted job stays queued.
        held: { worker: { command: ['true'] }, scaling: { max: 0 } },
        ok: {
          worker: { command: ['sh', '-c', 'echo {\\"ok\\":true}'] },
          scaling: { max: 1, threshold: 0 },
        },
        fails: {
          worker: { command: ['sh', '-c', 'echo boom >&2; exit 3'] },
          retry: { maxAttempts: 1, backoffMs: 0 },
          deadLetter: false,
          scaling: { max: 1, threshold: 0 },
        },
      },
      auth: {
        keys: [
          { id: 'cli-operator', hash: operator.hash, role: 'operator' },
          { id: 'cli-viewer', hash: viewer.hash, role: 'viewer' },
        ],
      },
    });
    url = await g.app.listen({ host: '127.0.0.1', port: 0 });
    server = await startGrpcServer(g.orch, { host: '127.0.0.1', port: 0 });
    grpc = `127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server.close();
    await g.close();
  });

  it('submit --wait succeeds: exit 0, the id, the result', async () => {
    const r = await viaGrpc(['submit', 'ok', '--wait']);
    assert.equal(r.code, 0, r.stderr);
    const [id, result] = r.stdout.trimEnd().split('\n');
    assert.match(id!, /\S/);
    assert.equal(result, '{"ok":true}');
    assert.match(r.stderr, /succeeded after 1 attempt\b/);
    assert.equal(await stateOf(id!), 'succeeded');
  });

  it('submit --wait of a failing job exits 1 with its error, as REST', async () => {
    const r = await viaGrpc(['submit', 'fails', '--wait']);
    assert.equal(r.code, EXIT.api, r.stderr);
    assert.match(r.stderr, /failed after 1 attempt\b/);
    assert.match(r.stderr, /error \(application\)/);
  });

  it('--json: submit, submit --wait and job have the same keys as in REST mode', async () => {
    const keys = (o: object) => Object.keys(o).sort();
    const [g1, r1] = await Promise.all([
      viaGrpc(['--json', 'submit', 'held', '--payload', '{"n":1}', '--priority', 'high']),
      viaRest(['--json', 'submit', 'held', '--payload', '{"n":1}', '--priority', 'high']),
    ]);
    assert.equal(g1.code, 0, g1.stderr);
    assert.equal(r1.code, 0, r1.stderr);
    const gs = JSON.parse(g1.stdout) as { job: ApiJob; created: boolean };
    const rs = JSON.parse(r1.stdout) as { job: ApiJob; created: boolean };
    assert.deepEqual(keys(gs), keys(rs));
    assert.deepEqual(keys(gs.job), keys(rs.job));
    assert.equal(gs.created, true);
    assert.deepEqual(gs.job.payload, { n: 1 });

    // The same job read both ways: equal, but for REST's `waiting` (why a queued job waits).
    const [gj, rj] = await Promise.all([
      viaGrpc(['--json', 'job', gs.job.id]),
      viaRest(['--json', 'job', gs.job.id]),
    ]);
    assert.equal(gj.code, 0, gj.stderr);
    const { waiting, ...restJob } = (JSON.parse(rj.stdout) as { job: ApiJob }).job;
    assert.ok(waiting, 'REST adds why a queued job waits');
    assert.deepEqual((JSON.parse(gj.stdout) as { job: ApiJob }).job, restJob);

    const [gw, rw] = await Promise.all([
      viaGrpc(['--json', 'submit', 'ok', '--wait']),
      viaRest(['--json', 'submit', 'ok', '--wait']),
    ]);
    assert.equal(gw.code, 0, gw.stderr);
    assert.equal(rw.code, 0, rw.stderr);
    const gEnd = JSON.parse(gw.stdout) as { job: ApiJob };
    const rEnd = JSON.parse(rw.stdout) as { job: ApiJob };
    assert.deepEqual(keys(gEnd), keys(rEnd));
    assert.deepEqual(keys(gEnd.job), keys(rEnd.job));
    assert.equal(gEnd.job.state, 'succeeded');
    assert.deepEqual(gEnd.job.result, { ok: true });
  });

  it('job prints the same status as in REST mode', async () => {
    const id = (await viaGrpc(['submit', 'held', '--attr', 'team=ml'])).stdout.trim();
    const [gj, rj] = await Promise.all([viaGrpc(['job', id]), viaRest(['job', id])]);
    assert.equal(gj.code, 0, gj.stderr);
    assert.match(gj.stdout, new RegExp(`^id:\\s+${id}$`, 'm'));
    assert.match(gj.stdout, /^state:\s+queued$/m);
    assert.match(gj.stdout, /"team": "ml"/);
    // REST adds the `waiting` line; every other line is the same (the time-relative ones aside).
    const stable = (text: string) =>
      text.split('\n').filter((l) => !/^(waiting|ran|created):/.test(l));
    assert.deepEqual(stable(gj.stdout), stable(rj.stdout));

    const missing = await viaGrpc(['job', 'nope']);
    assert.equal(missing.code, EXIT.api);
    assert.match(missing.stderr, /^error: GAFFER_JOB_NOT_FOUND: /);
  });

  it('cancel cancels a queued job; again is an API error', async () => {
    const id = (await viaGrpc(['submit', 'held'])).stdout.trim();
    const r = await viaGrpc(['cancel', id]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${id} cancelled\n`);
    assert.equal(await stateOf(id), 'cancelled');
    const again = await viaGrpc(['--json', 'cancel', id]);
    assert.equal(again.code, EXIT.api);
    const body = JSON.parse(again.stderr) as { error: { code: string; grpcStatus: string } };
    assert.equal(body.error.code, 'GAFFER_NOT_CANCELLABLE');
    assert.equal(body.error.grpcStatus, 'FAILED_PRECONDITION');
  });

  it('jobs lists by --type, --state and --limit, as REST does', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await viaGrpc(['submit', 'held'])).code, 0);
    const [gl, rl] = await Promise.all([
      viaGrpc(['--json', 'jobs', '--type', 'held', '--state', 'queued', '--limit', '2']),
      viaRest(['--json', 'jobs', '--type', 'held', '--state', 'queued', '--limit', '2']),
    ]);
    assert.equal(gl.code, 0, gl.stderr);
    const gPage = JSON.parse(gl.stdout) as { jobs: ApiJob[]; nextCursor: string | null };
    const rPage = JSON.parse(rl.stdout) as { jobs: ApiJob[]; nextCursor: string | null };
    assert.equal(gPage.jobs.length, 2);
    assert.ok(gPage.jobs.every((j) => j.type === 'held' && j.state === 'queued'));
    assert.ok(gPage.nextCursor, 'more than 2: a cursor');
    assert.deepEqual(
      gPage.jobs.map((j) => j.id),
      rPage.jobs.map((j) => j.id),
    );
    assert.deepEqual(Object.keys(gPage).sort(), Object.keys(rPage).sort());

    const next = await viaGrpc(['--json', 'jobs', '-t', 'held', '--cursor', gPage.nextCursor!]);
    assert.equal(next.code, 0, next.stderr);
    const ids = (JSON.parse(next.stdout) as { jobs: ApiJob[] }).jobs.map((j) => j.id);
    assert.ok(ids.length > 0 && ids.every((id) => !gPage.jobs.some((j) => j.id === id)));

    const table = await viaGrpc(['jobs', '--type', 'held', '-n', '1']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID\s+TYPE\s+STATE/);
    assert.match(table.stderr, /^more: gaffer jobs --cursor \S+/);

    const failed = await viaGrpc(['jobs', '--state', 'failed', '--type', 'fails']);
    assert.equal(failed.code, 0, failed.stderr);
    assert.match(failed.stdout, /\bfails\s+failed\b/);
  });

  it('an unknown type exits 1 with GAFFER_UNKNOWN_TYPE', async () => {
    const r = await viaGrpc(['submit', 'no-such-type']);
    assert.equal(r.code, EXIT.api);
    assert.match(r.stderr, /^error: GAFFER_UNKNOWN_TYPE: .*no-such-type/);
    assert.equal(r.stdout, '');
  });

  it('the API key goes as metadata: none or too weak a key exits 4', async () => {
    const none = await viaGrpc(['jobs'], { GAFFER_API_KEY: '' });
    assert.equal(none.code, EXIT.auth, none.stderr);
    assert.match(none.stderr, /GAFFER_UNAUTHORIZED/);
    const id = (await viaGrpc(['submit', 'held'])).stdout.trim();
    const weak = await viaGrpc(['--api-key', viewer.key, 'cancel', id]);
    assert.equal(weak.code, EXIT.auth, weak.stderr);
    assert.match(weak.stderr, /GAFFER_FORBIDDEN/);
    const read = await viaGrpc(['--api-key', viewer.key, 'job', id]);
    assert.equal(read.code, 0, read.stderr);
  });

  it('a command grpc mode does not serve is a usage error naming those it does', async () => {
    for (const args of [['queues'], ['dlq', 'list'], ['wait', 'j-1']]) {
      const r = await viaGrpc(args);
      assert.equal(r.code, EXIT.usage, `${args.join(' ')}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /not available in grpc mode; grpc mode supports submit, job, cancel, jobs/,
      );
    }
    const env = await cli(['queues'], { GAFFER_MODE: 'grpc' });
    assert.equal(env.code, EXIT.usage, 'GAFFER_MODE=grpc too');
    assert.equal((await cli(['--mode', 'soap', 'jobs'])).code, EXIT.usage);
    assert.equal((await viaGrpc(['jobs', '--search', 'x'])).code, EXIT.usage);
  });

  it('an unreachable address exits 3', async () => {
    const port = await closedPort();
    for (const args of [
      ['job', 'j-1'],
      ['submit', 'ok', '--wait'],
    ]) {
      const r = await cli(['--mode', 'grpc', ...args], { GAFFER_GRPC: `127.0.0.1:${port}` });
      assert.equal(r.code, EXIT.connect, r.stderr);
      assert.match(r.stderr, new RegExp(`cannot connect to 127\\.0\\.0\\.1:${port}`));
    }
  });
});
