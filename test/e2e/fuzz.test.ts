/**
 * Fuzzes the submit and upload endpoints against a real gaffer: after a few valid jobs are accepted, generated bodies that are invalid by
 * construction — wrong types, unknown or hostile job types, payloads failing the schema, deep
 * nesting, prototype keys, invalid UTF-8, truncated JSON, bodies over the limit, malformed
 * multipart, random CSV bytes for a type no CSV row can satisfy, and raw HTTP framing (chunked,
 * lying Content-Length) — each get a 4xx whose code is in the catalogue with its status (a
 * batch whose every item or row is refused answers 201 with nothing accepted, as documented).
 * Afterwards the process still answers, the number of jobs is unchanged, the jobs accepted
 * first are exactly as they were, and no prototype was polluted.
 *
 * fast-check is seeded: FUZZ_SEED=<n> replays a run; a failure prints its seed and path.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { MAX_JSON_DEPTH } from '../../src/api/json-body.ts';
import type { Job } from '../../src/domain/job.ts';
import { ERRORS } from '../../src/errors.ts';
import { SUBMISSION_FIELDS } from '../../src/jobs/submission.ts';
import { multipart, startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

const BODY_LIMIT = 64 * 1024;
const UPLOAD_LIMIT = 1536 * 1024;
const MAX_BATCH = 20;
const SEED = Number(process.env['FUZZ_SEED']) || Date.now() % 2 ** 31;
const RUNS = 150;

let g: TestGaffer;
let port: number;
const accepted: Job[] = [];
let total = 0;

async function jobCount(): Promise<number> {
  const stats = await g.orch.store.queueStats(g.clock.now());
  let n = 0;
  for (const s of stats) for (const c of Object.values(s.byState)) n += c as number;
  return n;
}

before(async () => {
  g = await startGaffer({
    server: { bodyLimitBytes: BODY_LIMIT, uploadLimitBytes: UPLOAD_LIMIT, maxBatchJobs: MAX_BATCH },
    jobTypes: {
      // max 0: nothing runs, so every job stays exactly as submitted. CSV cells are strings, so
      // no CSV row can ever satisfy `typed` (n must be an integer): any upload to it accepts 0.
      typed: {
        worker: { command: ['true'] },
        scaling: { max: 0 },
        payloadSchema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
      },
    },
  });
  port = Number(new URL(await g.app.listen({ host: '127.0.0.1', port: 0 })).port);
  for (let n = 0; n < 5; n++) {
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: 'typed', payload: { n, text: 'ünïcødé ✓' }, attributes: { k: n } },
    });
    assert.equal(res.statusCode, 201, res.body);
    accepted.push(await g.orch.service.get(res.json().job.id));
  }
  total = await jobCount();
});

after(async () => {
  // The server still answers, nothing changed, nothing polluted.
  const health = await g.app.inject({ method: 'GET', url: '/healthz' });
  assert.equal(health.statusCode, 200);
  const list = await g.app.inject({ method: 'GET', url: '/v1/jobs?limit=1000' });
  assert.equal(list.statusCode, 200);
  assert.equal(list.json().jobs.length, accepted.length);
  await unchanged();
  await g.close();
});

async function unchanged(): Promise<void> {
  assert.equal(await jobCount(), total, 'a job was created from bad input');
  for (const job of accepted) assert.deepEqual(await g.orch.service.get(job.id), job);
  assert.equal(({} as Record<string, unknown>)['admin'], undefined, 'Object.prototype polluted');
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'admin'), false);
}

/** Bounds a request: a hang fails the case instead of the whole run. */
function bounded<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A 4xx whose body carries a catalogue code with that very status. */
function assertCatalogued4xx(status: number, body: string, what: string): string {
  assert.ok(status >= 400 && status < 500, `${what}: status ${status}: ${body.slice(0, 300)}`);
  const code = (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  assert.ok(code && Object.hasOwn(ERRORS, code), `${what}: code ${code} not in the catalogue`);
  assert.equal(ERRORS[code as keyof typeof ERRORS].status, status, `${what}: ${code}`);
  return code;
}

async function send(req: InjectOptions, what: string) {
  return bounded(g.app.inject(req), what);
}

// --- generators -----------------------------------------------------------------------------

/** Any JSON value (bounded in size), used as noise around a defect. */
const anyJson = fc.jsonValue({ maxDepth: 4, depthSize: 'small' });

/** Extra fields that may or may not be valid; never the field carrying the defect. */
const noise = fc.dictionary(
  fc.constantFrom('priority', 'attributes', 'idempotencyKey', 'data', 'extra', 'timeoutSeconds'),
  anyJson,
  { maxKeys: 3 },
);

const unknownType = fc.oneof(
  fc.constantFrom('does-not-exist', '../../x', '__proto__', 'constructor', 'toString', 'TYPED'),
  fc.string({ minLength: 1, maxLength: 300 }).filter((s) => s !== 'typed'),
);

/** Anything but an object with an integer `n`: fails `typed`'s payload schema. */
const badPayload = anyJson.filter(
  (v) =>
    typeof v !== 'object' ||
    v === null ||
    Array.isArray(v) ||
    !Number.isInteger((v as Record<string, unknown>)['n']),
);

/** Values the API schema refuses for maxAttempts even with its type coercion. */
const badMaxAttempts = fc.oneof(
  fc.integer({ max: 0 }),
  fc.integer({ min: 101 }),
  fc.double({ min: 1.01, max: 99.99, noInteger: true }),
  fc.stringMatching(/^[a-z]{1,12}$/),
  fc.dictionary(fc.string(), anyJson, { maxKeys: 2 }),
);

const nested = fc
  .tuple(fc.integer({ min: MAX_JSON_DEPTH + 1, max: 100_000 }), fc.boolean())
  .map(([d, arrays]) =>
    arrays ? '['.repeat(d) + ']'.repeat(d) : '{"a":'.repeat(d) + '1' + '}'.repeat(d),
  );

const INVALID_UTF8 = [
  [0xff],
  [0xc3],
  [0xe2, 0x82],
  [0xed, 0xa0, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

/** A JSON text for POST /v1/jobs that no gaffer may accept, with the reason. */
const badJobBody: fc.Arbitrary<{ why: string; text: string | Buffer; contentType?: string }> =
  fc.oneof(
    fc
      .oneof(fc.constant(null), fc.integer(), fc.string(), fc.array(anyJson), fc.boolean())
      .map((v) => ({ why: 'not an object', text: JSON.stringify(v) })),
    fc.tuple(unknownType, anyJson, noise).map(([type, payload, n]) => ({
      why: 'unknown type',
      text: JSON.stringify({ ...n, type, payload }),
    })),
    fc.tuple(badPayload, noise).map(([payload, n]) => ({
      why: 'payload fails the schema',
      text: JSON.stringify({ ...n, type: 'typed', payload }),
    })),
    fc.tuple(badMaxAttempts, noise).map(([maxAttempts, n]) => ({
      why: 'maxAttempts of the wrong type',
      text: JSON.stringify({ ...n, type: 'typed', payload: { n: 1 }, maxAttempts }),
    })),
    fc
      .tuple(
        fc.oneof(
          fc.double({ min: 1e-12, max: 0.000_49 }),
          fc.constantFrom('Infinity', '-Infinity', 'NaN', 1e306, '1e306', 1e300, -1, 0),
        ),
        noise,
      )
      .map(([timeoutSeconds, n]) => ({
        why: 'timeout under 1 ms, non-finite or past what a timer holds',
        text: JSON.stringify({ ...n, type: 'typed', payload: { n: 1 }, timeoutSeconds }),
      })),
    fc
      .tuple(
        fc.oneof(
          fc.constantFrom('0x10', '1e3', '16.5', ' 16', 'urgent', 'Infinity', '1e400'),
          fc.integer({ min: 1_000_001 }),
          fc.integer({ max: -1_000_001 }),
          fc.double({ noInteger: true, noDefaultInfinity: true, noNaN: true }),
        ),
        noise,
      )
      .map(([priority, n]) => ({
        why: 'priority not an integer within bounds or a name',
        text: JSON.stringify({ ...n, type: 'typed', payload: { n: 1 }, priority }),
      })),
    nested.map((deep) => ({
      why: 'nested too deep',
      text: `{"type":"typed","payload":{"n":1,"x":${deep}}}`,
    })),
    fc.constantFrom('__proto__', 'constructor').map((key) => ({
      why: 'prototype key',
      text:
        key === '__proto__'
          ? '{"type":"typed","payload":{"n":1,"__proto__":{"admin":true}}}'
          : '{"type":"typed","payload":{"n":1,"constructor":{"prototype":{"admin":true}}}}',
    })),
    fc.tuple(fc.constantFrom(...INVALID_UTF8), fc.nat(20)).map(([bytes, at]) => {
      const head = Buffer.from('{"type":"typed","payload":{"n":1,"s":"' + 'x'.repeat(at));
      return {
        why: 'invalid UTF-8',
        text: Buffer.concat([head, Buffer.from(bytes), Buffer.from('"}}')]),
      };
    }),
    fc.tuple(fc.integer({ min: 0, max: 40 })).map(([cut]) => ({
      why: 'truncated JSON',
      text: '{"type":"typed","payload":{"n":1,"s":"abc"}}'.slice(0, cut),
    })),
    fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 4 }).map((size) => ({
      why: 'over the body limit',
      text: `{"type":"typed","payload":{"n":1,"s":"${'x'.repeat(size)}"}}`,
    })),
    fc
      .constantFrom('text/csv', 'application/xml', 'application/x-www-form-urlencoded')
      .map((contentType) => ({
        why: 'wrong content type',
        text: '{"type":"typed","payload":{"n":1}}',
        contentType,
      })),
  );

// --- properties ------------------------------------------------------------------------------

test('POST /v1/jobs and the seed aliases refuse every bad body with a catalogued 4xx', async () => {
  await fc.assert(
    fc.asyncProperty(badJobBody, fc.constantFrom('/v1/jobs', '/submit/typed'), async (bad, url) => {
      // The /submit/{type} alias takes the payload as the body: only defects of the body
      // as a whole apply there.
      if (
        url !== '/v1/jobs' &&
        !['nested too deep', 'prototype key', 'invalid UTF-8', 'truncated JSON'].includes(bad.why)
      ) {
        return;
      }
      const res = await send(
        {
          method: 'POST',
          url,
          headers: { 'content-type': bad.contentType ?? 'application/json' },
          payload: bad.text,
        },
        bad.why,
      );
      assertCatalogued4xx(res.statusCode, res.body, `${url} ${bad.why}`);
    }),
    { numRuns: RUNS * 2, seed: SEED },
  );
  await unchanged();
});

/** An origin that is not the one requests are injected to (http://localhost:80). */
const foreignOrigin = fc
  .oneof(
    fc.constantFrom(
      'null',
      'file://',
      'http://localhost:8080',
      'http://127.0.0.1',
      'https://local',
    ),
    fc.webUrl().map((u) => new URL(u).origin),
    fc.string({ maxLength: 40 }),
  )
  .filter((o) => !['localhost', 'localhost:80'].includes(URL.parse(o)?.host ?? '-'));

test("state-changing requests from another site's page are refused 403 GAFFER_CROSS_ORIGIN and change nothing", async () => {
  const target = accepted[0]!.id;
  const requests: (() => InjectOptions)[] = [
    () => ({ method: 'POST', url: '/v1/jobs', payload: { type: 'typed', payload: { n: 1 } } }),
    () => ({
      method: 'POST',
      url: '/submit-job',
      headers: { 'content-type': 'text/plain' },
      payload: '{"type":"typed","payload":{"n":1}}',
    }),
    () => ({
      method: 'POST',
      url: '/v1/jobs/batch',
      payload: { jobs: [{ type: 'typed', payload: { n: 2 } }] },
    }),
    () => ({ method: 'POST', url: '/upload?type=typed', ...multipart('a.csv', 'n\n1\n') }),
    () => ({ method: 'POST', url: `/v1/jobs/${target}/cancel` }),
    () => ({ method: 'DELETE', url: '/v1/session' }),
  ];
  await fc.assert(
    fc.asyncProperty(
      fc.nat(requests.length - 1),
      foreignOrigin,
      fc.constantFrom('origin', 'referer', 'forwarded'),
      async (i, origin, how) => {
        const req = requests[i]!();
        const from =
          how === 'origin'
            ? { origin }
            : how === 'referer'
              ? { referer: `${origin}/page` }
              : { origin, 'x-forwarded-host': 'gaffer.example' };
        if (how === 'referer' && URL.parse(`${origin}/page`) === null) return;
        const res = await send(
          { ...req, headers: { ...(req.headers as object), ...from } },
          `${req.method} ${req.url} ${how} ${origin}`,
        );
        assert.equal(res.statusCode, 403, `${req.url} from ${origin}: ${res.body.slice(0, 200)}`);
        assert.equal(assertCatalogued4xx(res.statusCode, res.body, origin), 'GAFFER_CROSS_ORIGIN');
      },
    ),
    { numRuns: RUNS, seed: SEED },
  );
  await unchanged();
});

test('POST /v1/jobs/batch accepts nothing from bad items and refuses bad batches', async () => {
  const badItem = fc.oneof(
    fc.tuple(unknownType, anyJson).map(([type, payload]) => ({ type, payload })),
    badPayload.map((payload) => ({ type: 'typed', payload })),
    badPayload.map((payload) => ({ payload })), // default type below
  );
  const badBatch = fc.oneof(
    fc.array(badItem, { maxLength: MAX_BATCH }).map((jobs) => ({ type: 'typed', jobs })),
    fc.array(badItem, { minLength: MAX_BATCH + 1, maxLength: MAX_BATCH * 3 }).map((jobs) => ({
      jobs,
    })),
    fc
      .oneof(
        fc.constant(null),
        anyJson.filter((v) => !Array.isArray(v)),
      )
      .map((jobs) => ({ jobs })),
    fc
      .tuple(
        fc.array(fc.constant({ type: 'typed', payload: { n: 1 } }), { maxLength: 5 }),
        badMaxAttempts,
      )
      .map(([jobs, maxAttempts]) => ({
        jobs: [...jobs, { type: 'typed', payload: {}, maxAttempts }],
      })),
    fc.array(unknownType, { minLength: 1, maxLength: MAX_BATCH }).map((types) => ({
      jobs: types.map((type) => ({ type, payload: { n: 1 } })),
    })),
  );
  await fc.assert(
    fc.asyncProperty(badBatch, async (body) => {
      const res = await send(
        { method: 'POST', url: '/v1/jobs/batch', payload: body as object },
        'batch',
      );
      if (res.statusCode === 201) {
        // Each item is refused on its own, with its index and a catalogued code.
        const out = res.json() as {
          accepted: number;
          jobIds: string[];
          rejected: { code: string }[];
        };
        assert.equal(out.accepted, 0, res.body.slice(0, 300));
        assert.deepEqual(out.jobIds, []);
        assert.equal(out.rejected.length, (body as { jobs: unknown[] }).jobs.length);
        for (const r of out.rejected) assert.ok(Object.hasOwn(ERRORS, r.code), r.code);
      } else {
        assertCatalogued4xx(res.statusCode, res.body, 'batch');
      }
    }),
    { numRuns: RUNS, seed: SEED },
  );
  await unchanged();
});

/**
 * A valid submission with fields gaffer does not know (startAt, delaySeconds, misspellings, any
 * text): never a job that silently ignores them, never a 5xx.
 */
const unknownFields = fc
  .tuple(
    fc.uniqueArray(
      fc.oneof(
        fc.constantFrom('startAt', 'delaySeconds', 'priorty', 'timeout', 'Type', 'payload ', ''),
        fc.string({ maxLength: 30 }),
      ),
      { minLength: 1, maxLength: 4 },
    ),
    // Values the JSON parser itself refuses (prototype keys) are another property's.
    fc.array(
      anyJson.filter((v) => !/"(__proto__|constructor)"/.test(JSON.stringify(v))),
      { minLength: 4, maxLength: 4 },
    ),
  )
  .map(([keys, values]) => {
    const extra = Object.fromEntries(
      keys
        .filter((k) => !SUBMISSION_FIELDS.has(k) && k !== '__proto__')
        .map((k, i) => [k, values[i]]),
    );
    return { extra, body: { type: 'typed', payload: { n: 1 }, ...extra } };
  })
  .filter(({ extra }) => Object.keys(extra).length > 0);

test('unknown top-level fields are refused, each named, by POST /v1/jobs, batch items and NDJSON lines', async () => {
  const named = (message: string, extra: object) => {
    for (const k of Object.keys(extra)) assert.ok(message.includes(JSON.stringify(k)), message);
  };
  await fc.assert(
    fc.asyncProperty(unknownFields, async ({ extra, body }) => {
      const one = await send({ method: 'POST', url: '/v1/jobs', payload: body }, 'unknown fields');
      assert.equal(
        assertCatalogued4xx(one.statusCode, one.body, 'unknown'),
        'GAFFER_UNKNOWN_FIELD',
      );
      named(one.json().error.message, extra);
      const batch = await send(
        { method: 'POST', url: '/v1/jobs/batch', payload: { jobs: [body, body] } },
        'unknown fields in a batch',
      );
      assert.equal(batch.statusCode, 201, batch.body);
      assert.equal(batch.json().accepted, 0);
      for (const r of batch.json().rejected as { code: string; message: string }[]) {
        assert.equal(r.code, 'GAFFER_UNKNOWN_FIELD');
        named(r.message, extra);
      }
      const lines = await send(
        {
          method: 'POST',
          url: '/v1/batches',
          headers: { 'content-type': 'application/x-ndjson' },
          payload: `${JSON.stringify(body)}\n`,
        },
        'unknown fields in an NDJSON line',
      );
      assertNoJobAccepted(lines, 'unknown fields in an NDJSON line');
      assert.equal(lines.json().rejected[0]?.code, 'GAFFER_UNKNOWN_FIELD');
    }),
    { numRuns: RUNS, seed: SEED },
  );
  await unchanged();
});

/** CSV-ish bytes: quotes, separators, both line ends, BOMs, long cells and invalid UTF-8. */
const csvBytes = fc
  .array(
    fc.oneof(
      fc.constantFrom(',', '"', '\n', '\r\n', '\r', '\ufeff', 'n', '1', ' ', '\t', '""'),
      fc.string({ maxLength: 20, unit: 'binary' }),
      fc.constantFrom(...INVALID_UTF8).map((b) => Buffer.from(b)),
      fc.integer({ min: 1, max: 50_000 }).map((k) => 'x'.repeat(k)),
      fc
        .integer({ min: 2, max: 10_001 })
        .map((k) => Array.from({ length: k }, (_, i) => `c${i % 7}`).join(',')),
    ),
    { maxLength: 40 },
  )
  .map((parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))));

