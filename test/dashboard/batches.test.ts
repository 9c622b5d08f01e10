import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { until, type TestGaffer } from '../helpers/gaffer.ts';
import { startDashboardGaffer } from './setup.ts';

/**
 * CSV upload → the batch page's progress, the rejected rows' download, "retry failed rows"; the
 * batch list; the dead-letter view's replay. Chromium against a real gaffer.
 */
let g: TestGaffer & { url: string };
let browser: TestBrowser;
let page: Page;
const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-dash-csv-'));

before(async () => {
  g = await startDashboardGaffer();
  browser = await launchBrowser();
  page = await browser.page();
});
after(async () => {
  await browser?.close();
  await g?.close();
  rmSync(dir, { recursive: true, force: true });
});

// Rows 2–7 (line numbers): two fail when run, two are rejected by the type's payload schema.
const CSV = ['n,fail', '1,no', '2,yes', 'abc,no', '4,no', '5,yes', 'x7,no'].join('\n') + '\n';

describe('batches', () => {
  let batchId = '';

  test('a CSV upload opens its batch page, whose progress reaches done', async () => {
    const file = path.join(dir, 'rows.csv');
    writeFileSync(file, CSV);
    await page.goto(`${g.url}/#/batches`);
    await page.waitForSelector('#upload-type option[value=row]', { state: 'attached' });
    await page.setInputFiles('#upload-file', file);
    await page.selectOption('#upload-type', 'row');
    await page.click('#upload button[type=submit]');
    await page.waitForURL(/#\/batches\/batch-/);
    batchId = decodeURIComponent(page.url().split('#/batches/')[1]!);
    await page.waitForSelector('#batch-status[data-finished=true]');
    const summary = (await page.textContent('#batch-summary')) ?? '';
    assert.match(summary, /accepted4/);
    assert.match(summary, /rejected2/);
    assert.match(summary, /ended4 of 4/);
    assert.equal(await page.getAttribute('#batch-summary progress', 'value'), '100');
    assert.equal(await page.textContent('#batch-summary [data-state=failed]'), 'failed 2');
  });

  test('the rejected rows download holds the bad rows', async () => {
    const href = await page.getAttribute('#rejected-download', 'href');
    assert.equal(href, `/v1/batches/${batchId}/rejected`);
    const csv = await page.evaluate(async (u) => (await fetch(u)).text(), href!);
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], 'row,code,message,raw');
    assert.equal(lines.length, 3);
    assert.match(csv, /abc,no/);
    assert.match(csv, /x7,no/);
  });

  test('"retry failed rows" requeues the failed ones', async () => {
    await page.click('#retry-failed');
    await page.waitForFunction(() =>
      /Retry failed rows: 2 retried, 0 replayed/.test(
        document.querySelector('#batch-message')?.textContent ?? '',
      ),
    );
    await until(g, async () => {
      const { jobs } = await g.orch.store.list({ batchId, state: 'failed', limit: 10 });
      return jobs.length === 2 && jobs.every((j) => j.replays === 1);
    });
  });

  test('the batch list shows the batch with its progress', async () => {
    await page.goto(`${g.url}/#/batches`);
    await page.waitForSelector(`#batches-table tr[data-id="${batchId}"]`);
    const row = (await page.textContent(`#batches-table tr[data-id="${batchId}"]`)) ?? '';
    assert.match(row, /rows\.csv/);
    assert.match(row, /100%/);
  });

  test('GET /v1/batches pages newest first', async () => {
    for (let i = 0; i < 3; i++) {
      await g.app.inject({
        method: 'POST',
        url: '/v1/jobs/batch',
        payload: { type: 'ok', jobs: [{ payload: { i } }] },
      });
    }
    const first = (await g.app.inject({ url: '/v1/batches?limit=2' })).json();
    assert.equal(first.batches.length, 2);
    assert.ok(first.nextCursor);
    const second = (
      await g.app.inject({ url: `/v1/batches?limit=2&cursor=${first.nextCursor}` })
    ).json();
    assert.deepEqual(
      second.batches.map((b: { id: string }) => b.id).slice(-1),
      [batchId],
      'the CSV batch is the oldest',
    );
    assert.ok(first.batches[0].createdAt >= second.batches[0].createdAt);
  });

  test('retry-failed on an unknown batch is 404', async () => {
    const res = await g.app.inject({ method: 'POST', url: '/v1/batches/nope/retry-failed' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'GAFFER_BATCH_NOT_FOUND');
  });
});

describe('dead letters', () => {
  test('a dead-lettered job is listed and replayed from its own view', async () => {
    const { job } = await g.orch.service.submit({ type: 'doomed', payload: { n: 1 } });
    await until(g, async () => (await g.orch.store.get(job.id))?.state === 'dead_lettered');
    await page.goto(`${g.url}/#/dead-letters`);
    await page.waitForSelector(`#dlq tr[data-id="${job.id}"]`);
    await page.click(`#dlq tr[data-id="${job.id}"] button`);
    await page.waitForFunction(() =>
      /Replayed 1\./.test(document.querySelector('#dlq-message')?.textContent ?? ''),
    );
    await until(g, async () => {
      const j = await g.orch.store.get(job.id);
      return j?.replays === 1 && j.state === 'dead_lettered';
    });
  });

  test('"retry failed rows" replays a batch\'s dead-lettered jobs', async () => {
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/jobs/batch',
      payload: { type: 'doomed', jobs: [{ payload: { a: 1 } }, { payload: { a: 2 } }] },
    });
    const { batchId, jobIds } = res.json() as { batchId: string; jobIds: string[] };
    await until(g, async () => {
      const { jobs } = await g.orch.store.list({ batchId, state: 'dead_lettered', limit: 10 });
      return jobs.length === 2;
    });
    const r = await g.app.inject({ method: 'POST', url: `/v1/batches/${batchId}/retry-failed` });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { retried: 0, replayed: 2, forbidden: 0, skipped: [] });
    for (const id of jobIds) assert.equal((await g.orch.store.get(id))?.replays, 1);
  });
});
