import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { createKey } from '../../src/api/auth/keys.ts';
import { createGrpcClient, type GrpcClient } from '../../src/api/grpc/client.ts';
import { startGrpcServer, type GrpcServer } from '../../src/api/grpc/server.ts';
import { GafferError } from '../../src/errors.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createGaffer, type Gaffer } from '../../src/library/gaffer.ts';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

/**
 * The checks every submission meets, front end by front end (HTTP, batch items, NDJSON lines, CSV
 * uploads, gRPC, the library): unknown fields, timeouts, priorities, idempotency-key scope, the
 * audit of ad-hoc jobs, and a bad job in a group commit failing alone.
 */

const BOUNDARY = 'gafferboundary';
const multipart = (csv: string) =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="rows.csv"\r\n` +
  `Content-Type: text/csv\r\n\r\n${csv}\r\n--${BOUNDARY}--\r\n`;

function keyring() {
  const make = (id: string, types?: string[]) => {
    const { key, hash } = createKey(id);
    return { key, entry: { id, hash, role: 'operator', ...(types ? { types } : {}) } };
  };
  return {
    alpha: make('team-alpha', ['alpha']),
    beta: make('team-beta', ['beta']),
    ops: make('ops'),
  };
}

let g: TestGaffer;
let grpcServer: GrpcServer;
let grpc: GrpcClient;
/** gaffer as a library (its own store): the same checks, made on calls in code. */
let library: Gaffer;
let libraryDir: string;
const keys = keyring();
const HELD = { worker: { command: ['true'] }, scaling: { max: 0 } };
const SETTINGS = {
  jobTypes: { alpha: HELD, beta: { ...HELD, maxTimeoutSeconds: 120 } },
  // Ad-hoc jobs never run here (max 0): only their records and audit entries are looked at.
  adhoc: { enabled: true, maxTimeoutSeconds: 120, scaling: { max: 0 } },
};

before(async () => {
  g = await startGaffer({ ...SETTINGS, auth: { keys: Object.values(keys).map((k) => k.entry) } });
  grpcServer = await startGrpcServer(g.orch, { host: '127.0.0.1', port: 0 });
  grpc = createGrpcClient({ address: `127.0.0.1:${grpcServer.port}`, apiKey: keys.ops.key });
  libraryDir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-library-'));
  library = await createGaffer({
    config: { ...SETTINGS, store: { dataDir: libraryDir, synchronous: 'NORMAL' } },
  });
});
after(async () => {
  grpc.close();
  await grpcServer.close();
  await g.close();
  await library.close();
  rmSync(libraryDir, { recursive: true, force: true });
});

const call = (
  method: InjectOptions['method'],
  url: string,
  payload: unknown,
  key = keys.ops.key,
  contentType?: string,
) =>
  g.app.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${key}`,
      ...(contentType ? { 'content-type': contentType } : {}),
    },
    payload: payload as string,
  });
const post = (url: string, body: unknown, key?: string) => call('POST', url, body, key);
const ndjson = (lines: unknown[], query = '?type=alpha') =>
  call(
    'POST',
    `/v1/batches${query}`,
    lines.map((l) => JSON.stringify(l)).join('\n'),
    keys.ops.key,
    'application/x-ndjson',
  );
const csv = (text: string, query: string) =>
  call(
    'POST',
    `/v1/batches${query}`,
    multipart(text),
    keys.ops.key,
    `multipart/form-data; boundary=${BOUNDARY}`,
  );
const count = async () => (await g.orch.store.list({ limit: 1000 })).jobs.length;

/** The catalogue code a library call rejected with. */
async function libraryCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof GafferError, String(err));
    return err.code;
  }
  return 'accepted';
}