/** An upload's answer: a batch that accepted nothing, its rejections catalogued, or a catalogued 4xx. */
function assertNoJobAccepted(res: Awaited<ReturnType<typeof send>>, what: string): void {
  if (res.statusCode !== 201) {
    assertCatalogued4xx(res.statusCode, res.body, what);
    return;
  }
  assert.equal(res.json().batch.accepted, 0, res.body.slice(0, 300));
  for (const r of res.json().rejected as { code: string }[]) {
    assert.ok(Object.hasOwn(ERRORS, r.code), r.code);
  }
}

test('CSV uploads of arbitrary bytes create no job and never fail with 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(
      csvBytes,
      fc.constantFrom('/v1/batches?type=typed', '/upload?type=typed', '/v1/batches'),
      async (content, url) => {
        const res = await send({ method: 'POST', url, ...multipart('fuzz.csv', content) }, url);
        assertNoJobAccepted(res, `${url} csv`);
      },
    ),
    { numRuns: RUNS, seed: SEED },
  );
  await unchanged();
});

/** NDJSON-ish bytes: JSON tokens, line ends, prototype keys, deep nesting and invalid UTF-8. */
const ndjsonBytes = fc
  .array(
    fc.oneof(
      fc.constantFrom('{', '}', '[', ']', ':', ',', '"', '\n', '\r\n', '\ufeff', 'null', '1'),
      fc.constantFrom('"payload"', '"type"', '"typed"', '"__proto__"', '"admin"', '"n"', '"x"'),
      fc.string({ maxLength: 20, unit: 'binary' }),
      fc.constantFrom(...INVALID_UTF8).map((b) => Buffer.from(b)),
      fc.integer({ min: 1, max: 50_000 }).map((k) => '['.repeat(k)),
    ),
    { maxLength: 40 },
  )
  .map((parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))));

