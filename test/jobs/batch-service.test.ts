import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { GafferEvents } from '../../src/domain/events.ts';
import { GafferError } from '../../src/errors.ts';
import { BatchService } from '../../src/jobs/batches.ts';
import { createCatalog } from '../../src/jobs/catalog.ts';
import { JobService } from '../../src/jobs/service.ts';
import { createSqliteStore } from '../../src/store/sqlite/index.ts';
import { stderrLogger } from '../helpers/log.ts';

/**
 * The batch service on a `:memory:` store and gaffer's own job service: what every front end
 * records of a batch (HTTP, gRPC, the library), without a process or a server.
 */

function setup(t: TestContext) {
  const config = parseConfig(
    {
      jobTypes: {
        row: {
          worker: { command: ['true'] },
          retry: { maxAttempts: 1 },
          deadLetter: false,
          payloadSchema: { type: 'object', required: ['n'] },
        },
        other: { worker: { command: ['true'] }, retry: { maxAttempts: 1 }, deadLetter: false },
      },
    },
    'test',
  );
  const catalog = createCatalog({
    jobTypes: config.jobTypes,
    rules: config.routes.rules ?? [],
    cost: config.routes.cost,
  });
  const log = stderrLogger();
  const store = createSqliteStore({ path: ':memory:', synchronous: 'NORMAL', log });
  t.after(() => store.close());
  const clock = new ManualClock();
  const events = new GafferEvents(log);
  const service = new JobService({
    store,
    clock,
    events,
    catalog: () => catalog,
    leaseTtlMs: 30_000,
    log,
  });
  return { batches: new BatchService({ service, store, clock, events }), service, events, clock };
}

const code = (c: string) => (err: unknown) => err instanceof GafferError && err.code === c;

test('submit: an item a front end could not read keeps its index; the batch has the counts and is done', async (t) => {
  const { batches } = setup(t);
  const { batchId, accepted, rejected } = await batches.submit(
    [
      { type: 'row', payload: { n: 1 } },
      new GafferError('GAFFER_BAD_JSON', 'not JSON'),
      { type: 'row', payload: {} },
      { type: 'row', payload: { n: 4 } },
    ],
    { source: 'grpc', type: 'row' },
  );
  assert.deepEqual(
    rejected.map((r) => [r.index, r.code]),
    [
      [1, 'GAFFER_BAD_JSON'],
      [2, 'GAFFER_PAYLOAD_INVALID'],
    ],
  );
  assert.deepEqual(
    accepted.map((j) => [j.batchId, j.payload]),
    [
      [batchId, { n: 1 }],
      [batchId, { n: 4 }],
    ],
  );
  const batch = await batches.get(batchId);
  assert.deepEqual(
    [batch.source, batch.type, batch.accepted, batch.rejected, batch.done],
    ['grpc', 'row', 2, 2, true],
  );
});

test('upload: the batch is done and announced after the read; its rejected rows are kept', async (t) => {
  const { batches, events } = setup(t);
  const announced: string[] = [];
  events.on('batch:progress', ({ batchId }) => announced.push(batchId));
  const { batch, result } = await batches.upload('rows.csv', 'row', (id) =>
    batches.ingestCsv(id, Readable.from([Buffer.from('n,m\n1,a\n"open\n')]), { type: 'row' }),
  );
  assert.deepEqual(
    [batch.source, batch.accepted, batch.rejected, batch.done],
    ['rows.csv', 1, 1, true],
  );
  assert.deepEqual(announced, [batch.id]);
  assert.deepEqual(
    result.firstRejected.map((r) => [r.row, r.code]),
    [[3, 'GAFFER_CSV_INVALID']],
  );
  assert.deepEqual(
    (await batches.rejectedRows(batch.id)).map((r) => r.row),
    [3],
  );
});

test('upload: a read that fails part way keeps its rows, marks the batch done, throws as mapped', async (t) => {
  const { batches, events } = setup(t);
  const announced: string[] = [];
  events.on('batch:progress', ({ batchId }) => announced.push(batchId));
  let batchId = '';
  await assert.rejects(
    batches.upload(
      'ndjson',
      null,
      async (id) => {
        batchId = id;
        await batches.ingestCsv(id, Readable.from([Buffer.from('n\n1\n2\n')]), { type: 'row' });
        throw new Error('the connection was cut');
      },
      (err, id) => new GafferError('GAFFER_CSV_INVALID', String(err), { details: { batchId: id } }),
    ),
    (err: unknown) =>
      code('GAFFER_CSV_INVALID')(err) &&
      (err as GafferError).details !== undefined &&
      ((err as GafferError).details as { batchId: string }).batchId === batchId,
  );
  const batch = await batches.get(batchId);
  assert.deepEqual([batch.accepted, batch.done], [2, true]);
  assert.deepEqual(announced, [], 'only a finished upload is announced');
});

test('an unknown batch: get, rejected rows and retry failed are GAFFER_BATCH_NOT_FOUND', async (t) => {
  const { batches } = setup(t);
  await assert.rejects(batches.get('batch-nope'), code('GAFFER_BATCH_NOT_FOUND'));
  await assert.rejects(batches.rejectedRows('batch-nope'), code('GAFFER_BATCH_NOT_FOUND'));
  await assert.rejects(batches.retryFailed('batch-nope'), code('GAFFER_BATCH_NOT_FOUND'));
});

test('retryFailed: failed jobs of the allowed types queued again, the others counted and left', async (t) => {
  const { batches, service } = setup(t);
  const { batchId } = await batches.submit(
    [
      { type: 'row', payload: { n: 1 } },
      { type: 'other', payload: {} },
    ],
    { source: 'json' },
  );
  for (const type of ['row', 'other']) {
    const [job] = await service.claim(type, 'w-1', 1, 'running');
    const error = { class: 'application' as const, message: 'exit 1' };
    await service.complete(job!, job!.leaseToken!, { status: 'failed', error });
  }
  const report = await batches.retryFailed(batchId, (type) => type === 'row');
  assert.deepEqual(report, { retried: 1, replayed: 0, forbidden: 1, skipped: [] });
  const { jobs } = await service.list({ batchId, limit: 10 });
  assert.deepEqual(jobs.map((j) => [j.type, j.state]).sort(), [
    ['other', 'failed'],
    ['row', 'queued'],
  ]);
});

test('list: newest first, paged by its cursor', async (t) => {
  const { batches, clock } = setup(t);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    ids.push(await batches.create(`b${i}`, null));
    clock.advance(1000);
  }
  const first = await batches.list({ limit: 2 });
  assert.deepEqual(
    first.batches.map((b) => b.id),
    [ids[2], ids[1]],
  );
  const rest = await batches.list({ limit: 2, cursor: first.nextCursor! });
  assert.deepEqual(
    rest.batches.map((b) => b.id),
    [ids[0]],
  );
});