describe('unknown top-level fields are refused, each named, and nothing is created', () => {
  const extra = { startAt: 1_900_000_000_000, delaySeconds: 60, priorty: 5 };
  const named = (message: string) => {
    for (const f of Object.keys(extra)) assert.match(message, new RegExp(`"${f}"`));
  };

  test('POST /v1/jobs: 400 GAFFER_UNKNOWN_FIELD naming startAt, delaySeconds and priorty', async () => {
    const before = await count();
    const res = await post('/v1/jobs', { type: 'alpha', payload: 1, ...extra });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().error.code, 'GAFFER_UNKNOWN_FIELD');
    named(res.json().error.message);
    assert.deepEqual(res.json().error.details.fields, Object.keys(extra));
    assert.equal(await count(), before);
  });

  test('a batch item: rejected by index, its neighbours accepted; a batch field: the batch refused', async () => {
    const res = await post('/v1/jobs/batch', {
      type: 'alpha',
      jobs: [{ payload: 1 }, { payload: 2, ...extra }, { payload: 3 }],
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().accepted, 2);
    const [rejected] = res.json().rejected;
    assert.equal(rejected.index, 1);
    assert.equal(rejected.code, 'GAFFER_UNKNOWN_FIELD');
    named(rejected.message);
    const whole = await post('/v1/jobs/batch', { type: 'alpha', jobs: [{}], runAt: 1 });
    assert.equal(whole.statusCode, 400);
    assert.equal(whole.json().error.code, 'GAFFER_UNKNOWN_FIELD');
  });

  test('an NDJSON line: rejected with its line number', async () => {
    const res = await ndjson([{ payload: 1 }, { payload: 2, delaySeconds: 60 }]);
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().batch.accepted, 1);
    assert.deepEqual(
      res.json().rejected.map((r: { row: number; code: string }) => [r.row, r.code]),
      [[2, 'GAFFER_UNKNOWN_FIELD']],
    );
  });

  test('POST /v1/run: a misspelt field is refused', async () => {
    const res = await post('/v1/run', { cmd: 'true', timout: 5 });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().error.code, 'GAFFER_UNKNOWN_FIELD');
    assert.match(res.json().error.message, /"timout"/);
  });

  test('the library: submit and submitMany', async () => {
    const sub = { type: 'alpha', payload: 1, ...extra } as never;
    assert.equal(await libraryCode(library.submit(sub)), 'GAFFER_UNKNOWN_FIELD');
    const many = await library.submitMany([{ type: 'alpha' }, sub]);
    assert.equal(many.accepted.length, 1);
    assert.deepEqual(
      many.rejected.map((r) => [r.index, r.code]),
      [[1, 'GAFFER_UNKNOWN_FIELD']],
    );
  });

  test('a CSV upload keeps its meaning: every column is a payload field', async () => {
    const res = await csv('runAt,delaySeconds\n1,2\n', '?type=alpha');
    assert.equal(res.statusCode, 201, res.body);
    const id = res.json().batch.id;
    const [job] = (await g.orch.store.list({ limit: 1, batchId: id })).jobs;
    assert.deepEqual(job?.payload, { runAt: '1', delaySeconds: '2' });
  });
});