test('NDJSON batches of arbitrary bytes create no job and never fail with 5xx', async () => {
  await fc.assert(
    fc.asyncProperty(ndjsonBytes, async (content) => {
      const url = '/v1/batches?type=typed';
      const headers = { 'content-type': 'application/x-ndjson' };
      const res = await send({ method: 'POST', url, headers, payload: content }, url);
      assertNoJobAccepted(res, `${url} ndjson`);
    }),
    { numRuns: RUNS, seed: SEED },
  );
  await unchanged();
});

test('malformed multipart bodies get a catalogued 4xx', async () => {
  const wellFormed = multipart('a.csv', 'n\n1\n2\n');
  const boundary = /boundary=(.*)$/.exec(wellFormed.headers['content-type'])![1]!;
  const body = wellFormed.payload;
  const malformed = fc.oneof(
    // cut anywhere before the closing boundary is complete
    fc.integer({ min: 0, max: body.length - 3 }).map((cut) => ({
      ct: wellFormed.headers['content-type'],
      payload: body.subarray(0, cut),
    })),
    // random bytes under a multipart content type, with or without a boundary
    fc.tuple(fc.uint8Array({ maxLength: 2000 }), fc.boolean()).map(([bytes, withBoundary]) => ({
      ct: withBoundary ? `multipart/form-data; boundary=${boundary}` : 'multipart/form-data',
      payload: Buffer.from(bytes),
    })),
    // one byte of the framing flipped
    fc
      .tuple(fc.integer({ min: 0, max: body.length - 1 }), fc.integer({ min: 0, max: 255 }))
      .map(([at, byte]) => {
        const copy = Buffer.from(body);
        copy[at] = byte;
        return { ct: wellFormed.headers['content-type'], payload: copy };
      }),
  );
  await fc.assert(
    fc.asyncProperty(malformed, async ({ ct, payload }) => {
      // `typed` accepts no CSV row, so even a body that survives the mangling creates nothing.
      const res = await send(
        { method: 'POST', url: '/v1/batches?type=typed', headers: { 'content-type': ct }, payload },
        'multipart',
      );
      if (res.statusCode === 201) assert.equal(res.json().batch.accepted, 0);
      else assertCatalogued4xx(res.statusCode, res.body, 'multipart');
    }),
    { numRuns: RUNS, seed: SEED },
  );
  await unchanged();
});

