import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { until, type TestGaffer } from '../helpers/gaffer.ts';
import { startDashboardGaffer } from './setup.ts';

/**
 * The schedules view (next and last runs and their jobs; pause, resume, trigger) and the pause
 * button on a type's card, in Chromium against a real gaffer.
 */
let g: TestGaffer & { url: string };
let browser: TestBrowser;
let page: Page;

before(async () => {
  g = await startDashboardGaffer({
    schedules: {
      yearly: { cron: '0 0 1 1 *', timezone: 'Europe/Berlin', submit: { type: 'ok', payload: {} } },
    },
  });
  browser = await launchBrowser();
  page = await browser.page();
  // The held type has a job waiting, so its card is shown (not folded as idle).
  await g.orch.service.submit({ type: 'held', payload: {} });
});
after(async () => {
  await browser?.close();
  await g?.close();
});

describe('schedules', () => {
  test('lists a schedule with its next run; pause, resume and trigger it', async () => {
    await page.goto(`${g.url}/#/schedules`);
    const row = 'tr[data-name=yearly]';
    await page.waitForSelector(row);
    const cells = await page.$$eval(`${row} td`, (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(
      [cells[0], cells[1], cells[2], cells[4], cells[5], cells[6]],
      ['yearly', '0 0 1 1 * Europe/Berlin', 'ok', '–', '–', 'config'],
    );
    assert.match(cells[3] ?? '', /\d/, 'the next run is shown');

    await page.click('button[aria-label="pause yearly"]');
    await page.waitForSelector('tr[data-name=yearly][data-paused=true]');
    assert.equal((await g.orch.services.schedules.get('yearly')).paused, true);
    await page.click('button[aria-label="resume yearly"]');
    await page.waitForSelector('tr[data-name=yearly][data-paused=false]');

    await page.click('button[aria-label="trigger yearly"]');
    await page.waitForFunction(() =>
      document.querySelector('#schedules-message')?.textContent?.startsWith('Triggered yearly'),
    );
    const text = await page.textContent('#schedules-message');
    const jobId = /job (\S+)\.$/.exec(text ?? '')?.[1];
    assert.ok(jobId, text ?? '');
    await until(g, async () => (await g.orch.service.get(jobId)).state === 'succeeded');
  });

  test("a type's card pauses and resumes it", async () => {
    await page.goto(`${g.url}/#/`);
    await page.waitForSelector('.card[data-type=held][data-paused=false]');
    await page.click('button[aria-label="pause held"]');
    await page.waitForSelector('.card[data-type=held][data-paused=true] .s-paused');
    assert.deepEqual(
      (await g.orch.service.pausedTypes()).map((p) => p.type),
      ['held'],
    );
    await page.click('button[aria-label="resume held"]');
    await page.waitForSelector('.card[data-type=held][data-paused=false]');
    assert.deepEqual(await g.orch.service.pausedTypes(), []);
  });
});
