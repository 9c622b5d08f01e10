import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import { after, before, test } from 'node:test';
import { ERRORS } from '../../src/errors.ts';
import { multipart, startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

let g: TestGaffer;
const accepted: string[] = [];

before(async () => {
  g = await startGaffer({
    server: { uploadLimitBytes: 2048 },
    jobTypes: {
      // max 0: nothing runs, so the accepted jobs stay exactly as submitted.
      typed: {
        worker: { command: ['true'] },
        scaling: { max: 0 },
        payloadSchema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
      },
      rows: {
        worker: { command: ['true'] },
        scaling: { max: 0 },
        payloadSchema: {
          type: 'object',
          required: ['n'],
          properties: { n: { type: 'string', pattern: '^[0-9]+$' } },
        },
      },
    },
  });
  for (let n = 0; n < 3; n++) {
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: 'typed', payload: { n } },
    });
    assert.equal(res.statusCode, 201);
    accepted.push(res.json().job.id);
  }
});
after(() => g.close());

const cases: {
  name: string;
  req: InjectOptions;
  status: number;
  code: keyof typeof ERRORS;
}[] = [
  {
    name: 'malformed JSON',
    req: {
      method: 'POST',
      url: '/v1/jobs',
      headers: { 'content-type': 'application/json' },
      payload: '{"type": "typed", ',
    },
    status: 400,
    code: 'GAFFER_BAD_JSON',
  },
  {
    name: 'unknown type',
    req: { method: 'POST', url: '/v1/jobs', payload: { type: 'nope', payload: {} } },
    status: 400,
    code: 'GAFFER_UNKNOWN_TYPE',
  },
  {
    name: 'no type and no route',
    req: { method: 'POST', url: '/v1/jobs', payload: { payload: {} } },
    status: 400,
    code: 'GAFFER_NO_ROUTE',
  },
  {
    name: 'payload failing the schema',
    req: { method: 'POST', url: '/v1/jobs', payload: { type: 'typed', payload: { n: 'x' } } },
    status: 422,
    code: 'GAFFER_PAYLOAD_INVALID',
  },
  {
    name: 'wrong field type',
    req: {
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: 'typed', payload: {}, maxAttempts: 'lots' },
    },
    status: 400,
    code: 'GAFFER_BAD_REQUEST',
  },
  {
    name: 'upload over the size limit',
    req: {
      method: 'POST',
      url: '/v1/batches?type=typed',
      ...multipart('big.csv', 'n\n' + '1\n'.repeat(20_000)),
    },
    status: 413,
    code: 'GAFFER_BODY_TOO_LARGE',
  },
  {
    name: 'upload cut off at the size limit while streaming',
    req: {
      method: 'POST',
      url: '/v1/batches?type=rows',
      ...multipart('cut.csv', 'n\n' + '1\n'.repeat(1900)),
    },
    status: 413,
    code: 'GAFFER_BODY_TOO_LARGE',
  },
  {
    name: 'upload that is not multipart',
    req: { method: 'POST', url: '/upload', payload: { a: 1 } },
    status: 415,
    code: 'GAFFER_UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'unknown route',
    req: { method: 'GET', url: '/v1/nothing-here' },
    status: 404,
    code: 'GAFFER_ROUTE_NOT_FOUND',
  },
  {
    name: 'unknown job',
    req: { method: 'GET', url: '/v1/jobs/none' },
    status: 404,
    code: 'GAFFER_JOB_NOT_FOUND',
  },
];

for (const c of cases) {
  test(`${c.name} → ${c.status} ${c.code}, accepted jobs untouched`, async () => {
    const res = await g.app.inject(c.req);
    assert.equal(res.statusCode, c.status, res.body);
    assert.equal(res.json().error.code, c.code);
    assert.equal(ERRORS[c.code].status, c.status);
    for (const [n, id] of accepted.entries()) {
      const job = await g.orch.service.get(id);
      assert.equal(job.state, 'queued');
      assert.deepEqual(job.payload, { n });
    }
  });
}

test('a CSV with bad rows: good rows accepted, bad rows reported with line and code', async () => {
  const csv = 'n\n1\nnot-a-number\n3\n4,extra-field\n5\n';
  const res = await g.app.inject({
    method: 'POST',
    url: '/v1/batches?type=rows',
    ...multipart('rows.csv', csv),
  });
  assert.equal(res.statusCode, 201, res.body);
  const body = res.json();
  assert.equal(body.batch.accepted, 3);
  assert.equal(body.batch.rejected, 2);
  const byRow = Object.fromEntries(
    body.rejected.map((r: { row: number; code: string }) => [r.row, r.code]),
  );
  assert.deepEqual(byRow, { 3: 'GAFFER_PAYLOAD_INVALID', 5: 'GAFFER_CSV_INVALID' });
  const rejectedCsv = await g.app.inject({
    method: 'GET',
    url: `/v1/batches/${body.batch.id}/rejected`,
  });
  assert.equal(rejectedCsv.statusCode, 200);
  assert.match(rejectedCsv.body, /^row,code,message,raw\n/);
});