// --- raw HTTP over a real socket ---------------------------------------------------------------

interface RawAnswer {
  status: number;
  body: string;
  clientSent: number;
  serverRead: number;
}

/**
 * Writes `head` then the chunks from `body` (stopping once an answer or a close arrives, as a
 * real client would) and reads the answer. `serverRead` is what the server's socket had read
 * when the answer came.
 */
async function raw(head: string, body: Iterable<Buffer>, what: string): Promise<RawAnswer> {
  const serverSockets: net.Socket[] = [];
  const onConn = (s: net.Socket) => serverSockets.push(s);
  g.app.server.on('connection', onConn);
  const sock = net.connect(port, '127.0.0.1');
  sock.setMaxListeners(0);
  sock.on('error', () => {});
  try {
    await bounded(new Promise((r) => sock.once('connect', r)), 'connect');
    let answer = Buffer.alloc(0);
    let done = false;
    let serverRead = 0;
    const answered = new Promise<void>((resolve) => {
      sock.on('data', (d: Buffer) => {
        answer = Buffer.concat([answer, d]);
        if (!done && answer.includes('\r\n\r\n')) {
          done = true;
          serverRead = serverSockets[0]?.bytesRead ?? 0;
        }
        if (complete(answer)) resolve();
      });
      sock.on('close', () => resolve());
    });
    let clientSent = 0;
    const writeAll = async () => {
      sock.write(head);
      for (const chunk of body) {
        if (done || sock.destroyed) return;
        clientSent += chunk.length;
        if (!sock.write(chunk)) {
          await new Promise((r) => {
            sock.once('drain', r);
            sock.once('close', r);
          });
        }
      }
    };
    void writeAll();
    await bounded(answered, what);
    const text = answer.toString('latin1');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
    return { status, body: text.slice(text.indexOf('\r\n\r\n') + 4), clientSent, serverRead };
  } finally {
    sock.destroy();
    g.app.server.off('connection', onConn);
  }
}

