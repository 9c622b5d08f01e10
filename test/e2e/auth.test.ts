import assert from 'node:assert/strict';
import http from 'node:http';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { declaredRoutes, roleAllows, ROLES, type Role } from '../../src/api/auth/access.ts';
import { createKey } from '../../src/api/auth/keys.ts';
import type { Job, JobError } from '../../src/domain/job.ts';
import { multipart, startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

/**
 * Authentication, roles, type scope, sessions, rate limits and the audit log, against a
 * real gaffer: the role table walks the app's own route list, so a new route is covered as soon
 * as it exists.
 */

const BOOM: JobError = { class: 'application', message: 'boom', exitCode: 1, signal: null };
const WORKER_TOKEN = 'worker-token-0123456789abcdef';

function keyring() {
  const make = (id: string, role: Role, types?: string[]) => {
    const { key, hash } = createKey(id);
    return { key, entry: { id, hash, role, ...(types ? { types } : {}) } };
  };
  return {
    viewer: make('viewer-1', 'viewer'),
    submitter: make('submitter-1', 'submitter'),
    operator: make('operator-1', 'operator'),
    alphaSub: make('alpha-sub', 'submitter', ['alpha']),
    alphaOp: make('alpha-op', 'operator', ['alpha']),
  };
}
type Keys = ReturnType<typeof keyring>;

/** Two types whose jobs never run (scaling.max 0), so every state change is the test's own. */
function jobTypes() {
  const type = { worker: { command: ['true'] }, scaling: { max: 0 }, retry: { maxAttempts: 1 } };
  return {
    jobTypes: { alpha: type, beta: type },
    // An untyped job with kind "b" is routed to beta, any other to alpha.
    routes: { rules: [{ when: { field: 'kind', equals: 'b' }, type: 'beta' }, { type: 'alpha' }] },
  };
}

const bearer = (key: string | undefined): Record<string, string> =>
  key === undefined ? {} : { authorization: `Bearer ${key}` };

function caller(g: TestGaffer) {
  return (
    method: InjectOptions['method'],
    url: string,
    opts: { key?: string; payload?: unknown; headers?: Record<string, string>; ip?: string } = {},
  ): Promise<LightMyRequestResponse> =>
    g.app.inject({
      method,
      url,
      headers: { ...bearer(opts.key), ...opts.headers },
      ...(opts.payload === undefined ? {} : { payload: opts.payload as object }),
      ...(opts.ip ? { remoteAddress: opts.ip } : {}),
    });
}

/** A job of `type`, submitted by the store's own service (no key needed). */
async function submit(g: TestGaffer, type: string): Promise<Job> {
  return (await g.orch.service.submit({ type, payload: { n: 1 }, maxAttempts: 1 })).job;
}

/** A job of `type` that failed its only attempt: dead-lettered. */
async function deadLettered(g: TestGaffer, type: string): Promise<Job> {
  const job = await submit(g, type);
  const [claimed] = await g.orch.service.claim(type, 'test-owner', 1, 'running', [job.id]);
  assert.ok(claimed?.leaseToken != null);
  const after = await g.orch.service.complete(claimed, claimed.leaseToken, {
    status: 'failed',
    error: BOOM,
  });
  assert.equal(after?.state, 'dead_lettered');
  return after!;
}

/** Status of a request over a real socket, closed once the headers arrive (the SSE stream). */
function statusOverHttp(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { method, headers, agent: false }, (res) => {
      resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] });
      res.destroy();
      req.destroy();
    });
    req.on('error', reject);
    req.end();
  });
}

/** `gaffer_session=<id>` from a login's Set-Cookie. */
const cookieOf = (res: LightMyRequestResponse) => String(res.headers['set-cookie']).split(';')[0]!;

/** The error code of an answer; undefined without a JSON body (a HEAD request's answer). */
const codeOf = (res: LightMyRequestResponse): string | undefined =>
  res.body && res.headers['content-type']?.toString().includes('json')
    ? res.json().error?.code
    : undefined;

