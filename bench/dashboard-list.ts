/**
 * The dashboard's jobs table at a million jobs: inserts 1,000,000 jobs into a fresh
 * SQLite store (5 types, every state, 200 batches, idempotency keys), then times GET /v1/jobs'
 * store query for every filter the API can combine — the first page, and a page 20 pages deep
 * through the cursor. Not a test (no thresholds): it reports, and the plans are checked by
 * test/dashboard/listing-plan.test.ts.
 *
 *   npx node bench/dashboard-list.ts [--jobs 1000000] [--page 50]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { JobState, NewJob } from '../src/domain/job.ts';
import type { JobFilter } from '../src/store/job-store.ts';
import { createSqliteStore } from '../src/store/sqlite/index.ts';
import { createLogger } from '../src/log/logger.ts';
import { DatabaseSync } from 'node:sqlite';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '1000000' },
    page: { type: 'string', default: '50' },
  },
});
const TOTAL = Number(values.jobs);
const PAGE = Number(values.page);
const TYPES = ['render', 'ocr', 'thumbnail', 'email', 'export'];
const STATES: JobState[] = [
  'succeeded',
  'succeeded',
  'succeeded',
  'failed',
  'queued',
  'running',
  'dead_lettered',
  'cancelled',
  'timed_out',
];

const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-bench-list-'));
const file = path.join(dir, 'gaffer.db');
try {
  const store = createSqliteStore({ path: file, synchronous: 'NORMAL', log: createLogger() });
  const t0 = performance.now();
  const start = 1_700_000_000_000;
  const CHUNK = 20_000;
  for (let from = 0; from < TOTAL; from += CHUNK) {
    const jobs: NewJob[] = [];
    for (let i = from; i < Math.min(from + CHUNK, TOTAL); i++) {
      const type = TYPES[i % TYPES.length]!;
      jobs.push({
        id: `job-${String(i).padStart(7, '0')}`,
        type,
        queue: type,
        payload: { file: `file-${i}.pdf`, customer: `c${i % 997}` },
        priority: 0,
        attributes: {},
        maxAttempts: 3,
        timeoutMs: 60_000,
        createdAt: start + i * 10,
        runAt: start + i * 10,
        batchId: i % 5 === 0 ? `batch-${i % 200}` : null,
        idempotencyKey: i % 3 === 0 ? `key-${i}` : null,
        routeReason: null,
        data: null,
      });
    }
    await store.insert(jobs);
  }
  await store.close();
  // States are spread with one UPDATE (claiming a million jobs one by one is not what is measured).
  const db = new DatabaseSync(file);
  db.exec(
    `UPDATE jobs SET state = CASE rowid % ${STATES.length} ${STATES.map((s, i) => `WHEN ${i} THEN '${s}'`).join(' ')} END`,
  );
  db.exec('ANALYZE');
  db.close();
  console.log(`inserted ${TOTAL} jobs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const reopened = createSqliteStore({ path: file, synchronous: 'NORMAL', log: createLogger() });
  const filters: [string, Omit<JobFilter, 'limit'>][] = [
    ['no filter', {}],
    ['type', { type: 'ocr' }],
    ['state', { state: 'failed' }],
    ['type + state', { type: 'ocr', state: 'dead_lettered' }],
    ['batch', { batchId: 'batch-40' }],
    ['batch + state', { batchId: 'batch-40', state: 'failed' }],
    ['batch + type', { batchId: 'batch-40', type: 'render' }],
    ['type + state + batch', { type: 'render', state: 'failed', batchId: 'batch-40' }],
    ['search: id prefix', { search: 'job-00123' }],
    ['search: idempotency key', { search: `key-${Math.floor(TOTAL / 2 / 3) * 3}` }],
    ['search: payload (newest 10,000)', { search: `file-${TOTAL - 5}.pdf` }],
    ['search: no match', { search: 'nothing-matches-this' }],
    ['search + type + state', { search: 'job-00', type: 'ocr', state: 'failed' }],
  ];
  const time = async (f: JobFilter) => {
    const runs: number[] = [];
    let page;
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      page = await reopened.list(f);
      runs.push(performance.now() - t);
    }
    runs.sort((a, b) => a - b);
    return { ms: runs[3]!, page: page! };
  };
  console.log(`\npage of ${PAGE}, median of 7 runs\n`);
  console.log(`${'filter'.padEnd(34)} ${'first page'.padStart(11)} ${'page 20'.padStart(9)}  rows`);
  for (const [name, f] of filters) {
    const first = await time({ ...f, limit: PAGE });
    let cursor = first.page.nextCursor;
    for (let i = 2; i < 20 && cursor; i++) {
      cursor = (await reopened.list({ ...f, limit: PAGE, cursor })).nextCursor;
    }
    const deep = cursor ? await time({ ...f, limit: PAGE, cursor }) : null;
    console.log(
      `${name.padEnd(34)} ${`${first.ms.toFixed(2)} ms`.padStart(11)} ${(deep ? `${deep.ms.toFixed(2)} ms` : '–').padStart(9)}  ${first.page.jobs.length}`,
    );
  }
  await reopened.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