/** The answer's head and its Content-Length worth of body have arrived. */
function complete(answer: Buffer): boolean {
  const end = answer.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const len = /content-length: *(\d+)/i.exec(answer.subarray(0, end).toString('latin1'));
  return len ? answer.length >= end + 4 + Number(len[1]) : false;
}

const BOUNDARY = 'fuzzBoundary';
const PART_HEAD = Buffer.from(
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\nn\n`,
);

/** `total` bytes of CSV rows in 16 KiB pieces, optionally in chunked framing. */
function* bigUpload(total: number, chunked: boolean): Generator<Buffer> {
  const rows = Buffer.from(`${'x'.repeat(63)}\n`.repeat(256));
  const frame = (b: Buffer) =>
    chunked
      ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')])
      : b;
  yield frame(PART_HEAD);
  for (let n = 0; n < total; n += rows.length) yield frame(rows);
}

const uploadHead = (extra: string) =>
  `POST /v1/batches?type=typed HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
  `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\n${extra}\r\n`;

test('an upload 30x over the limit gets 413 and is not read much past the limit', async () => {
  const size = UPLOAD_LIMIT * 30;
  const variants = [
    {
      name: 'honest Content-Length',
      head: uploadHead(`Content-Length: ${size + 200}\r\n`),
      chunked: false,
    },
    { name: 'chunked', head: uploadHead('Transfer-Encoding: chunked\r\n'), chunked: true },
  ];
  for (const v of variants) {
    const res = await raw(v.head, bigUpload(size, v.chunked), v.name);
    assert.equal(assertCatalogued4xx(res.status, res.body, v.name), 'GAFFER_BODY_TOO_LARGE');
    assert.ok(
      res.serverRead <= UPLOAD_LIMIT + 1024 * 1024,
      `${v.name}: the server read ${res.serverRead} bytes for a ${UPLOAD_LIMIT}-byte limit`,
    );
  }
  await unchanged();
});

test('a lying Content-Length, broken chunks and bad bytes get a catalogued 4xx', async () => {
  const json = (body: Buffer, extra = `Content-Length: ${body.length}\r\n`) =>
    `POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extra}\r\n`;
  const cases: { name: string; head: string; body: Buffer[] }[] = [
    {
      // The server reads 100 bytes of body; the rest is a second "request" that is not HTTP.
      name: 'Content-Length smaller than the body',
      head: uploadHead('Content-Length: 100\r\n'),
      body: [...bigUpload(UPLOAD_LIMIT * 2, false)],
    },
    {
      name: 'chunk size that is not hex',
      head: json(Buffer.alloc(0), 'Transfer-Encoding: chunked\r\n'),
      body: [Buffer.from('zz\r\n{}\r\n0\r\n\r\n')],
    },
    {
      name: 'Content-Length and Transfer-Encoding both',
      head: json(Buffer.alloc(0), 'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'),
      body: [Buffer.from('2\r\n{}\r\n0\r\n\r\n')],
    },
    {
      name: 'headers over the size limit',
      head: json(Buffer.alloc(0), `X-Big: ${'a'.repeat(64 * 1024)}\r\nContent-Length: 2\r\n`),
      body: [Buffer.from('{}')],
    },
  ];
  for (const c of cases) {
    const res = await raw(c.head, c.body, c.name);
    assertCatalogued4xx(res.status, res.body, c.name);
  }
  // Random bytes, correctly framed, as a JSON body: never accepted (invalid UTF-8 included).
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 1, maxLength: 512 }).filter((b) => {
        // bytes that are a valid submission by chance are not bad input
        try {
          const v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b)) as unknown;
          return !(
            typeof v === 'object' &&
            v !== null &&
            (v as { type?: unknown }).type === 'typed'
          );
        } catch {
          return true;
        }
      }),
      async (bytes) => {
        const body = Buffer.from(bytes);
        const res = await raw(json(body), [body], 'random bytes');
        assertCatalogued4xx(res.status, res.body, 'random bytes');
      },
    ),
    { numRuns: 50, seed: SEED },
  );
  await unchanged();
});

