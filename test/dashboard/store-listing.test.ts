import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { NewJob } from '../../src/domain/job.ts';
import type { JobStore } from '../../src/store/job-store.ts';
import { SEARCH_PAYLOAD_WINDOW } from '../../src/store/paging.ts';
import { createPostgresStore } from '../../src/store/postgres/index.ts';
import { createSqliteStore } from '../../src/store/sqlite/index.ts';
import { serviceAvailable } from '../helpers/servers/common.ts';
import {
  createDatabase,
  PG_BIN,
  startPostgres,
  type PostgresServer,
} from '../helpers/servers/postgres.ts';
import { stderrLogger } from '../helpers/log.ts';

/**
 * What the dashboard adds to both stores: listBatches (newest first, keyset-paged, with
 * counts by state), and the bounded search (id prefix, idempotency key, payload text among the
 * newest SEARCH_PAYLOAD_WINDOW jobs). The same cases run on SQLite and, when installed, PostgreSQL.
 */
const T0 = 1_700_000_000_000;
function newJob(i: number, overrides: Partial<NewJob> = {}): NewJob {
  return {
    id: `job-${String(i).padStart(6, '0')}`,
    type: 'render',
    queue: 'render',
    payload: { file: `f${i}.pdf` },
    priority: 0,
    attributes: {},
    maxAttempts: 3,
    timeoutMs: 1000,
    createdAt: T0 + i,
    runAt: T0 + i,
    batchId: null,
    idempotencyKey: null,
    routeReason: null,
    data: null,
    ...overrides,
  };
}

function cases(name: string, open: () => Promise<JobStore>) {
  describe(`dashboard store additions: ${name}`, () => {
    let store: JobStore;
    before(async () => {
      store = await open();
      for (const [i, id] of ['b-old', 'b-mid', 'b-new'].entries()) {
        await store.createBatch({
          id,
          createdAt: T0 + i * 1000,
          source: `${id}.csv`,
          type: null,
          accepted: 2,
          rejected: i,
          done: true,
        });
      }
      await store.insert([
        newJob(1, { batchId: 'b-mid' }),
        newJob(2, { batchId: 'b-mid', idempotencyKey: 'order-42' }),
        newJob(3, { batchId: 'b-new', payload: { file: 'needle-in-payload.pdf' } }),
      ]);
      // Enough newer jobs to push job 3's payload out of the search window.
      const filler = Array.from({ length: SEARCH_PAYLOAD_WINDOW }, (_, k) => newJob(100 + k));
      await store.insert(filler);
    });
    after(() => store.close());

    test('listBatches: newest first, paged by cursor, with job counts by state', async () => {
      const first = await store.listBatches({ limit: 2 });
      assert.deepEqual(
        first.batches.map((b) => b.id),
        ['b-new', 'b-mid'],
      );
      assert.deepEqual(first.batches[1]!.byState, { queued: 2 });
      assert.ok(first.nextCursor);
      const second = await store.listBatches({ limit: 2, cursor: first.nextCursor });
      assert.deepEqual(
        second.batches.map((b) => b.id),
        ['b-old'],
      );
      assert.deepEqual(second.batches[0]!.byState, {});
      assert.equal(second.nextCursor, null);
    });

    const search = async (term: string, extra = {}) =>
      (await store.list({ limit: 20, search: term, ...extra })).jobs.map((j) => j.id);

    const table: [string, string, object, string[]][] = [
      ['an id prefix', 'job-00000', {}, ['job-000003', 'job-000002', 'job-000001']],
      [
        'an id prefix with a filter',
        'job-00000',
        { batchId: 'b-mid' },
        ['job-000002', 'job-000001'],
      ],
      ['an idempotency key', 'order-42', {}, ['job-000002']],
      [
        'payload text in the window',
        `f${100 + SEARCH_PAYLOAD_WINDOW - 1}.pdf`,
        {},
        [`job-0${100 + SEARCH_PAYLOAD_WINDOW - 1}`],
      ],
      ['payload text older than the window is not found', 'needle-in-payload', {}, []],
    ];
    for (const [what, term, extra, expected] of table) {
      test(`search matches ${what}`, async () => {
        assert.deepEqual(await search(term, extra), expected);
      });
    }
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-dash-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
cases('SQLite', async () =>
  createSqliteStore({
    path: path.join(dir, 'gaffer.db'),
    synchronous: 'NORMAL',
    log: stderrLogger(),
  }),
);

if (serviceAvailable(`${PG_BIN}/initdb`)) {
  let server: PostgresServer | undefined;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server?.stop());
  cases('PostgreSQL', async () => createPostgresStore({ url: await createDatabase(server!.url) }));
}
