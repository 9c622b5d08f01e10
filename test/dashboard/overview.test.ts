import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { until, type TestGaffer } from '../helpers/gaffer.ts';
import { startDashboardGaffer } from './setup.ts';

/**
 * The overview (queue cards, charts from the server-side history, workers), the scaling timeline
 * and the config view, in Chromium against a real gaffer.
 */
let g: TestGaffer & { url: string };
let browser: TestBrowser;
let page: Page;

before(async () => {
  g = await startDashboardGaffer();
  browser = await launchBrowser();
  page = await browser.page();
  const s = g.orch.service;
  for (let i = 0; i < 6; i++) await s.submit({ type: 'ok', payload: { i } });
  for (let i = 0; i < 2; i++) await s.submit({ type: 'fail', payload: { i } });
  await until(g, async () => {
    const { jobs } = await g.orch.store.list({ limit: 20 });
    return jobs.length === 8 && jobs.every((j) => j.state === 'succeeded' || j.state === 'failed');
  });
  // One sample now instead of waiting for the sampler's next 5 s tick.
  await g.orch.history.sample();
});
after(async () => {
  await browser?.close();
  await g?.close();
});

/** The largest value a chart drew, from its figure's data-max (charts.js). */
const chartMax = (p: Page, type: string, index: number) =>
  p.$eval(`.chart-row[data-type="${type}"] figure.chart:nth-of-type(${index + 1})`, (f) =>
    Number((f as HTMLElement).dataset['max']),
  );

describe('overview', () => {
  test('renders a card per queue and charts with the jobs that ran', async () => {
    await page.goto(`${g.url}/#/`);
    await page.waitForSelector('.card[data-type=ok]');
    for (const type of ['ok', 'fail', 'doomed', 'sleep', 'chatty', 'row', 'held']) {
      assert.ok(await page.$(`.card[data-type="${type}"]`), `a card for ${type}`);
    }
    await page.waitForSelector('.chart-row[data-type=ok] figure.chart canvas');
    await page.waitForFunction(() => {
      const f = document.querySelector<HTMLElement>(
        '.chart-row[data-type=ok] figure.chart:nth-of-type(2)',
      );
      return Number(f?.dataset['max']) > 0;
    });
    assert.ok((await chartMax(page, 'ok', 1)) > 0, 'ok: finished per minute');
    assert.ok((await chartMax(page, 'fail', 1)) > 0, 'fail: failed per minute');
    assert.ok((await chartMax(page, 'ok', 2)) > 0, 'ok: workers by state');
  });

  test('idle types fold into one row that expands; busy ones keep their card and charts', async () => {
    await page.goto(`${g.url}/#/`);
    await page.waitForSelector('.chart-row[data-type=ok] figure.chart canvas');
    // No job ever ran as these: folded. `ok` ran jobs: shown.
    const idle = ['doomed', 'sleep', 'chatty', 'row', 'held'];
    const summary = page.locator('#idle-types summary');
    await summary.waitFor();
    const text = (await summary.textContent()) ?? '';
    assert.match(text, /^5 idle types/);
    for (const type of idle) assert.ok(text.includes(type), `${type} named in: ${text}`);
    assert.ok(await page.isVisible('.card[data-type=ok]'), 'a busy type keeps its card');
    assert.ok(await page.isVisible('.card[data-type=fail]'));
    for (const type of idle) {
      assert.equal(await page.isVisible(`.card[data-type="${type}"]`), false, `${type}: folded`);
      assert.equal(await page.isVisible(`.chart-row[data-type="${type}"]`), false, type);
    }
    await summary.click();
    await page.waitForSelector('.card[data-type=held]', { state: 'visible' });
    await page.waitForSelector('.chart-row[data-type=held] figure.chart canvas', {
      state: 'visible',
    });
    await summary.click();
    await page.waitForSelector('.chart-row[data-type=held]', { state: 'hidden' });
    assert.equal(await page.isVisible('.card[data-type=held]'), false);
  });

  test('the charts survive a reload: history is kept by the server', async () => {
    await page.reload();
    await page.waitForSelector('.chart-row[data-type=ok] figure.chart canvas');
    await page.waitForFunction(() => {
      const f = document.querySelector<HTMLElement>(
        '.chart-row[data-type=ok] figure.chart:nth-of-type(2)',
      );
      return Number(f?.dataset['points']) >= 2 && Number(f?.dataset['max']) > 0;
    });
  });

  test('GET /v1/stats/history answers samples since a time', async () => {
    const all = (await g.app.inject({ url: '/v1/stats/history' })).json();
    assert.equal(all.intervalMs, 5000);
    assert.ok(all.samples.length >= 2);
    const last = all.samples.at(-1);
    const since = (await g.app.inject({ url: `/v1/stats/history?since=${last.at}` })).json();
    assert.deepEqual(since.samples, [last]);
    assert.deepEqual(Object.keys(last.types['ok'].workers), [
      'starting',
      'idle',
      'busy',
      'draining',
    ]);
  });

  test('lists the running workers', async () => {
    await page.waitForSelector('#workers tbody td.mono');
    assert.match((await page.textContent('#workers tbody')) ?? '', /idle|busy/);
  });
});

