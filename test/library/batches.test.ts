import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { createGaffer, GafferError, NonRetryableError, type JobContext } from 'gaffer';

/**
 * Batches through the library, as the HTTP API records and reads them: a batch submitted in code,
 * its counts and listing, the rejected rows of an upload, and "retry failed rows".
 */

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function dataDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-batches-'));
  dirs.push(dir);
  return dir;
}
const store = () => ({ store: { dataDir: dataDir(), synchronous: 'NORMAL' as const } });

test('submitBatch records a batch: counts, done, listed, its jobs carry its id', async (t) => {
  const gaffer = await createGaffer({
    config: store(),
    jobs: {
      double: {
        payloadSchema: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } },
        handler: (ctx: JobContext<{ n: number }>) => ctx.payload.n * 2,
      },
    },
  });
  t.after(() => gaffer.close());
  const { batchId, accepted, rejected } = await gaffer.submitBatch(
    [
      { payload: { n: 1 } },
      { payload: {} },
      { type: 'nope', payload: null },
      { payload: { n: 3 } },
    ],
    { type: 'double' },
  );
  assert.deepEqual(
    rejected.map((r) => [r.index, r.code]),
    [
      [1, 'GAFFER_PAYLOAD_INVALID'],
      [2, 'GAFFER_UNKNOWN_TYPE'],
    ],
  );
  assert.deepEqual(await Promise.all(accepted.map((h) => h.result())), [2, 6]);
  assert.deepEqual(
    accepted.map((h) => h.job.batchId),
    [batchId, batchId],
  );
  const batch = await gaffer.batch(batchId);
  assert.deepEqual(
    [batch.source, batch.type, batch.accepted, batch.rejected, batch.done],
    ['library', 'double', 2, 2, true],
  );
  const page = await gaffer.batches();
  assert.deepEqual(
    page.batches.map((b) => b.id),
    [batchId],
  );
  await assert.rejects(
    gaffer.batch('batch-nope'),
    (err: unknown) => err instanceof GafferError && err.code === 'GAFFER_BATCH_NOT_FOUND',
  );
});

test('retryFailed queues a batch failed jobs again, as POST /v1/batches/:id/retry-failed', async (t) => {
  const runs = new Map<number, number>();
  const gaffer = await createGaffer({
    config: store(),
    jobs: {
      flaky: {
        retry: { maxAttempts: 1 },
        deadLetter: false,
        // Fails its first run, succeeds on the next: only a retry makes it succeed.
        handler: (ctx: JobContext<{ n: number }>) => {
          const seen = (runs.get(ctx.payload.n) ?? 0) + 1;
          runs.set(ctx.payload.n, seen);
          if (seen === 1) throw new NonRetryableError('first run fails');
          return ctx.payload.n;
        },
      },
    },
  });
  t.after(() => gaffer.close());
  const { batchId, accepted } = await gaffer.submitBatch(
    [{ payload: { n: 1 } }, { payload: { n: 2 } }],
    { type: 'flaky' },
  );
  const ended = await Promise.all(accepted.map((h) => h.done()));
  assert.deepEqual(
    ended.map((j) => j.state),
    ['failed', 'failed'],
  );
  const report = await gaffer.retryFailed(batchId);
  assert.deepEqual(report, { retried: 2, replayed: 0, forbidden: 0, skipped: [] });
  const again = await Promise.all(accepted.map((h) => gaffer.wait(h.id)));
  assert.deepEqual(
    again.map((j) => [j.state, j.result]),
    [
      ['succeeded', 1],
      ['succeeded', 2],
    ],
  );
});

test('rejectedRows reads the rows of an upload that could not be jobs', async (t) => {
  const gaffer = await createGaffer({
    config: store(),
    jobs: {
      row: {
        payloadSchema: { type: 'object', required: ['n'], properties: { n: { type: 'string' } } },
        handler: () => null,
      },
    },
  });
  t.after(() => gaffer.close());
  const url = await gaffer.listen({ host: '127.0.0.1', port: 0 });
  const form = new FormData();
  form.append('file', new Blob(['n,m\n1,a\n"unclosed\n']), 'rows.csv');
  const res = await fetch(`${url}/v1/batches?type=row`, { method: 'POST', body: form });
  assert.equal(res.status, 201);
  const { batch } = (await res.json()) as { batch: { id: string } };
  const rows = await gaffer.rejectedRows(batch.id);
  assert.deepEqual(
    rows.map((r) => [r.row, r.code]),
    [[3, 'GAFFER_CSV_INVALID']],
  );
  assert.deepEqual(await gaffer.rejectedRows((await gaffer.submitBatch([])).batchId), []);
  await assert.rejects(
    gaffer.rejectedRows('batch-nope'),
    (err: unknown) => err instanceof GafferError && err.code === 'GAFFER_BATCH_NOT_FOUND',
  );
});
