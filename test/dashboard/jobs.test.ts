import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { until, type TestGaffer } from '../helpers/gaffer.ts';
import { DASHBOARD_TYPES, startDashboardGaffer } from './setup.ts';
import { FLAKY_TWICE } from '../fixtures/job-types.ts';

/**
 * The jobs table (filter, search, paging) and the job page (payload, attempts, live log, result,
 * cancel and retry), driven in Chromium against a real gaffer. Waits are on DOM state only.
 */

/** The Attempts table as [outcome, error cell] per row. */
const attemptRows = (p: Page) =>
  p.$$eval('#job-attempts tbody tr[data-outcome]', (rows) =>
    rows.map((r) => [
      (r as HTMLElement).dataset['outcome'],
      r.querySelector('.error-cell')?.textContent ?? '',
    ]),
  );

let g: TestGaffer & { url: string };
let browser: TestBrowser;
let page: Page;
const ids: Record<string, string> = {};

before(async () => {
  g = await startDashboardGaffer({ jobTypes: { ...DASHBOARD_TYPES, flaky: FLAKY_TWICE } });
  browser = await launchBrowser();
  page = await browser.page();
  const s = g.orch.service;
  for (let i = 0; i < 55; i++) await s.submit({ type: 'ok', payload: { i } });
  ids['failed'] = (await s.submit({ type: 'fail', payload: { why: 'fixture' } })).job.id;
  await until(g, async () => {
    const page = await g.orch.store.list({ limit: 100 });
    return page.jobs.every((j) => j.state === 'succeeded' || j.state === 'failed');
  });
});
after(async () => {
  await browser?.close();
  await g?.close();
});

const rowStates = (p: Page) =>
  p.$$eval('#jobs-table tbody tr[data-id]', (rows) =>
    rows.map((r) => (r as HTMLElement).dataset['state']),
  );
const rowIds = (p: Page) =>
  p.$$eval('#jobs-table tbody tr[data-id]', (rows) =>
    rows.map((r) => (r as HTMLElement).dataset['id']),
  );

describe('jobs table', () => {
  test('lists the newest jobs, filters by state and type, and keeps the filter in the URL', async () => {
    await page.goto(`${g.url}/#/jobs`);
    await page.waitForSelector('#jobs-table tbody tr[data-id]');
    await page.selectOption('#f-state', 'failed');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll<HTMLElement>('#jobs-table tbody tr[data-id]')];
      return rows.length === 1 && rows[0]!.dataset['state'] === 'failed';
    });
    assert.deepEqual(await rowIds(page), [ids['failed']]);
    assert.match(page.url(), /#\/jobs\?state=failed$/);
    await page.selectOption('#f-state', '');
    await page.selectOption('#f-type', 'fail');
    await page.waitForFunction(
      () => document.querySelectorAll('#jobs-table tbody tr[data-id]').length === 1,
    );
    await page.selectOption('#f-type', 'ok');
    await page.waitForFunction(
      () => document.querySelectorAll('#jobs-table tbody tr[data-id]').length === 25,
    );
    assert.ok((await rowStates(page)).every((s) => s === 'succeeded'));
  });

  test('a filtered link opens with its filter applied', async () => {
    await page.goto(`${g.url}/#/jobs?state=failed`);
    await page.waitForFunction(
      () => document.querySelectorAll('#jobs-table tbody tr[data-id]').length === 1,
    );
    assert.equal(await page.inputValue('#f-state'), 'failed');
  });

  test('searches by id', async () => {
    await page.goto(`${g.url}/#/jobs`);
    await page.waitForSelector('#jobs-table tbody tr[data-id]');
    await page.fill('#f-search', ids['failed']!);
    await page.waitForFunction((id) => {
      const rows = [...document.querySelectorAll<HTMLElement>('#jobs-table tbody tr[data-id]')];
      return rows.length === 1 && rows[0]!.dataset['id'] === id;
    }, ids['failed']);
    await page.fill('#f-search', 'no-job-has-this-id');
    await page.waitForSelector('#jobs-table tbody td.empty');
  });

  test('pages older and newer with the cursor', async () => {
    await page.goto(`${g.url}/#/jobs`);
    await page.waitForFunction(
      () => document.querySelectorAll('#jobs-table tbody tr[data-id]').length === 25,
    );
    assert.equal(await page.isDisabled('#prev'), true);
    const first = await rowIds(page);
    await page.click('#next');
    await page.waitForFunction(
      () => document.querySelector('#page-info')?.textContent === 'page 2',
    );
    await page.waitForFunction(
      (firstId) =>
        document.querySelector<HTMLElement>('#jobs-table tbody tr[data-id]')?.dataset['id'] !==
        firstId,
      first[0],
    );
    const second = await rowIds(page);
    assert.equal(second.length, 25);
    assert.equal(second.filter((id) => first.includes(id)).length, 0, 'no job on both pages');
    await page.click('#next');
    await page.waitForFunction(
      () => document.querySelector('#page-info')?.textContent === 'page 3',
    );
    await page.waitForFunction(
      () => document.querySelectorAll('#jobs-table tbody tr[data-id]').length === 6,
    );
    assert.equal(await page.isDisabled('#next'), true, '56 jobs: the third page is the last');
    await page.click('#prev');
    await page.click('#prev');
    await page.waitForFunction(
      () => document.querySelector('#page-info')?.textContent === 'page 1',
    );
    await page.waitForFunction(
      (firstId) =>
        document.querySelector<HTMLElement>('#jobs-table tbody tr[data-id]')?.dataset['id'] ===
        firstId,
      first[0],
    );
  });

  test('a row links to the job page', async () => {
    await page.goto(`${g.url}/#/jobs?state=failed`);
    await page.click(`#jobs-table a[href="#/jobs/${ids['failed']}"]`);
    await page.waitForSelector('#job-attempts tbody td.error-cell');
    assert.match((await page.textContent('#job-attempts tbody')) ?? '', /application: .*refused/);
  });
});