describe('scaling timeline', () => {
  test('shows each decision with from → to and its reason, filtered by type', async () => {
    const [decision] = await g.orch.store.decisions({ type: 'ok', limit: 1 });
    assert.ok(decision, 'the autoscaler decided for ok');
    await page.goto(`${g.url}/#/scaling`);
    await page.waitForSelector('#timeline .lane[data-type=ok] .mark');
    await page.waitForSelector('#decision-list li[data-type=ok]');
    const text = (await page.textContent('#decision-list')) ?? '';
    assert.ok(text.includes(`${decision.from} → ${decision.to}`));
    assert.ok(text.includes(decision.reason), 'the reason is shown');
    await page.selectOption('#scaling-type', 'fail');
    await page.waitForFunction(() => {
      const items = [...document.querySelectorAll<HTMLElement>('#decision-list li')];
      return items.length > 0 && items.every((li) => li.dataset['type'] === 'fail');
    });
    assert.equal(await page.$('#timeline .lane[data-type=ok]'), null);
  });
});

describe('config view', () => {
  test('renders GET /v1/config as readable text', async () => {
    await page.goto(`${g.url}/#/config`);
    await page.waitForFunction(() =>
      /jobTypes:/.test(document.querySelector('#config-text')?.textContent ?? ''),
    );
    const text = (await page.textContent('#config-text')) ?? '';
    assert.match(text, /\n {2}ok:\n/);
    assert.match(text, /handler: "test\/dashboard\/fixtures\/handlers\.ts#ok"/);
  });
});

describe('navigation', () => {
  test('every view is a hash route with a heading, and the nav marks the current one', async () => {
    const views: [string, string][] = [
      ['#/', 'Queues'],
      ['#/jobs', 'Jobs'],
      ['#/batches', 'Upload a CSV'],
      ['#/dead-letters', 'Dead-letter queue'],
      ['#/scaling', 'Scaling timeline'],
      ['#/config', 'Effective config'],
    ];
    for (const [hash, heading] of views) {
      await page.goto(`${g.url}/${hash}`);
      await page.waitForFunction(
        (h) => document.querySelector('main h2')?.textContent?.startsWith(h),
        heading,
      );
      const current = await page.getAttribute('nav a[aria-current=page]', 'href');
      assert.equal(current, hash);
    }
  });
});

describe('chart library', () => {
  test('uPlot is served from its package, and nothing else of node_modules is', async () => {
    const cases: [string, number][] = [
      ['/vendor/uplot/uPlot.iife.min.js', 200],
      ['/vendor/uplot/uPlot.min.css', 200],
      ['/vendor/uplot/uPlot.esm.js', 404],
      ['/vendor/uplot/../package.json', 404],
    ];
    for (const [url, status] of cases) {
      assert.equal((await g.app.inject({ url })).statusCode, status, url);
    }
  });
});
