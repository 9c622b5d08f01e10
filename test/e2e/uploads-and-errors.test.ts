import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Batch } from '../../src/client/index.ts';
import { REPO, startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

// Uploads without a type (a bare-type-map-shaped config: no route rules, so no row can be
// routed), the
// configured default type of CSV uploads, the CLI's exit when nothing was accepted, and the
// smaller first-hour answers: an unknown type lists the known ones, /v1/stats/history takes a
// duration, a priority name is the same number on every front end.

const MAIN = path.join(REPO, 'src/cli/main.ts');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'gaffer-uploads-'));
const CSV = 'id,name\n1,a\n2,b\n3,c\n';
const csvFile = path.join(tmp, 'data.csv');
writeFileSync(csvFile, CSV);

const rowType = {
  worker: { command: ['true'] },
  scaling: { max: 0 },
  payloadSchema: { type: 'object', required: ['id'] },
};

let bare: TestGaffer; // a bare type map's shape: types, no rules, no default upload type
let withDefault: TestGaffer; // routes.uploadType set
before(async () => {
  bare = await startGaffer({ jobTypes: { 'csv-row': rowType, other: rowType } }, undefined, {
    port: 0,
  });
  withDefault = await startGaffer(
    {
      jobTypes: { 'csv-row': rowType, other: rowType },
      routes: { uploadType: 'csv-row' },
    },
    undefined,
    { port: 0 },
  );
});
after(async () => {
  await bare?.close();
  await withDefault?.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface UploadAnswer {
  batch: Batch;
  error: { code: string; message: string; details: { batchId: string } };
}

/** `curl -F file=@data.csv URL`. */
async function upload(g: TestGaffer, route: string, csv = CSV) {
  const form = new FormData();
  form.append('file', new Blob([csv]), 'data.csv');
  const res = await fetch(`${g.url}${route}`, { method: 'POST', body: form });
  return { status: res.status, json: (await res.json()) as UploadAnswer };
}

async function cli(g: TestGaffer, ...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [MAIN, '--url', g.url!, ...args],
      { cwd: REPO, env: { ...process.env, GAFFER_URL: '', GAFFER_API_KEY: '' } },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('an upload that names no type', () => {
  it('no row can be routed: a 4xx saying to pass a type and listing the types; the batch keeps the rows', async () => {
    for (const route of ['/upload', '/v1/batches']) {
      const { status, json } = await upload(bare, route);
      assert.equal(status, 422, JSON.stringify(json));
      assert.equal(json.error.code, 'GAFFER_UPLOAD_NO_TYPE');
      assert.match(json.error.message, /\?type=/);
      assert.match(json.error.message, /csv-row, other/);
      const batchId = json.error.details.batchId;
      const batch = await bare.app.inject({ url: `/v1/batches/${batchId}` });
      assert.equal(batch.json().batch.accepted, 0);
      assert.equal(batch.json().batch.rejected, 3);
      assert.equal(batch.json().batch.done, true);
    }
    const ndjson = await bare.app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: { 'content-type': 'application/x-ndjson' },
      payload: '{"payload": {"id": "1"}}\n{"payload": {"id": "2"}}\n',
    });
    assert.equal(ndjson.statusCode, 422, ndjson.body);
    assert.equal(ndjson.json().error.code, 'GAFFER_UPLOAD_NO_TYPE');
    const { jobs } = (await bare.app.inject({ url: '/v1/jobs' })).json();
    assert.equal(jobs.length, 0, 'nothing was queued');
  });

  it('gaffer upload without --type exits non-zero when nothing was accepted, and says why', async () => {
    const r = await cli(bare, 'upload', csvFile);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /GAFFER_UPLOAD_NO_TYPE/);
    assert.match(r.stderr, /--type/);
    // Every row rejected by the type's schema: the answer is 201, the CLI still exits 1.
    const bad = path.join(tmp, 'bad.csv');
    writeFileSync(bad, 'name\na\nb\n');
    const rejected = await cli(bare, 'upload', bad, '--type', 'csv-row');
    assert.equal(rejected.code, 1, rejected.stderr);
    assert.match(rejected.stderr, /no row was accepted/);
    const ok = await cli(bare, 'upload', csvFile, '--type', 'csv-row');
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('routes.uploadType: the rows take that type, on /upload, /v1/batches and the CLI', async () => {
    for (const route of ['/upload', '/v1/batches']) {
      const { status, json } = await upload(withDefault, route);
      assert.equal(status, 201, JSON.stringify(json));
      assert.equal(json.batch.type, 'csv-row');
      assert.equal(json.batch.accepted, 3);
    }
    const r = await cli(withDefault, '--json', 'upload', csvFile);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).batch.type, 'csv-row');
    // A type given still wins.
    const given = await upload(withDefault, '/upload?type=other');
    assert.equal(given.json.batch.type, 'other');
  });
});

describe('smaller answers', () => {
  it('an unknown type lists the known types', async () => {
    const res = await bare.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { type: 'csv_row' },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.code, 'GAFFER_UNKNOWN_TYPE');
    assert.match(res.json().error.message, /csv_row.*known: csv-row, other/);
    assert.deepEqual(res.json().error.details.known, ['csv-row', 'other']);
    const up = await upload(bare, '/upload?type=nope');
    assert.match(up.json.error.message, /known: csv-row, other/);
  });

  it('/v1/stats/history?since= takes a duration (10s, 5m) as well as a timestamp', async () => {
    for (const since of ['10s', '5m', '500ms', '1h', '0', String(Date.now())]) {
      const res = await bare.app.inject({ url: `/v1/stats/history?since=${since}` });
      assert.equal(res.statusCode, 200, `${since}: ${res.body}`);
    }
    const bad = await bare.app.inject({ url: '/v1/stats/history?since=soon' });
    assert.equal(bad.statusCode, 400);
  });

  it('"priority": "high" is 10 whether it is the priority field, in the payload or an attribute', async () => {
    const g = withDefault;
    const submit = async (body: object) =>
      (await g.app.inject({ method: 'POST', url: '/v1/jobs', payload: body })).json().job
        .priority as number;
    assert.equal(await submit({ type: 'other', priority: 'high', payload: { id: '1' } }), 10);
    assert.equal(await submit({ type: 'other', payload: { id: '1', priority: 'high' } }), 10);
    assert.equal(
      await submit({ type: 'other', payload: { id: '1' }, attributes: { priority: 'high' } }),
      10,
    );
    // The priority field wins over the payload's.
    assert.equal(
      await submit({ type: 'other', priority: 'low', payload: { id: '1', priority: 'high' } }),
      -10,
    );
    // A payload field that is no priority name is the payload's own business.
    assert.equal(await submit({ type: 'other', payload: { id: '1', priority: 'urgent' } }), 0);
  });
});
