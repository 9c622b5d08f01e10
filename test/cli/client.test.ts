import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  createClient,
  GafferApiError,
  GafferConnectionError,
  type GafferClient,
} from '../../src/client/index.ts';
import { startGaffer, type TestGaffer } from '../helpers/gaffer.ts';

/** A loopback URL where nothing listens (a port bound, then released). */
export async function closedPortUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (v) => assert.fail(`expected a rejection, got ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
}

describe('the client against a real gaffer', () => {
  let g: TestGaffer;
  let client: GafferClient;
  let address: string;
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
        held: { worker: { command: ['true'] }, scaling: { max: 0 } },
        echo: {
          worker: {
            command: ['sh', '-c', 'echo line-out; echo line-err >&2; echo {\\"ok\\":true}'],
          },
          scaling: { min: 0, max: 1, threshold: 0 },
        },
        // Fails at once, one attempt: straight to the dead-letter queue.
        doomed: {
          worker: { command: ['sh', '-c', 'echo boom >&2; exit 3'] },
          retry: { maxAttempts: 1, backoffMs: 0 },
          scaling: { min: 0, max: 1, threshold: 0 },
        },
        'doomed-batch': {
          worker: { command: ['false'] },
          retry: { maxAttempts: 1, backoffMs: 0 },
          scaling: { min: 0, max: 1, threshold: 0 },
        },
      },
    });
    address = await g.app.listen({ host: '127.0.0.1', port: 0 });
    g.app.server.on(
      'request',
      (req: { method?: string; url?: string; headers: IncomingHttpHeaders }) =>
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers }),
    );
    client = createClient({ url: address + '/' });
  });
  after(async () => {
    await g.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('jobs', () => {
    it('submit, get, list with cursor paging and the all-pages iterator', async () => {
      for (let i = 0; i < 7; i++) await client.jobs.submit({ type: 'held', payload: { i } });
      const page = await client.jobs.list({ type: 'held', state: undefined, limit: 5, search: '' });
      assert.equal(seen.at(-1)!.url, '/v1/jobs?type=held&limit=5', 'empty values left out');
      assert.equal(page.jobs.length, 5);
      assert.ok(page.nextCursor);
      const rest = await client.jobs.list({ type: 'held', cursor: page.nextCursor, limit: 5 });
      assert.equal(rest.jobs.length, 2);
      assert.equal(rest.nextCursor, null);
      const all = [];
      for await (const job of client.jobs.all({ type: 'held', limit: 3 })) all.push(job.id);
      assert.equal(all.length, 7, 'three pages of 3, 3 and 1');
      assert.deepEqual(
        all,
        [...page.jobs, ...rest.jobs].map((j) => j.id),
      );
      const one = await client.jobs.get(all[0]!);
      assert.equal(one.state, 'queued');
      assert.equal(one.waiting?.reason, 'no_worker');
    });

    it('submit reports created, and the same idempotency key gives the same job', async () => {
      const a = await client.jobs.submit({ type: 'held', idempotencyKey: 'k-1' });
      const b = await client.jobs.submit({ type: 'held', idempotencyKey: 'k-1' });
      assert.equal(a.created, true);
      assert.equal(b.created, false);
      assert.equal(a.job.id, b.job.id);
    });

    it('cancel and retry', async () => {
      const { job } = await client.jobs.submit({ type: 'held' });
      assert.equal((await client.jobs.cancel(job.id)).state, 'cancelled');
      assert.equal((await client.jobs.retry(job.id)).state, 'queued');
      const err = await rejection(client.jobs.retry(job.id));
      assert.ok(err instanceof GafferApiError);
      assert.equal(err.code, 'GAFFER_NOT_RETRYABLE');
      assert.equal(err.status, 409);
    });

    it('submitBatch, then waitFor the batch', async () => {
      const out = await client.jobs.submitBatch({
        type: 'echo',
        jobs: [{ payload: {} }, { payload: {} }, { type: 'nope' }],
      });
      assert.equal(out.accepted, 2);
      assert.equal(out.rejected[0]!.code, 'GAFFER_UNKNOWN_TYPE');
      const seenProgress: number[] = [];
      const end = await client.waitFor(out.batchId, {
        intervalMs: 50,
        onProgress: (t) => {
          if (t.kind === 'batch') seenProgress.push(t.batch.accepted);
        },
      });
      assert.equal(end.kind, 'batch');
      assert.equal(end.succeeded, true);
      if (end.kind === 'batch') assert.equal(end.batch.byState.succeeded, 2);
      assert.ok(seenProgress.length > 0);
    });

    it('logs, followLogs and waitFor a job', async () => {
      const { job } = await client.jobs.submit({ type: 'echo', payload: {} });
      const followed = [];
      for await (const line of client.jobs.followLogs(job.id, { intervalMs: 50 })) {
        followed.push(`${line.stream}:${line.data}`);
      }
      const end = await client.waitFor(job.id);
      assert.equal(end.kind, 'job');
      assert.equal(end.succeeded, true, 'follow ends only once the job has ended');
      if (end.kind === 'job') assert.deepEqual(end.job.result, { ok: true });
      assert.match(followed.join('\n'), /^stdout:line-out$/m);
      assert.match(followed.join('\n'), /^stderr:line-err$/m);
      const lines = await client.jobs.logs(job.id);
      assert.equal(lines.length, followed.length);
      assert.deepEqual(await client.jobs.logs(job.id, lines.at(-1)!.seq), []);
    });

    it('encodes ids in paths', async () => {
      const err = await rejection(client.jobs.logs('a/b', 7));
      assert.equal(seen.at(-1)!.url, '/v1/jobs/a%2Fb/logs?after=7');
      assert.ok(err instanceof GafferApiError);
      assert.equal(err.code, 'GAFFER_JOB_NOT_FOUND', 'the id arrived whole, as one segment');
    });
  });

  describe('uploads and batches', () => {
    const content = 'id,name\n' + Array.from({ length: 20_000 }, (_, i) => `${i},n${i}`).join('\n');

    it('uploadCsv streams a file as multipart field "file", with progress', async () => {
      const file = path.join(dir, 'rows.csv');
      writeFileSync(file, content);
      const progress: number[] = [];
      const out = await client.jobs.uploadCsv(file, {
        type: 'csv-row',
        priority: 'high',
        onProgress: (sent, total) => {
          assert.equal(total, Buffer.byteLength(content));
          progress.push(sent);
        },
      });
      const req = seen.at(-1)!;
      assert.equal(req.url, '/v1/batches?type=csv-row&priority=high');
      assert.match(String(req.headers['content-type']), /^multipart\/form-data; boundary=/);
      assert.equal(out.batch.source, 'rows.csv');
      assert.equal(out.batch.accepted, 20_000);
      assert.equal((await client.batches.get(out.batch.id)).byState.queued, 20_000);
      assert.equal(progress[0], 0);
      assert.equal(progress.at(-1), Buffer.byteLength(content));
      assert.ok(progress.every((v, i) => i === 0 || v >= progress[i - 1]!));
    });

    it('uploadCsv takes a Readable; rejected rows come back as CSV', async () => {
      const csv = 'id,name\n1,a\n"2,b\n';
      const out = await client.jobs.uploadCsv(Readable.from([csv]), {
        type: 'csv-row',
        filename: 'stream.csv',
      });
      assert.equal(out.batch.source, 'stream.csv');
      const rejected = await client.batches.rejected(out.batch.id);
      assert.match(rejected, /^row,code,message,raw\n/);
      const err = await rejection(client.batches.get('batch-nope'));
      assert.ok(err instanceof GafferApiError);
      assert.equal(err.code, 'GAFFER_BATCH_NOT_FOUND');
    });

    it('submitStream sends submissions as they are produced, one NDJSON batch', async () => {
      async function* produce() {
        for (let i = 0; i < 20_000; i++) yield { payload: { id: String(i), name: `n${i}` } };
        yield { maxAttempts: 0 }; // below the schema's minimum of 1
      }
      const out = await client.jobs.submitStream(produce(), { type: 'csv-row' });
      const req = seen.at(-1)!;
      assert.equal(req.url, '/v1/batches?type=csv-row');
      assert.equal(req.headers['content-type'], 'application/x-ndjson');
      assert.equal(req.headers['transfer-encoding'], 'chunked', 'streamed, no length up front');
      assert.equal(out.batch.source, 'ndjson');
      assert.equal(out.batch.accepted, 20_000);
      assert.deepEqual(
        out.rejected.map((r) => [r.row, r.code]),
        [[20_001, 'GAFFER_BAD_REQUEST']],
      );
    });

    it('batches.list, the all-pages iterator and batches.retryFailed', async () => {
      const page = await client.batches.list({ limit: 1 });
      assert.equal(page.batches.length, 1);
      const ids = [];
      for await (const b of client.batches.all({ limit: 2 })) ids.push(b.id);
      assert.ok(ids.length >= 3);
      const { batchId } = await client.jobs.submitBatch({ type: 'doomed-batch', jobs: [{}] });
      await client.waitFor(batchId, { intervalMs: 50 });
      const retried = await client.batches.retryFailed(batchId);
      assert.deepEqual(retried, { retried: 0, replayed: 1, forbidden: 0, skipped: [] });
      const err = await rejection(client.batches.retryFailed('batch-nope'));
      assert.ok(err instanceof GafferApiError);
      assert.equal(err.code, 'GAFFER_BATCH_NOT_FOUND');
    });
  });

  describe('dead letters', () => {
    it('list, get, edit, replay and replayMany', async () => {
      const ids = [];
      for (let i = 0; i < 3; i++) {
        ids.push((await client.jobs.submit({ type: 'doomed', payload: { i } })).job.id);
      }
      for (const id of ids) await client.waitFor(id, { intervalMs: 50 });
      const page = await client.deadLetters.list({ type: 'doomed' });
      assert.deepEqual(page.jobs.map((j) => j.id).sort(), [...ids].sort());
      const all = [];
      for await (const j of client.deadLetters.all({ type: 'doomed', limit: 1 })) all.push(j.id);
      assert.equal(all.length, 3);
      const one = await client.deadLetters.get(ids[0]!);
      assert.equal(one.state, 'dead_lettered');
      const edited = await client.deadLetters.edit(ids[0]!, { payload: { fixed: true } });
      assert.deepEqual(edited.payload, { fixed: true });
      const replayed = await client.deadLetters.replay(ids[0]!);
      assert.equal(replayed.replays, 1);
      const many = await client.deadLetters.replayMany({ ids: ids.slice(1) });
      assert.equal(many.replayed, 2);
      const err = await rejection(client.deadLetters.get('nope'));
      assert.ok(err instanceof GafferApiError);
      assert.equal(err.status, 404);
    });
  });

  describe('queues, workers, scaling, config, ops', () => {
    it('answer with the server’s shapes', async () => {
      const queues = await client.queues();
      assert.deepEqual(queues.map((q) => q.type).sort(), [
        'csv-row',
        'doomed',
        'doomed-batch',
        'echo',
        'held',
      ]);
      assert.ok(Array.isArray(await client.workers.list()));
      const events = await client.workers.events({ type: 'echo', limit: 5 });
      assert.ok(events.length > 0, 'the echo worker started');
      assert.ok(events.every((e) => e.type === 'echo'));
      const desired = await client.scaling.desired();
      assert.deepEqual(Object.keys(desired).sort(), [
        'csv-row',
        'doomed',
        'doomed-batch',
        'echo',
        'held',
      ]);
      const decisions = await client.scaling.decisions({ limit: 3 });
      assert.ok(decisions.length <= 3);
      const config = await client.config();
      assert.ok('jobTypes' in config);
      assert.match(await client.metrics(), /^# HELP /m);
      assert.deepEqual(await client.health(), { status: 'ok' });
      assert.equal(await client.ready(), true);
      assert.equal((await client.openapi())['openapi'] !== undefined, true);
    });

    it('stats.history', async () => {
      const history = await client.stats.history({ since: 0 });
      assert.ok(Array.isArray(history.samples));
      assert.ok(history.intervalMs > 0);
    });
  });

  describe('events', () => {
    it('iterates the SSE stream until the loop breaks', async () => {
      const got: string[] = [];
      const it = client.events();
      let submitted = false;
      for await (const e of it) {
        got.push(e.event);
        if (e.event === 'hello' && !submitted) {
          submitted = true;
          await client.jobs.submit({ type: 'held' });
        }
        if (e.event === 'jobs') {
          assert.ok(e.data.changed >= 1);
          break;
        }
      }
      assert.equal(got[0], 'hello');
      assert.equal(got.at(-1), 'jobs');
    });

    it('ends when the signal aborts', async () => {
      const stop = new AbortController();
      const got: string[] = [];
      for await (const e of client.events({ signal: stop.signal })) {
        got.push(e.event);
        stop.abort();
      }
      assert.deepEqual(got, ['hello']);
    });
  });

  describe('auth and errors', () => {
    it('sends the API key as a Bearer token', async () => {
      await createClient({ url: address, apiKey: 'gaffer_k1_secret' }).queues();
      assert.equal(seen.at(-1)!.headers.authorization, 'Bearer gaffer_k1_secret');
      await client.queues();
      assert.equal(seen.at(-1)!.headers.authorization, undefined, 'no key, no header');
    });

    it('session and audit with auth off (with auth on: auth.test.ts)', async () => {
      const login = await client.session.login('anything');
      assert.equal(login.auth, false);
      const who = await client.session.whoami();
      assert.equal(who.auth, false, 'auth is off in this gaffer');
      assert.equal(who.principal.role, 'operator');
      const audit = await client.audit.list({ limit: 5, action: 'job.cancel' });
      assert.ok(audit.entries.length > 0, 'the cancel of the jobs test');
      assert.ok(audit.entries.every((e) => e.action === 'job.cancel'));
      await client.session.logout();
    });

    it('a 404 throws GafferApiError with the code and message of the body', async () => {
      const err = await rejection(client.jobs.get('nope'));
      const real = await g.app.inject({ method: 'GET', url: '/v1/jobs/nope' });
      const body = real.json<{ error: { code: string; message: string } }>();
      assert.ok(err instanceof GafferApiError);
      assert.equal(err.status, 404);
      assert.equal(err.code, 'GAFFER_JOB_NOT_FOUND');
      assert.equal(err.message, body.error.message);
    });

    it('a refused submission carries status 400 and the catalogue code', async () => {
      const err = await rejection(client.jobs.submit({ type: 'no-such-type' }));
      assert.ok(err instanceof GafferApiError);
      assert.equal(err.status, 400);
      assert.equal(err.code, 'GAFFER_UNKNOWN_TYPE');
    });

    it('throws GafferConnectionError when nothing listens', async () => {
      const url = await closedPortUrl();
      const err = await rejection(createClient({ url }).queues());
      assert.ok(err instanceof GafferConnectionError);
      assert.equal(err.url, url);
      assert.match(err.message, /ECONNREFUSED/);
    });

    it('waitFor rejects with the signal’s reason when it aborts', async () => {
      const { job } = await client.jobs.submit({ type: 'held' });
      const stop = new AbortController();
      const waiting = client.waitFor(job.id, {
        intervalMs: 20,
        signal: stop.signal,
        onProgress: () => stop.abort(new Error('enough')),
      });
      const err = await rejection(waiting);
      assert.equal((err as Error).message, 'enough');
    });
  });

  it('uses an injected fetch', async () => {
    const calls: string[] = [];
    const own = createClient({
      url: address,
      fetch: (input, init) => {
        calls.push(String(input));
        return fetch(input, init);
      },
    });
    await own.health();
    assert.deepEqual(calls, [`${address}/healthz`]);
  });
});