describe('timeouts: refused when non-finite, under 1 ms, or over a ceiling once converted', () => {
  const bad: [string, unknown, string][] = [
    ['0.0001 (0 ms: no timer)', 0.0001, 'GAFFER_BAD_REQUEST'],
    ['"Infinity"', 'Infinity', 'GAFFER_BAD_REQUEST'],
    ['1e306', 1e306, 'GAFFER_TIMEOUT_TOO_LONG'],
    ['"1e306"', '1e306', 'GAFFER_TIMEOUT_TOO_LONG'],
    ['"0x10" (never read as 16)', '0x10', 'GAFFER_BAD_REQUEST'],
  ];
  for (const [name, timeoutSeconds, code] of bad) {
    test(`${name}: POST /v1/jobs, a batch item, an NDJSON line, POST /v1/run`, async () => {
      const before = await count();
      const single = await post('/v1/jobs', { type: 'alpha', timeoutSeconds });
      assert.equal(single.statusCode, 400, single.body);
      assert.equal(single.json().error.code, code);
      // Text of no decimal form fails the API schema: the whole batch, as any malformed field.
      const batch = await post('/v1/jobs/batch', { type: 'alpha', jobs: [{ timeoutSeconds }] });
      const batchCode =
        batch.statusCode === 400 ? batch.json().error.code : batch.json().rejected[0]?.code;
      assert.equal(batchCode, code, batch.body);
      const lines = await ndjson([{ timeoutSeconds }]);
      assert.equal(lines.json().rejected[0]?.code, code, lines.body);
      const run = await post('/v1/run', { cmd: 'sleep 1000', timeoutSeconds });
      assert.ok(run.statusCode === 400, run.body);
      assert.equal(await count(), before, 'nothing created');
    });
  }

  test('the ceiling is checked on the converted value: the ad-hoc 120 s ceiling holds', async () => {
    const over = await post('/v1/jobs', {
      type: 'adhoc',
      payload: { cmd: 'true' },
      timeoutSeconds: 120.001,
    });
    assert.equal(over.json().error.code, 'GAFFER_TIMEOUT_TOO_LONG');
    const at = await post('/v1/jobs', {
      type: 'adhoc',
      payload: { cmd: 'true' },
      timeoutSeconds: 0.001,
    });
    assert.equal(at.statusCode, 201, at.body);
    assert.equal(at.json().job.timeoutMs, 1);
  });

  test('the library', async () => {
    for (const [, timeoutSeconds, code] of bad) {
      if (typeof timeoutSeconds !== 'number') continue;
      assert.equal(await libraryCode(library.submit('alpha', 1, { timeoutSeconds })), code);
    }
    const inf = library.submit('alpha', 1, { timeoutSeconds: Infinity });
    assert.equal(await libraryCode(inf), 'GAFFER_BAD_REQUEST');
  });
});

describe('priorities: integers within ±1,000,000 or low/normal/high, parsed strictly', () => {
  test('"0x10", "1e1", 1e10 and 2.5 are refused; "16" and "high" are read', async () => {
    for (const priority of ['0x10', '1e1', 1e10, 2.5, 'urgent']) {
      const res = await post('/v1/jobs', { type: 'alpha', priority });
      assert.equal(res.statusCode, 400, `${priority}: ${res.body}`);
      assert.equal(res.json().error.code, 'GAFFER_BAD_REQUEST');
    }
    const text = await post('/v1/jobs', { type: 'alpha', priority: '16' });
    assert.equal(text.json().job.priority, 16);
    assert.deepEqual(text.json().job.attributes, {});
    const named = await post('/v1/jobs', { type: 'alpha', priority: 'high' });
    assert.equal(named.json().job.priority, 10);
  });

  test('an upload whose ?priority= is malformed is refused before a row is read', async () => {
    const up = await csv('n\n1\n', '?type=alpha&priority=0x10');
    assert.equal(up.statusCode, 400, up.body);
    assert.equal(up.json().error.code, 'GAFFER_BAD_REQUEST');
    const lines = await ndjson([{}], '?type=alpha&priority=1e400');
    assert.equal(lines.statusCode, 400, lines.body);
    const ok = await csv('n\n1\n', '?type=alpha&priority=7');
    const [job] = (await g.orch.store.list({ limit: 1, batchId: ok.json().batch.id })).jobs;
    assert.equal(job?.priority, 7);
  });

  test('the library', async () => {
    const code = await libraryCode(library.submit('alpha', 1, { priority: '0x10' }));
    assert.equal(code, 'GAFFER_BAD_REQUEST');
  });
});

