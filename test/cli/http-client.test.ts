import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiError, ConnectionError, GafferClient } from '../../src/cli/http-client.ts';
import { startGaffer, until, type TestGaffer } from '../helpers/gaffer.ts';

/** A loopback URL where nothing listens (a port bound, then released). */
async function closedPortUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('GafferClient against a real gaffer', () => {
  let g: TestGaffer;
  let client: GafferClient;
  /** Every request the real server received (observed on its http.Server, not answered). */
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-client-'));

  before(async () => {
    g = await startGaffer({
      jobTypes: {
        // max 0: no worker starts, so listed and uploaded jobs stay as submitted.
        'csv-row': {
          worker: { handler: 'test/e2e/fixtures/handlers.ts#row' },
          scaling: { max: 0 },
        },
        other: { worker: { command: ['true'] }, scaling: { max: 0 } },
        echo: {
          worker: {
            command: ['sh', '-c', 'echo line-out; echo line-err >&2; echo {\\"ok\\":true}'],
          },
          scaling: { min: 0, max: 1, threshold: 0 },
        },
      },
    });
    const address = await g.app.listen({ host: '127.0.0.1', port: 0 });
    g.app.server.on(
      'request',
      (req: { method?: string; url?: string; headers: IncomingHttpHeaders }) =>
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers }),
    );
    client = new GafferClient(address + '/');
  });
  after(async () => {
    await g.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds query strings, leaving out empty values', async () => {
    for (let i = 0; i < 7; i++) {
      await client.submit({ type: 'csv-row', payload: { id: String(i) } });
    }
    await client.submit({ type: 'other', payload: {} });
    const page = await client.listJobs({ type: 'csv-row', state: undefined, limit: 5, search: '' });
    assert.equal(seen.at(-1)!.url, '/v1/jobs?type=csv-row&limit=5');
    assert.equal(page.jobs.length, 5);
    assert.ok(page.jobs.every((j) => j.type === 'csv-row' && j.state === 'queued'));
    assert.ok(page.nextCursor, 'more csv-row jobs than the limit: a cursor to the next page');
    const rest = await client.listJobs({ type: 'csv-row', cursor: page.nextCursor, limit: 5 });
    assert.equal(rest.jobs.length, 2);
    assert.equal(rest.nextCursor, null);
  });

  it('encodes ids in paths', async () => {
    const err = await client.jobLogs('a/b', 7).catch((e: unknown) => e);
    assert.equal(seen.at(-1)!.url, '/v1/jobs/a%2Fb/logs?after=7');
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.code, 'GAFFER_JOB_NOT_FOUND', 'the id arrived whole, as one path segment');
    assert.match(err.message, /a\/b/);
  });

  it('unwraps answers', async () => {
    const queues = await client.queues();
    assert.deepEqual(queues.map((q) => q.type).sort(), ['csv-row', 'echo', 'other']);
    assert.equal(queues.find((q) => q.type === 'csv-row')!.ready, 7);

    const { job, created } = await client.submit({ type: 'echo', payload: {} });
    assert.equal(created, true);
    await until(g, async () => (await client.getJob(job.id)).state === 'succeeded');
    assert.deepEqual((await client.getJob(job.id)).result, { ok: true });
    const lines = await client.jobLogs(job.id);
    const text = lines.map((l) => `${l.stream}:${l.data.trim()}`).join('\n');
    assert.match(text, /stdout:line-out/);
    assert.match(text, /stderr:line-err/);
    assert.deepEqual(await client.jobLogs(job.id, lines.at(-1)!.seq), [], 'nothing after the last');
  });

  it('throws ApiError with the code and message of the error body', async () => {
    const err = await client.getJob('nope').catch((e: unknown) => e);
    const real = await g.app.inject({ method: 'GET', url: '/v1/jobs/nope' });
    const body = real.json<{ error: { code: string; message: string } }>();
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'GAFFER_JOB_NOT_FOUND');
    assert.equal(err.code, body.error.code);
    assert.equal(err.message, body.error.message);
    assert.match(err.message, /nope/);
  });

  it('a refused submission throws ApiError with the status and code of the answer', async () => {
    const err = await client.submit({ type: 'no-such-type', payload: {} }).catch((e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'GAFFER_UNKNOWN_TYPE');
  });

  it('throws ConnectionError when nothing listens', async () => {
    const err = await new GafferClient(await closedPortUrl()).queues().catch((e: unknown) => e);
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
    const req = seen.at(-1)!;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/v1/batches?type=csv-row&priority=high');
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(
      String(req.headers['content-type']),
    )![1]!;
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="rows.csv"\r\nContent-Type: text/csv\r\n\r\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    assert.equal(
      Number(req.headers['content-length']),
      Buffer.byteLength(head + content + tail),
      'declared length = framing + file',
    );

    // The real server parsed the multipart body: every row arrived, under the file's name.
    assert.match(out.batch.id, /^batch-/);
    assert.equal(out.batch.source, 'rows.csv');
    assert.equal(out.batch.type, 'csv-row');
    assert.equal(out.batch.accepted, 50_000);
    assert.equal(out.batch.rejected, 0);
    assert.deepEqual(out.rejected, []);
    const batch = await client.getBatch(out.batch.id);
    assert.equal(batch.byState.queued, 50_000);
    const { jobs } = await client.listJobs({ batch: out.batch.id, limit: 1 });
    assert.equal(jobs[0]!.attributes['priority'], 'high', 'the priority of every row');
    assert.ok(jobs[0]!.priority > 0);

    assert.ok(progress.length > 2, 'progress reported as the file is read');
    assert.equal(progress[0], 0);
    assert.equal(progress.at(-1), Buffer.byteLength(content));
    assert.ok(progress.every((v, i) => i === 0 || v >= progress[i - 1]!));
  });
});