describe('job page', () => {
  test('shows the payload, the attempt, the log as it arrives, then the result', async () => {
    const { job } = await g.orch.service.submit({
      type: 'chatty',
      payload: { lines: 12, everyMs: 250 },
    });
    await page.goto(`${g.url}/#/jobs/${job.id}`);
    await page.waitForSelector('#job-payload-text');
    assert.match((await page.textContent('#job-payload-text')) ?? '', /"lines": 12/);
    // Live: a first line is shown while the job still runs, later lines follow without a reload.
    await page.waitForFunction(() =>
      /line \d+ of 12/.test(document.querySelector('#job-log')?.textContent ?? ''),
    );
    const early = (await page.textContent('#job-log')) ?? '';
    assert.doesNotMatch(early, /line 12 of 12/, 'the first lines arrive before the job ends');
    await page.waitForFunction(() =>
      /line 12 of 12/.test(document.querySelector('#job-log')?.textContent ?? ''),
    );
    await page.waitForFunction(
      () => document.querySelector('#job-state')?.textContent === 'succeeded',
    );
    await page.waitForSelector('#job-result-text');
    assert.match((await page.textContent('#job-result-text')) ?? '', /"lines": 12/);
    const log = (await page.textContent('#job-log')) ?? '';
    for (let i = 1; i <= 12; i++) assert.ok(log.includes(`line ${i} of 12`), `line ${i} once`);
    assert.deepEqual(await attemptRows(page), [['succeeded', '–']]);
  });

  test('a job that failed twice then succeeded shows its three attempts and both errors', async () => {
    const { job } = await g.orch.service.submit({ type: 'flaky', payload: {} });
    await until(g, async () => (await g.orch.store.get(job.id))?.state === 'succeeded', [
      'job:succeeded',
    ]);
    await page.goto(`${g.url}/#/jobs/${job.id}`);
    await page.waitForFunction(
      () => document.querySelectorAll('#job-attempts tbody tr[data-outcome]').length === 3,
    );
    const rows = await attemptRows(page);
    assert.deepEqual(
      rows.map(([outcome]) => outcome),
      ['failed', 'failed', 'succeeded'],
    );
    assert.match(rows[0]![1]!, /^application \(exit 3\): .*attempt 1 refused/);
    assert.match(rows[1]![1]!, /^application \(exit 3\): .*attempt 2 refused/);
    assert.equal(rows[2]![1], '–');
    const table = (await page.textContent('#job-attempts tbody')) ?? '';
    assert.equal(table.match(/retried/g)?.length, 2, 'the first two attempts were retried');
  });

  test('cancel, then retry, from the page', async () => {
    const { job } = await g.orch.service.submit({ type: 'sleep', payload: {} });
    await page.goto(`${g.url}/#/jobs/${job.id}`);
    await page.waitForFunction(
      () => document.querySelector('#job-state')?.textContent === 'running',
    );
    // Live: the attempt in flight has its row before it ends.
    await page.waitForSelector('#job-attempts tbody tr[data-outcome="running"]');
    await page.click('#job-cancel');
    await page.waitForFunction(
      () => document.querySelector('#job-state')?.textContent === 'cancelled',
    );
    await page.waitForSelector('#job-attempts tbody tr[data-outcome="cancelled"]');
    assert.equal((await attemptRows(page)).length, 1);
    assert.equal(await page.isDisabled('#job-cancel'), true);
    await page.click('#job-retry');
    await page.waitForFunction(() =>
      /queued|starting|running/.test(document.querySelector('#job-state')?.textContent ?? ''),
    );
    await page.waitForFunction(() =>
      /requeued 1×/.test(document.querySelector('#job-fields')?.textContent ?? ''),
    );
    assert.equal((await g.orch.store.get(job.id))?.replays, 1);
    await g.orch.service.cancel(job.id);
  });

  test('a delayed job: listed and shown as delayed with its due time', async () => {
    const { job } = await g.orch.service.submit({ type: 'held', payload: {}, delay: '1h' });
    await page.goto(`${g.url}/#/jobs?state=delayed`);
    await page.waitForSelector(`#jobs-table tbody tr[data-id="${job.id}"][data-delayed="true"]`);
    assert.equal(await page.inputValue('#f-state'), 'delayed');
    const cell = await page.textContent(
      `#jobs-table tbody tr[data-id="${job.id}"] td:nth-child(3)`,
    );
    assert.match(cell ?? '', /^delayed · due in 59 m \d\d s$/);
    await page.goto(`${g.url}/#/jobs/${job.id}`);
    await page.waitForFunction(() =>
      /^delayed · due in/.test(document.querySelector('#job-state')?.textContent ?? ''),
    );
    assert.match((await page.textContent('#job-why')) ?? '', /^delayed: /);
  });

  test('a queued job says why it is waiting', async () => {
    const { job } = await g.orch.service.submit({ type: 'held', payload: {} });
    await page.goto(`${g.url}/#/jobs/${job.id}`);
    await page.waitForSelector('#job-why');
    assert.ok(((await page.textContent('#job-why')) ?? '').length > 0);
    await g.orch.service.cancel(job.id);
  });

  test('an unknown id says so', async () => {
    await page.goto(`${g.url}/#/jobs/no-such-job`);
    await page.waitForFunction(() =>
      /No job no-such-job/.test(document.querySelector('#job-message')?.textContent ?? ''),
    );
  });
});