describe('idempotency keys: scoped by job type and submitter', () => {
  test('a key another team used for its type never returns that team’s job', async () => {
    // team-alpha plants a key; team-beta's later submission with that key is its own new job.
    const planted = await post(
      '/v1/jobs',
      { type: 'alpha', payload: 'secret-a', idempotencyKey: 'deploy-1' },
      keys.alpha.key,
    );
    assert.equal(planted.statusCode, 201, planted.body);
    const victim = await post(
      '/v1/jobs',
      { type: 'beta', payload: 'mine', idempotencyKey: 'deploy-1' },
      keys.beta.key,
    );
    assert.equal(victim.statusCode, 201, victim.body);
    assert.notEqual(victim.json().job.id, planted.json().job.id);
    assert.equal(victim.json().job.payload, 'mine');
    assert.doesNotMatch(victim.body, /secret-a/);
  });

  test('the same key: per type for one submitter, per submitter for one type', async () => {
    const a = await post('/v1/jobs', { type: 'alpha', idempotencyKey: 'k-2' });
    const b = await post('/v1/jobs', { type: 'beta', idempotencyKey: 'k-2' });
    const teamA = await post('/v1/jobs', { type: 'alpha', idempotencyKey: 'k-2' }, keys.alpha.key);
    const ids = [a, b, teamA].map((r) => {
      assert.equal(r.statusCode, 201, r.body);
      return r.json().job.id;
    });
    assert.equal(new Set(ids).size, 3);
    const again = await post('/v1/jobs', { type: 'alpha', idempotencyKey: 'k-2' }, keys.alpha.key);
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().job.id, teamA.json().job.id);
  });

  test('the same key with a different submission: 409, and the job is not shown', async () => {
    await post('/v1/jobs', { type: 'alpha', payload: { n: 1 }, idempotencyKey: 'k-3' });
    for (const change of [
      { payload: { n: 2 } },
      { priority: 5 },
      { maxAttempts: 7 },
      { timeoutSeconds: 9 },
    ]) {
      const res = await post('/v1/jobs', {
        type: 'alpha',
        payload: { n: 1 },
        idempotencyKey: 'k-3',
        ...change,
      });
      assert.equal(res.statusCode, 409, JSON.stringify(change));
      assert.equal(res.json().error.code, 'GAFFER_IDEMPOTENCY_CONFLICT');
      assert.equal(res.json().job, undefined);
    }
    // Key order inside the payload is not a difference.
    const same = await post('/v1/jobs', {
      type: 'alpha',
      payload: { n: 1 },
      idempotencyKey: 'k-3',
    });
    assert.equal(same.statusCode, 200);
  });

  test('a batch, an NDJSON upload, gRPC and the library: conflicts rejected by item, scopes apart', async () => {
    await post('/v1/jobs', { type: 'alpha', payload: 1, idempotencyKey: 'k-4' });
    const batch = await post('/v1/jobs/batch', {
      type: 'alpha',
      jobs: [
        { payload: 1, idempotencyKey: 'k-4' },
        { payload: 2, idempotencyKey: 'k-4' },
      ],
    });
    assert.equal(batch.json().accepted, 1, batch.body);
    assert.deepEqual(
      batch.json().rejected.map((r: { code: string }) => r.code),
      ['GAFFER_IDEMPOTENCY_CONFLICT'],
    );
    const lines = await ndjson([{ payload: 2, idempotencyKey: 'k-4' }]);
    assert.equal(lines.json().rejected[0]?.code, 'GAFFER_IDEMPOTENCY_CONFLICT', lines.body);
    const viaGrpc = await grpc.submitJob({
      type: 'alpha',
      payloadJson: '1',
      idempotencyKey: 'k-4',
    });
    assert.equal(viaGrpc.created, false, 'gRPC with the ops key is the same submitter');
    const lib = await library.submit('alpha', 1, { idempotencyKey: 'k-4' });
    assert.equal(lib.created, true);
    assert.equal((await library.submit('alpha', 1, { idempotencyKey: 'k-4' })).id, lib.id);
    assert.equal(
      await libraryCode(library.submit('alpha', 2, { idempotencyKey: 'k-4' })),
      'GAFFER_IDEMPOTENCY_CONFLICT',
    );
  });
});