/** Path segments: ordinary names, dots, percent escapes, `..` spelt every way. */
const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{1,10}$/),
  fc.constantFrom('.', '..', '%2e%2e', '.%2E', '%2e.', 'etc', 'passwd', 'root', '', '...'),
);

/**
 * Local references (this gaffer lists no `storage.local.roots`, so every one is refused) and s3
 * keys with a `..` segment or a NUL: each refused with a catalogued 4xx, whether an input or the
 * output, and nothing is created.
 */
test('local paths without roots, and s3 keys with .. or NUL, are refused at submit', async () => {
  const local = fc.oneof(
    fc.constantFrom(
      '/etc/passwd',
      '/',
      '/root/',
      'file:///etc/passwd',
      'file:///etc/../etc/passwd',
    ),
    fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join('/')}`),
    fc.array(segment, { maxLength: 6 }).map((s) => `file:///${s.join('/')}`),
    fc.array(segment, { maxLength: 6 }).map((s) => `file:///${s.join('\\')}`),
  );
  const s3 = fc
    .tuple(
      fc.array(segment, { maxLength: 4 }),
      fc.constantFrom('..', '\0', 'a\0b'),
      fc.array(segment, { maxLength: 4 }),
    )
    .map(([a, bad, b]) => `s3://bucket/${[...a, bad, ...b].join('/')}`);
  await fc.assert(
    fc.asyncProperty(fc.oneof(local, s3), fc.boolean(), async (ref, asOutput) => {
      const data = asOutput ? { output: ref } : { inputs: ['s3://bucket/ok.csv', ref] };
      const res = await send(
        { method: 'POST', url: '/v1/jobs', payload: { type: 'typed', payload: { n: 1 }, data } },
        `data ${JSON.stringify(ref)}`,
      );
      const code = assertCatalogued4xx(res.statusCode, res.body, JSON.stringify(ref));
      assert.ok(
        ['GAFFER_DATA_REF_FORBIDDEN', 'GAFFER_DATA_REF_INVALID', 'GAFFER_BAD_REQUEST'].includes(
          code,
        ),
        `${JSON.stringify(ref)}: ${code}`,
      );
    }),
    { numRuns: RUNS, seed: SEED },
  );
  await unchanged();
});
