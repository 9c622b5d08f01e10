import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiError, ConnectionError, GafferClient } from '../../src/cli/http-client.ts';
import { deadUrl, fakeServer, notFound } from './fake-server.ts';

describe('GafferClient', () => {
  let server: Awaited<ReturnType<typeof fakeServer>>;
  let client: GafferClient;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-client-'));

  before(async () => {
    server = await fakeServer((req) => {
      if (req.url.startsWith('/v1/batches') && req.method === 'POST') {
        return {
          status: 201,
          json: { batch: { id: 'b1', accepted: 2, rejected: 0 }, rejected: [] },
        };
      }
      if (req.url.startsWith('/v1/jobs?')) return { json: { jobs: [], nextCursor: null } };
      if (req.url === '/v1/jobs/a%2Fb/logs?after=7') return { json: { lines: [] } };
      if (req.url === '/v1/queues') return { json: { queues: [{ type: 't' }] } };
      if (req.url === '/boom') return { status: 502, text: 'Bad Gateway' };
      return notFound;
    });
    client = new GafferClient(server.url + '/');
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds query strings, leaving out empty values', async () => {
    await client.listJobs({ type: 'csv-row', state: undefined, limit: 5, search: '' });
    assert.equal(server.seen.at(-1)!.url, '/v1/jobs?type=csv-row&limit=5');
  });

  it('encodes ids in paths', async () => {
    assert.deepEqual(await client.jobLogs('a/b', 7), []);
  });

  it('unwraps answers', async () => {
    assert.deepEqual(await client.queues(), [{ type: 't' }]);
  });

  it('throws ApiError with the code and message of the error body', async () => {
    const err = await client.getJob('nope').catch((e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'GAFFER_JOB_NOT_FOUND');
    assert.equal(err.message, 'No job has this id: nope');
  });

  it('throws ConnectionError when nothing listens', async () => {
    const err = await new GafferClient(await deadUrl()).queues().catch((e: unknown) => e);
    assert.ok(err instanceof ConnectionError);
    assert.match(err.message, /ECONNREFUSED/);
  });

  it('streams an upload as multipart field "file" and reports progress', async () => {
    const file = path.join(dir, 'rows.csv');
    const content = 'id,name\n' + Array.from({ length: 50_000 }, (_, i) => `${i},n${i}`).join('\n');
    writeFileSync(file, content);
    const progress: number[] = [];
    const out = await client.uploadCsv(file, {
      type: 'csv-row',
      priority: 'high',
      onProgress: (sent, total) => {
        assert.equal(total, Buffer.byteLength(content));
        progress.push(sent);
      },
    });
    assert.equal(out.batch.id, 'b1');
    const req = server.seen.at(-1)!;
    assert.equal(req.url, '/v1/batches?type=csv-row&priority=high');
    const boundary = /boundary=(.+)$/.exec(String(req.headers['content-type']))![1]!;
    assert.equal(Number(req.headers['content-length']), req.body.length);
    const body = req.body.toString();
    assert.ok(
      body.startsWith(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="rows.csv"\r\n`,
      ),
    );
    assert.ok(body.endsWith(`\r\n--${boundary}--\r\n`));
    assert.ok(body.includes(`\r\n\r\n${content}\r\n--${boundary}--`));
    assert.equal(progress.at(-1), Buffer.byteLength(content));
    assert.ok(progress.every((v, i) => i === 0 || v >= progress[i - 1]!));
  });
});