describe("dedup modes, front end by front end, within the key's scope", () => {
  test('live: HTTP, a batch item, gRPC and the library return the live job, whatever its payload', async () => {
    const live = { mode: 'live' };
    const first = await post('/v1/jobs', {
      type: 'alpha',
      payload: 1,
      idempotencyKey: 'd-1',
      dedup: live,
    });
    assert.equal(first.statusCode, 201, first.body);
    const id = first.json().job.id as string;
    const again = await post('/v1/jobs', {
      type: 'alpha',
      payload: 2,
      idempotencyKey: 'd-1',
      dedup: live,
    });
    assert.deepEqual([again.statusCode, again.json().job.id], [200, id], again.body);
    const batch = await post('/v1/jobs/batch', {
      type: 'alpha',
      jobs: [{ payload: 3, idempotencyKey: 'd-1', dedup: live }],
    });
    assert.deepEqual(batch.json().rejected, [], batch.body);
    const viaGrpc = await grpc.submitJob({
      type: 'alpha',
      payloadJson: '4',
      idempotencyKey: 'd-1',
      dedup: { mode: 'live' },
    });
    assert.deepEqual([viaGrpc.created, viaGrpc.job?.id], [false, id]);
    const other = await post(
      '/v1/jobs',
      { type: 'alpha', payload: 1, idempotencyKey: 'd-1', dedup: live },
      keys.alpha.key,
    );
    assert.equal(other.statusCode, 201, "another submitter's key is another key");
    const lib = await library.submit('alpha', 1, {
      idempotencyKey: 'd-1',
      dedup: { mode: 'live' },
    });
    const libAgain = await library.submit('alpha', 2, {
      idempotencyKey: 'd-1',
      dedup: { mode: 'live' },
    });
    assert.equal(libAgain.id, lib.id);
  });

  test("debounce over HTTP: the waiting job's payload replaced, its start pushed back", async () => {
    const debounce = { mode: 'debounce', debounceSeconds: 60 };
    const first = await post('/v1/jobs', {
      type: 'alpha',
      payload: 1,
      idempotencyKey: 'd-2',
      dedup: debounce,
    });
    const again = await post('/v1/jobs', {
      type: 'alpha',
      payload: 2,
      idempotencyKey: 'd-2',
      dedup: debounce,
    });
    assert.equal(again.json().job.id, first.json().job.id, again.body);
    const stored = await g.orch.service.get(first.json().job.id as string);
    assert.equal(stored.payload, 2);
    assert.ok(stored.runAt >= first.json().job.createdAt + 60_000, 'due a window after the last');
  });

  test('a bad dedup is a 400 on every front end', async () => {
    const cases: [unknown, string][] = [
      [{ mode: 'live' }, 'without an idempotency key'],
      [{ mode: 'sometimes' }, 'an unknown mode'],
      [{ mode: 'ttl' }, 'a ttl without its window'],
      [{ mode: 'live', debounceSeconds: 5 }, "another mode's window"],
    ];
    for (const [dedup, why] of cases) {
      const key = why.startsWith('without') ? {} : { idempotencyKey: 'd-3' };
      const res = await post('/v1/jobs', { type: 'alpha', payload: 1, ...key, dedup });
      assert.equal(res.statusCode, 400, `${why}: ${res.body}`);
      const code = await libraryCode(library.submit({ type: 'alpha', ...key, dedup } as never));
      assert.equal(code, 'GAFFER_BAD_REQUEST', why);
    }
  });
});