describe('auth on', () => {
  const keys: Keys = keyring();
  let g: TestGaffer;
  let call: ReturnType<typeof caller>;
  let base: string;

  before(async () => {
    g = await startGaffer({
      ...jobTypes(),
      server: { workerToken: WORKER_TOKEN },
      auth: {
        keys: Object.values(keys).map((k) => k.entry),
        // The role table sends hundreds of wrong keys from one address.
        failedAuthLimit: { max: 100_000, timeWindowMs: 60_000 },
      },
    });
    call = caller(g);
    base = await g.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => g.close());

  test('every route: no key 401, a wrong key 401, a role without its access 403, a role with it passes', async (t) => {
    const routes = declaredRoutes(g.app).filter((r) => r.access !== 'worker');
    assert.ok(routes.length > 40, `only ${routes.length} routes found`);
    const wrongKey = keys.operator.key.slice(0, -4) + 'AAAA';
    const job = await submit(g, 'alpha');
    for (const route of routes) {
      const url = route.url.replace(':id', job.id).replace(':type', 'alpha');
      const send = async (key: string | undefined) => {
        if (route.url === '/v1/events') {
          // Passing the checks opens an endless stream: read the status over a socket, then close.
          const { status } = await statusOverHttp(base, route.method, url, bearer(key));
          return { status, code: undefined };
        }
        const res = await call(route.method as InjectOptions['method'], url, { key });
        return { status: res.statusCode, code: codeOf(res) };
      };
      await t.test(`${route.method} ${route.url} (${route.access})`, async () => {
        if (route.access === 'public') {
          const { status } = await send(undefined);
          assert.ok(status !== 401 && status !== 403, `public route answered ${status}`);
          return;
        }
        // HEAD answers carry no body; the stream's status is read over a socket, without it.
        const code = (c: string) =>
          route.method === 'HEAD' || route.url === '/v1/events' ? undefined : c;
        const unauthorized = { status: 401, code: code('GAFFER_UNAUTHORIZED') };
        assert.deepEqual(await send(undefined), unauthorized);
        assert.deepEqual(await send(wrongKey), unauthorized);
        for (const role of ROLES) {
          const got = await send(keys[role].key);
          if (roleAllows(role, route.access!)) {
            assert.ok(got.status !== 401 && got.status !== 403, `${role}: ${JSON.stringify(got)}`);
          } else {
            assert.deepEqual(got, { status: 403, code: code('GAFFER_FORBIDDEN') }, role);
          }
        }
      });
    }
  });

  test('a malformed Authorization header is 401, not a 500', async () => {
    for (const header of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer gaffer_x_y', 'gaffer_only']) {
      const res = await call('GET', '/v1/jobs', { headers: { authorization: header } });
      assert.equal(res.statusCode, 401, header);
      assert.equal(codeOf(res), 'GAFFER_UNAUTHORIZED');
    }
  });

  describe('type scope', () => {
    test('a scoped key submits its types only, also when routing picks the type', async () => {
      const as = { key: keys.alphaSub.key };
      const typed = (type: string) =>
        call('POST', '/v1/jobs', { ...as, payload: { type, payload: {} } });
      assert.equal((await typed('alpha')).statusCode, 201);
      const beta = await typed('beta');
      assert.equal(beta.statusCode, 403);
      assert.equal(codeOf(beta), 'GAFFER_FORBIDDEN');
      const routed = await call('POST', '/v1/jobs', { ...as, payload: { payload: { kind: 'b' } } });
      assert.equal(routed.statusCode, 403);
      assert.match(routed.json().error.message, /type beta \(routed/);
      const toAlpha = await call('POST', '/v1/jobs', {
        ...as,
        payload: { payload: { kind: 'a' } },
      });
      assert.equal(toAlpha.statusCode, 201);
      assert.equal(toAlpha.json().job.type, 'alpha');
      assert.equal((await call('POST', '/submit/beta', { ...as, payload: {} })).statusCode, 403);
      assert.equal((await call('POST', '/submit/alpha', { ...as, payload: {} })).statusCode, 201);
      assert.equal(
        (await call('POST', '/submit-job', { ...as, payload: { kind: 'b' } })).statusCode,
        403,
      );
    });

    test('a JSON batch keeps the rows in scope and rejects the others with GAFFER_FORBIDDEN', async () => {
      const res = await call('POST', '/v1/jobs/batch', {
        key: keys.alphaSub.key,
        payload: {
          jobs: [
            { type: 'alpha', payload: {} },
            { type: 'beta', payload: {} },
            { payload: { kind: 'b' } },
            { payload: { kind: 'a' } },
          ],
        },
      });
      assert.equal(res.statusCode, 201);
      const body = res.json();
      assert.equal(body.accepted, 2);
      assert.deepEqual(
        body.rejected.map((r: { index: number; code: string }) => [r.index, r.code]),
        [
          [1, 'GAFFER_FORBIDDEN'],
          [2, 'GAFFER_FORBIDDEN'],
        ],
      );
    });

    test('a CSV upload keeps the rows in scope and rejects the others; a type out of scope is 403', async () => {
      const upload = (query: string) => {
        const boundary = 'gafferboundary';
        const csv = 'kind,n\na,1\nb,2\na,3\n';
        return call('POST', `/v1/batches${query}`, {
          key: keys.alphaSub.key,
          headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
          payload:
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="rows.csv"\r\n` +
            `Content-Type: text/csv\r\n\r\n${csv}\r\n--${boundary}--\r\n`,
        });
      };
      const res = await upload('');
      assert.equal(res.statusCode, 201, res.body);
      const { batch, rejected } = res.json();
      assert.equal(batch.accepted, 2);
      assert.deepEqual(
        rejected.map((r: { row: number; code: string }) => [r.row, r.code]),
        [[3, 'GAFFER_FORBIDDEN']],
      );
      const beta = await upload('?type=beta');
      assert.equal(beta.statusCode, 403);
    });

    test("a mixed batch's rejected rows (raw rows of any type) are for keys of every type only; another type's batch is an unknown id", async () => {
      const boundary = 'gafferboundary';
      const csv = 'kind,n\na,1\nb,2\n';
      const mixed = await call('POST', '/v1/batches', {
        key: keys.operator.key,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        payload:
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="rows.csv"\r\n` +
          `Content-Type: text/csv\r\n\r\n${csv}\r\n--${boundary}--\r\n`,
      });
      assert.equal(mixed.statusCode, 201, mixed.body);
      const id = mixed.json().batch.id as string;
      await g.orch.store.addRejectedRows(id, [
        { row: 9, raw: '{"secret":"of beta"}', code: 'GAFFER_PAYLOAD_INVALID', message: 'x' },
      ]);
      const scoped = await call('GET', `/v1/batches/${id}/rejected`, { key: keys.alphaOp.key });
      assert.equal(scoped.statusCode, 403);
      assert.equal(codeOf(scoped), 'GAFFER_FORBIDDEN');
      assert.ok(!scoped.body.includes('of beta'));
      const whole = await call('GET', `/v1/batches/${id}/rejected`, { key: keys.viewer.key });
      assert.equal(whole.statusCode, 200);
      assert.match(whole.body, /of beta/);

      const typed = await call('POST', '/v1/jobs/batch', {
        key: keys.operator.key,
        payload: { type: 'beta', jobs: [{ payload: {} }] },
      });
      const betaBatch = typed.json().batchId as string;
      for (const path of ['', '/rejected']) {
        const res = await call('GET', `/v1/batches/${betaBatch}${path}`, { key: keys.alphaOp.key });
        const none = await call('GET', `/v1/batches/batch-nope${path}`, { key: keys.alphaOp.key });
        assert.equal(res.statusCode, 404, path);
        assert.equal(res.body.replaceAll(betaBatch, 'batch-nope'), none.body);
      }
      const retry = await call('POST', `/v1/batches/${betaBatch}/retry-failed`, {
        key: keys.alphaOp.key,
      });
      assert.equal(retry.statusCode, 404);
    });

    test('listings show a scoped key its types only; naming another type is 403', async () => {
      await submit(g, 'beta');
      await submit(g, 'alpha');
      await deadLettered(g, 'alpha');
      await deadLettered(g, 'beta');
      for (const path of ['/v1/jobs', '/v1/dead-letters']) {
        const all = (await call('GET', `${path}?limit=1000`, { key: keys.operator.key })).json();
        assert.ok(
          all.jobs.some((j: Job) => j.type === 'beta'),
          path,
        );
        const seen = new Set<string>();
        let cursor: string | null = null;
        let count = 0;
        do {
          const res = await call('GET', `${path}?limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
            key: keys.alphaOp.key,
          });
          assert.equal(res.statusCode, 200);
          const page = res.json();
          for (const j of page.jobs as Job[]) {
            assert.equal(j.type, 'alpha', path);
            assert.ok(!seen.has(j.id), `${j.id} repeated`);
            seen.add(j.id);
          }
          count += page.jobs.length;
          cursor = page.nextCursor;
        } while (cursor);
        assert.equal(count, all.jobs.filter((j: Job) => j.type === 'alpha').length, path);
        const beta = await call('GET', `${path}?type=beta`, { key: keys.alphaOp.key });
        assert.equal(beta.statusCode, 403, path);
      }
    });

    test('one job of another type: get, logs, attempts, cancel, retry, dead-letter show/edit/replay answer as an unknown id (404), and are audited as refused', async () => {
      const key = keys.alphaOp.key;
      const queued = await submit(g, 'beta');
      const dead = await deadLettered(g, 'beta');
      const unknown = 'job-does-not-exist';
      const routes = (id: string): [InjectOptions['method'], string, unknown?][] => [
        ['GET', `/v1/jobs/${id}`],
        ['GET', `/v1/jobs/${id}/logs`],
        ['GET', `/v1/jobs/${id}/attempts`],
        ['POST', `/v1/jobs/${id}/cancel`],
        ['POST', `/v1/jobs/${id}/retry`],
        ['GET', `/v1/dead-letters/${id}`],
        ['PATCH', `/v1/dead-letters/${id}`, { maxAttempts: 2 }],
        ['POST', `/v1/dead-letters/${id}/replay`],
      ];
      for (const id of [queued.id, dead.id]) {
        const answers = routes(id);
        const unknowns = routes(unknown);
        for (let i = 0; i < answers.length; i++) {
          const [method, url, payload] = answers[i]!;
          const res = await call(method, url, { key, payload });
          const none = await call(method, unknowns[i]![1], { key, payload });
          assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
          assert.equal(codeOf(res), 'GAFFER_JOB_NOT_FOUND');
          // The same body as for an id that does not exist, but for the id itself.
          assert.equal(res.body.replaceAll(id, unknown), none.body, `${method} ${url}`);
          assert.deepEqual(Object.keys(res.headers).sort(), Object.keys(none.headers).sort());
        }
      }
      const bulk = await call('POST', '/v1/dead-letters/replay', {
        key,
        payload: { type: 'beta' },
      });
      assert.equal(bulk.statusCode, 403);
      assert.equal((await g.orch.service.get(queued.id)).state, 'queued');
      assert.equal((await g.orch.service.get(dead.id)).state, 'dead_lettered');
      // The audit log keeps the truth: each attempt was refused for its type.
      const { entries } = await g.orch.store.listAudit({ limit: 1000, actor: 'alpha-op' });
      for (const action of ['job.cancel', 'dead-letter.edit', 'dead-letter.replay']) {
        const e = entries.find((x) => x.action === action && x.target === dead.id);
        assert.equal(e?.outcome, 'refused', action);
        assert.equal((e?.details as { code: string }).code, 'GAFFER_FORBIDDEN');
      }
      const read = entries.find((x) => x.action === 'GET /v1/jobs/:id' && x.target === queued.id);
      assert.equal(read?.outcome, 'refused');
      assert.match((read?.details as { message: string }).message, /type beta/);
    });

    test('a bulk replay by a scoped key replays its types only', async () => {
      const alpha = await deadLettered(g, 'alpha');
      const beta = await deadLettered(g, 'beta');
      const named = await call('POST', '/v1/dead-letters/replay', {
        key: keys.alphaOp.key,
        payload: { ids: [alpha.id, beta.id] },
      });
      assert.equal(named.statusCode, 200);
      assert.deepEqual(named.json().jobIds, [alpha.id]);
      assert.deepEqual(
        named.json().skipped.map((s: { id: string; code: string }) => [s.id, s.code]),
        [[beta.id, 'GAFFER_JOB_NOT_FOUND']],
      );
      const everything = await call('POST', '/v1/dead-letters/replay', {
        key: keys.alphaOp.key,
        payload: { all: true },
      });
      assert.equal(everything.statusCode, 200);
      for (const id of everything.json().jobIds) {
        assert.equal((await g.orch.service.get(id)).type, 'alpha');
      }
      assert.equal((await g.orch.service.get(beta.id)).state, 'dead_lettered');
    });
  });

  describe('sessions', () => {
    test('login sets an HttpOnly SameSite=Strict cookie that works on the API and on /v1/events; logout ends it', async () => {
      const login = await call('POST', '/v1/session', { payload: { key: keys.alphaOp.key } });
      assert.equal(login.statusCode, 200);
      assert.deepEqual(login.json().principal, {
        id: 'alpha-op',
        role: 'operator',
        types: ['alpha'],
      });
      const setCookie = String(login.headers['set-cookie']);
      assert.match(setCookie, /^gaffer_session=[A-Za-z0-9_-]{43};/);
      for (const attr of ['HttpOnly', 'SameSite=Strict', 'Path=/']) {
        assert.ok(setCookie.includes(attr), attr);
      }
      const cookie = cookieOf(login);

      const who = await call('GET', '/v1/session', { headers: { cookie } });
      assert.deepEqual(who.json(), {
        principal: { id: 'alpha-op', role: 'operator', types: ['alpha'] },
        auth: true,
      });
      assert.equal((await call('GET', '/v1/jobs', { headers: { cookie } })).statusCode, 200);
      const events = await statusOverHttp(base, 'GET', '/v1/events', { cookie });
      assert.equal(events.status, 200);
      assert.match(events.type ?? '', /text\/event-stream/);
      assert.equal((await statusOverHttp(base, 'GET', '/v1/events', {})).status, 401);

      const logout = await call('DELETE', '/v1/session', { headers: { cookie } });
      assert.equal(logout.statusCode, 204);
      assert.match(String(logout.headers['set-cookie']), /gaffer_session=;/);
      const after = await call('GET', '/v1/session', { headers: { cookie } });
      assert.equal(after.statusCode, 401);
      assert.equal((await statusOverHttp(base, 'GET', '/v1/events', { cookie })).status, 401);
    });

    test('GET /v1/session without a credential is 401; a wrong key does not log in', async () => {
      assert.equal((await call('GET', '/v1/session')).statusCode, 401);
      const wrong = await call('POST', '/v1/session', {
        payload: { key: keys.viewer.key.slice(0, -4) + 'AAAA' },
      });
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.headers['set-cookie'], undefined);
    });

    test("a state-changing request on the session cookie from another site's page is refused (403 GAFFER_CROSS_ORIGIN); gaffer's own pages and key holders pass", async () => {
      const login = await call('POST', '/v1/session', { payload: { key: keys.operator.key } });
      const cookie = cookieOf(login);
      const evil = 'https://evil.example';
      const before = (await g.orch.store.list({ limit: 1000 })).jobs.length;
      const forged = [
        // A form post: text/plain is sent cross-site without a preflight.
        call('POST', '/submit-job', {
          headers: { cookie, origin: evil, 'content-type': 'text/plain' },
          payload: '{"kind":"a"}',
        }),
        call('POST', '/upload', {
          ...multipart('rows.csv', 'kind\na\n'),
          headers: { cookie, origin: evil, ...multipart('rows.csv', '').headers },
        }),
        call('POST', '/v1/jobs', {
          headers: { cookie, origin: 'null' },
          payload: { type: 'alpha', payload: {} },
        }),
        // No Origin, but a Referer from another site.
        call('POST', '/v1/jobs', {
          headers: { cookie, referer: `${evil}/page` },
          payload: { type: 'alpha', payload: {} },
        }),
        call('DELETE', '/v1/session', { headers: { cookie, origin: evil } }),
      ];
      for (const res of await Promise.all(forged)) {
        assert.equal(res.statusCode, 403, res.body);
        assert.equal(codeOf(res), 'GAFFER_CROSS_ORIGIN');
      }
      assert.equal((await g.orch.store.list({ limit: 1000 })).jobs.length, before);
      const job = { type: 'alpha', payload: {} };
      const own = await call('POST', '/v1/jobs', {
        headers: { cookie, origin: 'http://localhost' },
        payload: job,
      });
      assert.equal(own.statusCode, 201, own.body);
      const proxied = await call('POST', '/v1/jobs', {
        headers: { cookie, origin: 'https://gaffer.example', 'x-forwarded-host': 'gaffer.example' },
        payload: job,
      });
      assert.equal(proxied.statusCode, 201, proxied.body);
      const keyed = await call('POST', '/v1/jobs', {
        key: keys.operator.key,
        headers: { origin: evil },
        payload: job,
      });
      assert.equal(keyed.statusCode, 201, keyed.body);
      const read = await call('GET', '/v1/jobs', { headers: { cookie, origin: evil } });
      assert.equal(read.statusCode, 200);
    });

    test('a session expires after auth.sessionTtlMs', async () => {
      const login = await call('POST', '/v1/session', { payload: { key: keys.viewer.key } });
      const cookie = cookieOf(login);
      assert.equal((await call('GET', '/v1/session', { headers: { cookie } })).statusCode, 200);
      g.clock.advance(12 * 3600 * 1000 + 1);
      assert.equal((await call('GET', '/v1/session', { headers: { cookie } })).statusCode, 401);
    });
  });

  test('operator actions, logins and refusals are in the audit log, readable by operators only', async () => {
    const op = { key: keys.operator.key };
    const queued = await submit(g, 'alpha');
    const dead = await deadLettered(g, 'alpha');
    const dead2 = await deadLettered(g, 'alpha');
    const failedRetry = await submit(g, 'alpha');
    await call('POST', `/v1/jobs/${queued.id}/cancel`, op);
    await call('POST', `/v1/jobs/${queued.id}/retry`, op);
    await call('POST', `/v1/jobs/${failedRetry.id}/retry`, op); // 409: still queued
    await call('PATCH', `/v1/dead-letters/${dead.id}`, { ...op, payload: { maxAttempts: 3 } });
    await call('POST', `/v1/dead-letters/${dead.id}/replay`, op);
    await call('POST', '/v1/dead-letters/replay', { ...op, payload: { ids: [dead2.id] } });
    const beta = await submit(g, 'beta');
    await call('POST', `/v1/jobs/${beta.id}/cancel`, { key: keys.alphaOp.key }); // 403: scope
    await call('POST', `/v1/jobs/${beta.id}/cancel`, { key: keys.viewer.key }); // 403: role
    const login = await call('POST', '/v1/session', { payload: { key: keys.submitter.key } });
    await call('DELETE', '/v1/session', { headers: { cookie: cookieOf(login) } });

    const res = await call('GET', '/v1/audit?limit=1000', op);
    assert.equal(res.statusCode, 200);
    const entries = res.json().entries as {
      actor: string;
      action: string;
      target: string | null;
      outcome: string;
      at: number;
      details: { code?: string } | null;
    }[];
    const has = (actor: string, action: string, target: string | null, outcome: string) =>
      assert.ok(
        entries.some(
          (e) =>
            e.actor === actor &&
            e.action === action &&
            e.target === target &&
            e.outcome === outcome,
        ),
        `${actor} ${action} ${target} ${outcome} not in ${JSON.stringify(entries.slice(0, 20))}`,
      );
    has('operator-1', 'job.cancel', queued.id, 'ok');
    has('operator-1', 'job.retry', queued.id, 'ok');
    has('operator-1', 'job.retry', failedRetry.id, 'failed');
    has('operator-1', 'dead-letter.edit', dead.id, 'ok');
    has('operator-1', 'dead-letter.replay', dead.id, 'ok');
    has('operator-1', 'dead-letter.replay-many', null, 'ok');
    has('alpha-op', 'job.cancel', beta.id, 'refused');
    has('viewer-1', 'POST /v1/jobs/:id/cancel', beta.id, 'refused');
    has('submitter-1', 'session.login', null, 'ok');
    has('submitter-1', 'session.logout', null, 'ok');
    const refusal = entries.find((e) => e.actor === 'viewer-1' && e.outcome === 'refused');
    assert.equal(refusal?.details?.code, 'GAFFER_FORBIDDEN');
    assert.ok(entries.every((e) => typeof e.at === 'number'));

    const mine = await call('GET', '/v1/audit?actor=alpha-op&action=job.cancel', op);
    assert.ok(mine.json().entries.length >= 1);
    assert.ok(
      mine
        .json()
        .entries.every(
          (e: { actor: string; action: string }) =>
            e.actor === 'alpha-op' && e.action === 'job.cancel',
        ),
    );
    assert.equal((await call('GET', '/v1/audit', { key: keys.submitter.key })).statusCode, 403);
  });

  test('a refused login is recorded as unverified, never under the key id it names', async () => {
    const forged = keys.operator.key.slice(0, -4) + 'AAAA';
    const res = await call('POST', '/v1/session', { payload: { key: forged }, ip: '10.1.1.1' });
    assert.equal(res.statusCode, 401);
    const { entries } = await g.orch.store.listAudit({ limit: 100, action: 'session.login' });
    const refused = entries.find((e) => e.outcome === 'refused');
    assert.equal(refused?.actor, 'unverified:operator-1');
    assert.deepEqual(refused?.details, { code: 'GAFFER_UNAUTHORIZED', ip: '10.1.1.1' });
    const asOperator = await call('GET', '/v1/audit?actor=operator-1&action=session.login', {
      key: keys.operator.key,
    });
    assert.ok(asOperator.json().entries.every((e: { outcome: string }) => e.outcome !== 'refused'));
    assert.ok(!JSON.stringify(entries).includes(forged));
  });

  test("a type-scoped operator reads the audit entries of its types' jobs and batches and its own, no others", async () => {
    const op = { key: keys.operator.key };
    const alpha = await submit(g, 'alpha');
    const beta = await submit(g, 'beta');
    await call('POST', `/v1/jobs/${alpha.id}/cancel`, op);
    await call('POST', `/v1/jobs/${beta.id}/cancel`, op);
    await call('POST', '/v1/dead-letters/replay', { ...op, payload: { type: 'beta' } });
    const login = await call('POST', '/v1/session', { payload: { key: keys.alphaOp.key } });
    await call('DELETE', '/v1/session', { headers: { cookie: cookieOf(login) } });
    await call('POST', `/v1/jobs/${beta.id}/retry`, { key: keys.alphaOp.key }); // hidden 404

    const seen: { actor: string; action: string; target: string | null }[] = [];
    let cursor: string | null = null;
    do {
      const res = await call('GET', `/v1/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`, {
        key: keys.alphaOp.key,
      });
      assert.equal(res.statusCode, 200);
      const page = res.json();
      assert.ok(page.entries.length <= 3);
      seen.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor);
    assert.ok(seen.some((e) => e.action === 'job.cancel' && e.target === alpha.id));
    assert.ok(seen.some((e) => e.actor === 'alpha-op' && e.action === 'session.login'));
    assert.ok(seen.some((e) => e.actor === 'alpha-op' && e.action === 'session.logout'));
    for (const e of seen) {
      assert.notEqual(e.target, beta.id, JSON.stringify(e));
      if (e.target === null) assert.equal(e.actor, 'alpha-op', JSON.stringify(e));
      else {
        const job = await g.orch.store.get(e.target);
        const batch = job ? undefined : await g.orch.store.getBatch(e.target);
        const mixedOwn = batch?.type === null && e.actor === 'alpha-op';
        assert.ok(job?.type === 'alpha' || batch?.type === 'alpha' || mixedOwn, JSON.stringify(e));
      }
    }
    // An unscoped operator still reads everything.
    const all = (await call('GET', '/v1/audit?limit=1000', op)).json().entries;
    assert.ok(all.some((e: { target: string | null }) => e.target === beta.id));
  });

  test('GET /v1/config: the effective config with secrets redacted; remote workers read it with the worker token', async () => {
    const res = await call('GET', '/v1/config', { key: keys.viewer.key });
    assert.equal(res.statusCode, 200);
    const config = res.json();
    assert.deepEqual(Object.keys(config.jobTypes).sort(), ['alpha', 'beta']);
    assert.ok(config.leases.ttlMs > 0);
    assert.ok(config.routes.rules.length === 2 && 'storage' in config);
    assert.equal(config.server.workerToken, '[redacted]');
    for (const k of config.auth.keys) assert.equal(k.hash, '[redacted]');
    assert.ok(!res.body.includes('sha256:') && !res.body.includes(WORKER_TOKEN));

    const worker = await call('GET', '/v1/config', { key: WORKER_TOKEN });
    assert.equal(worker.statusCode, 200);
    assert.equal((await call('GET', '/v1/jobs', { key: WORKER_TOKEN })).statusCode, 401);
  });

  test('no key, session id or worker token reaches the log', async () => {
    const chunks: string[] = [];
    const logStream = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString('utf8'));
        done();
      },
    });
    // A second app on the same gaffer, logging as `gaffer up --log` does.
    const logged = await buildApp(g.orch, { logger: true, logStream });
    await logged.ready();
    try {
      const login = await logged.inject({
        method: 'POST',
        url: '/v1/session',
        payload: { key: keys.operator.key },
      });
      const sessionId = String(login.headers['set-cookie']).split(';')[0]!.split('=')[1]!;
      assert.equal(sessionId.length, 43);
      const cookie = `gaffer_session=${sessionId}`;
      await logged.inject({ method: 'GET', url: '/v1/jobs', headers: bearer(keys.viewer.key) });
      await logged.inject({ method: 'GET', url: '/v1/jobs', headers: { cookie } });
      await logged.inject({ method: 'GET', url: '/v1/nope', headers: bearer(keys.viewer.key) });
      await logged.inject({ method: 'GET', url: '/v1/jobs', headers: bearer('gaffer_x_wrong') });
      await logged.inject({ method: 'GET', url: `/v1/workers/connect?token=${WORKER_TOKEN}` });
      await logged.inject({ method: 'DELETE', url: '/v1/session', headers: { cookie } });
      const text = chunks.join('');
      assert.match(text, /incoming request/);
      assert.match(text, /\/v1\/workers\/connect\?token=\[redacted\]/);
      for (const secret of [keys.operator.key, keys.viewer.key, sessionId, WORKER_TOKEN]) {
        assert.ok(!text.includes(secret), 'a secret was logged');
      }
    } finally {
      await logged.close();
    }
  });
});

describe('rate limits', () => {
  const keys: Keys = keyring();
  let g: TestGaffer;
  let call: ReturnType<typeof caller>;
  before(async () => {
    g = await startGaffer({
      ...jobTypes(),
      server: { workerToken: WORKER_TOKEN },
      auth: {
        keys: Object.values(keys).map((k) => k.entry),
        rateLimit: { max: 3, timeWindowMs: 600_000 },
        failedAuthLimit: { max: 2, timeWindowMs: 600_000 },
      },
    });
    call = caller(g);
  });
  after(() => g.close());

  test('a key over auth.rateLimit is answered 429 with Retry-After; other keys go on; a batch is one request', async () => {
    const batch = await call('POST', '/v1/jobs/batch', {
      key: keys.submitter.key,
      payload: { jobs: Array.from({ length: 10 }, () => ({ type: 'alpha', payload: {} })) },
    });
    assert.equal(batch.statusCode, 201);
    assert.equal(batch.headers['x-ratelimit-remaining'], '2');
    assert.equal((await call('GET', '/v1/jobs', { key: keys.submitter.key })).statusCode, 200);
    assert.equal((await call('GET', '/v1/jobs', { key: keys.submitter.key })).statusCode, 200);
    const over = await call('GET', '/v1/jobs', { key: keys.submitter.key });
    assert.equal(over.statusCode, 429);
    assert.equal(codeOf(over), 'GAFFER_RATE_LIMITED');
    assert.ok(Number(over.headers['retry-after']) > 0);
    assert.equal((await call('GET', '/v1/jobs', { key: keys.viewer.key })).statusCode, 200);
  });

  test('failed authentications are limited per IP: past the limit even the right key is 429', async () => {
    const ip = '10.9.8.7';
    const wrong = keys.operator.key.slice(0, -4) + 'AAAA';
    assert.equal((await call('GET', '/v1/queues', { key: wrong, ip })).statusCode, 401);
    assert.equal(
      (await call('POST', '/v1/session', { payload: { key: wrong }, ip })).statusCode,
      401,
    );
    const blocked = await call('GET', '/v1/queues', { key: keys.operator.key, ip });
    assert.equal(blocked.statusCode, 429);
    assert.equal(codeOf(blocked), 'GAFFER_RATE_LIMITED');
    assert.ok(Number(blocked.headers['retry-after']) > 0);
    const login = await call('POST', '/v1/session', { payload: { key: keys.operator.key }, ip });
    assert.equal(login.statusCode, 429);
    const elsewhere = await call('GET', '/v1/queues', { key: keys.operator.key, ip: '10.9.8.8' });
    assert.equal(elsewhere.statusCode, 200);
  });

  test('wrong worker tokens count as failed authentications: past the limit even the right token is refused; each is audited, never the token', async () => {
    const base = await g.app.listen({ host: '127.0.0.1', port: 0 });
    const closeCode = (token: string) =>
      new Promise<number>((resolve, reject) => {
        const url = `${base.replace('http', 'ws')}/v1/workers/connect?token=${token}`;
        const ws = new WebSocket(url);
        ws.addEventListener('close', (e) => resolve(e.code));
        ws.addEventListener('error', () => {});
        setTimeout(() => reject(new Error('no close')), 30_000).unref();
      });
    const wrong = 'not-the-worker-token-at-all';
    assert.equal(await closeCode(wrong), 4401);
    assert.equal(await closeCode(wrong), 4401);
    assert.equal(await closeCode(WORKER_TOKEN), 4429);
    // Keys from the same address are refused too: one limiter per client address.
    const blocked = await call('GET', '/v1/queues', { key: keys.operator.key, ip: '127.0.0.1' });
    assert.equal(blocked.statusCode, 429);
    const { entries } = await g.orch.store.listAudit({ limit: 100, action: 'worker.connect' });
    assert.equal(entries.length, 2);
    for (const e of entries) {
      assert.equal(e.outcome, 'refused');
      assert.equal(e.actor, 'unverified');
      assert.deepEqual(e.details, { code: 'GAFFER_UNAUTHORIZED', ip: '127.0.0.1' });
    }
    assert.ok(!JSON.stringify(entries).includes(wrong));
  });
});

describe('auth off (no keys configured)', () => {
  let g: TestGaffer;
  let call: ReturnType<typeof caller>;
  before(async () => {
    g = await startGaffer({
      ...jobTypes(),
      server: { allowedOrigins: ['https://dash.example'] },
    });
    call = caller(g);
  });
  after(() => g.close());

  test('every route works without a key, as before: no cookie, no rate limit, anonymous operator', async () => {
    const submitted = await call('POST', '/v1/jobs', { payload: { type: 'beta', payload: {} } });
    assert.equal(submitted.statusCode, 201);
    assert.equal(submitted.headers['x-ratelimit-limit'], undefined);
    const id = submitted.json().job.id;
    assert.equal((await call('GET', `/v1/jobs/${id}`)).statusCode, 200);
    assert.equal((await call('POST', `/v1/jobs/${id}/cancel`)).statusCode, 200);
    assert.equal((await call('GET', '/v1/jobs')).json().jobs.length, 1);
    assert.deepEqual((await call('GET', '/v1/session')).json(), {
      principal: { id: 'anonymous', role: 'operator', types: null },
      auth: false,
    });
    const login = await call('POST', '/v1/session', { payload: { key: 'anything' } });
    assert.equal(login.statusCode, 200);
    assert.equal(login.json().auth, false);
    assert.equal(login.headers['set-cookie'], undefined);
    // A key sent anyway is ignored, as any other header would be.
    assert.equal((await call('GET', '/v1/jobs', { key: 'gaffer_x_nonsense' })).statusCode, 200);
    const audit = (await call('GET', '/v1/audit')).json();
    assert.deepEqual(
      audit.entries.map((e: { actor: string; action: string }) => [e.actor, e.action]),
      [['anonymous', 'job.cancel']],
    );
  });

  test("with auth off too, another site's page may not change anything (403 GAFFER_CROSS_ORIGIN) but server.allowedOrigins may", async () => {
    const job = { type: 'alpha', payload: {} };
    const forged = await call('POST', '/v1/jobs', {
      headers: { origin: 'http://evil.example' },
      payload: job,
    });
    assert.equal(forged.statusCode, 403);
    assert.equal(codeOf(forged), 'GAFFER_CROSS_ORIGIN');
    const listed = await call('POST', '/v1/jobs', {
      headers: { origin: 'https://dash.example' },
      payload: job,
    });
    assert.equal(listed.statusCode, 201, listed.body);
    assert.equal((await call('POST', '/v1/jobs', { payload: job })).statusCode, 201);
  });

  test('answers carry security headers; the dashboard a Content-Security-Policy without inline code', async () => {
    for (const url of ['/', '/v1/jobs', '/v1/nope']) {
      const res = await call('GET', url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'self'/, url);
      assert.match(csp, /script-src 'self'(;|$)/, url);
      assert.match(csp, /style-src 'self'(;|$)/, url);
      assert.match(csp, /frame-ancestors 'none'/, url);
      assert.doesNotMatch(csp, /unsafe-inline|upgrade-insecure-requests/, url);
    }
  });
});