describe('every ad-hoc job created is audited as job.run, whatever the route', () => {
  const runs = async () =>
    (await g.orch.store.listAudit({ action: 'job.run', limit: 1000 })).entries;

  test('POST /v1/run, /v1/jobs, a batch, /submit/adhoc, CSV, NDJSON, gRPC and the library', async () => {
    const before = (await runs()).length;
    const created: string[] = [];
    const ok = (id: string | undefined) => {
      assert.ok(id);
      created.push(id);
    };
    ok((await post('/v1/run', { cmd: 'echo run', env: { TOKEN: 'hunter2' } })).json().job.id);
    ok((await post('/v1/jobs', { type: 'adhoc', payload: { cmd: 'echo jobs' } })).json().job.id);
    const batch = await post('/v1/jobs/batch', {
      type: 'adhoc',
      jobs: [{ payload: { cmd: 'echo b1' } }, { payload: { cmd: 'echo b2' } }],
    });
    for (const id of batch.json().jobIds) ok(id);
    ok((await post('/submit/adhoc', { cmd: 'echo alias' })).json().job_id);
    const up = await csv('cmd\necho csv\n', '?type=adhoc');
    assert.equal(up.json().batch.accepted, 1, up.body);
    const lines = await ndjson([{ payload: { cmd: 'echo ndjson' } }], '?type=adhoc');
    assert.equal(lines.json().batch.accepted, 1, lines.body);
    for (const id of [up.json().batch.id, lines.json().batch.id]) {
      ok((await g.orch.store.list({ limit: 1, batchId: id })).jobs[0]?.id);
    }
    ok((await grpc.submitJob({ type: 'adhoc', payloadJson: '{"cmd":"echo grpc"}' })).job.id);

    const entries = (await runs()).slice(0, (await runs()).length - before);
    const byJob = new Map(entries.map((e) => [e.target, e]));
    for (const id of created) assert.ok(byJob.has(id), `job ${id} has a job.run entry`);
    assert.equal(entries.length, created.length, 'one entry per job');
    const first = byJob.get(created[0]!)!;
    assert.equal(first.actor, 'ops');
    assert.equal(first.outcome, 'ok');
    assert.deepEqual(first.details, {
      type: 'adhoc',
      cmd: 'echo run',
      image: 'busybox',
      env: ['TOKEN'],
    });
    assert.doesNotMatch(JSON.stringify(entries), /hunter2/, 'never an environment value');
    assert.equal((byJob.get(created.at(-1)!)?.details as { api?: string }).api, 'grpc');
  });

  test('the library: actor "library"', async () => {
    const url = library.url ?? (await library.listen({ port: 0 }));
    const job = await library.submit({ type: 'adhoc', payload: { cmd: 'echo library' } });
    const res = await fetch(`${url}/v1/audit?action=job.run`);
    const { entries } = (await res.json()) as { entries: { actor: string; target: string }[] };
    assert.deepEqual(
      entries.map((e) => [e.actor, e.target]),
      [['library', job.id]],
    );
  });
});

describe('group commit: one bad job never fails its neighbours', () => {
  test('a payload the store cannot serialize fails alone; the jobs committed with it succeed', async () => {
    // Its toJSON throws only when the store serializes it, inside the group's transaction.
    const poison = {
      toJSON: () => {
        throw new Error('cannot serialize');
      },
    };
    const [bad, ...good] = await Promise.allSettled([
      library.submit('alpha', 'innocent-1'),
      library.submit({ type: 'alpha', payload: poison }),
      library.submitMany([{ type: 'beta', payload: 'innocent-2' }]),
      library.submit('alpha', 'innocent-3'),
    ]).then(([a, b, ...rest]) => [b, a, ...rest]);
    assert.equal(bad?.status, 'rejected');
    const reason = (bad as PromiseRejectedResult).reason as GafferError;
    assert.equal(reason.code, 'GAFFER_BAD_REQUEST', 'its own fault: a 4xx, not a 503');
    for (const r of good) {
      assert.equal(r.status, 'fulfilled', r.status === 'rejected' ? String(r.reason) : '');
    }
  });
});
