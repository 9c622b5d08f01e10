import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, type TestBrowser } from '../helpers/browser.ts';
import { until, type TestGaffer } from '../helpers/gaffer.ts';
import { startDashboardGaffer } from './setup.ts';

/**
 * Login: with `auth.keys` configured, the dashboard asks for an API key on the first
 * 401, logs in with POST /v1/session (an HttpOnly cookie), shows who is logged in, hides operate
 * buttons from a viewer, and logs out with DELETE /v1/session.
 */
function makeKey(id: string) {
  // The key format and its stored hash, as `gaffer keys create` prints them (docs/http-api.md).
  const key = `gaffer_${id}_${randomBytes(32).toString('base64url')}`;
  return { key, hash: `sha256:${createHash('sha256').update(key).digest('hex')}` };
}

const viewer = makeKey('viewer1');
const operator = makeKey('operator1');
const rowOperator = makeKey('rowop');
let g: TestGaffer & { url: string };
let browser: TestBrowser;
let page: Page;
let jobId = '';

before(async () => {
  g = await startDashboardGaffer({
    auth: {
      keys: [
        { id: 'viewer1', hash: viewer.hash, role: 'viewer' },
        { id: 'operator1', hash: operator.hash, role: 'operator' },
        { id: 'rowop', hash: rowOperator.hash, role: 'operator', types: ['row'] },
      ],
    },
  });
  browser = await launchBrowser();
  page = await browser.page();
  jobId = (await g.orch.service.submit({ type: 'held', payload: { hello: 'world' } })).job.id;
});
after(async () => {
  await browser?.close();
  await g?.close();
});

async function logIn(key: string) {
  await page.waitForSelector('#login-form input[name=key]');
  await page.fill('#login-form input[name=key]', key);
  await page.click('#login-form button[type=submit]');
}

describe('login', () => {
  test('an API call answering 401 opens the login form; a wrong key is refused', async () => {
    await page.goto(`${g.url}/#/jobs`);
    await page.waitForSelector('#login:not([hidden])');
    await logIn('gaffer_viewer1_wrong');
    await page.waitForFunction(() =>
      /not accepted/.test(document.querySelector('#login-error')?.textContent ?? ''),
    );
  });

  test('a viewer logs in, sees the jobs, and no operate buttons', async () => {
    await logIn(viewer.key);
    await page.waitForSelector('#login', { state: 'hidden' });
    await page.waitForFunction(() =>
      /viewer1 \(viewer\)/.test(document.querySelector('#who')?.textContent ?? ''),
    );
    await page.waitForSelector(`#jobs-table tr[data-id="${jobId}"]`);
    const cookies = await browser.context.cookies(g.url);
    const session = cookies.find((c) => c.name === 'gaffer_session');
    assert.ok(session?.httpOnly, 'the session cookie is HttpOnly');
    await page.goto(`${g.url}/#/jobs/${jobId}`);
    await page.waitForSelector('#job-payload-text');
    assert.equal(await page.isVisible('#job-cancel'), false, 'a viewer sees no cancel');
    assert.equal(await page.isVisible('#job-retry'), false, 'a viewer sees no retry');
    await page.goto(`${g.url}/#/dead-letters`);
    await page.waitForSelector('#dlq tbody tr');
    assert.equal(await page.isVisible('#dlq-replay-all'), false);
  });

  test('logging out asks for a key again; an operator sees the operate buttons', async () => {
    await page.click('#logout');
    await page.waitForSelector('#login:not([hidden])');
    await logIn(operator.key);
    await page.waitForSelector('#login', { state: 'hidden' });
    await page.goto(`${g.url}/#/jobs/${jobId}`);
    await page.waitForSelector('#job-payload-text');
    assert.equal(await page.isVisible('#job-cancel'), true);
    await page.click('#job-cancel');
    await page.waitForFunction(
      () => document.querySelector('#job-state')?.textContent === 'cancelled',
    );
  });

  test("every view runs under gaffer's Content-Security-Policy: the browser reports no violation", async () => {
    const views = ['#/', '#/jobs', '#/batches', '#/dead-letters', '#/scaling', '#/config'];
    for (const view of views) {
      await page.goto(`${g.url}/${view}`);
      await page.waitForSelector('#view > *');
    }
    // The overview's charts (uPlot) style their elements from script.
    await page.goto(`${g.url}/#/`);
    // Idle types' charts are drawn once their folded row is opened.
    await page.waitForFunction(
      () => !/Loading/.test(document.querySelector('#queues')!.textContent!),
    );
    const idle = page.locator('#idle-types:not([hidden]) summary');
    if ((await idle.count()) > 0) await idle.click();
    await page.waitForSelector('#view .uplot canvas');
    assert.deepEqual(browser.cspViolations, []);
  });
});

describe('retry failed rows with a type-scoped key', () => {
  test('retries only the jobs of types the caller may act on, and counts the others', async () => {
    const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
    const res = await g.app.inject({
      method: 'POST',
      url: '/v1/jobs/batch',
      headers: bearer(operator.key),
      payload: {
        jobs: [
          { type: 'row', payload: { n: '1', fail: 'yes' } },
          { type: 'fail', payload: { n: 2 } },
        ],
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    const { batchId } = res.json() as { batchId: string };
    await until(g, async () => {
      const { jobs } = await g.orch.store.list({ batchId, state: 'failed', limit: 10 });
      return jobs.length === 2;
    });
    const viewerTry = await g.app.inject({
      method: 'POST',
      url: `/v1/batches/${batchId}/retry-failed`,
      headers: bearer(viewer.key),
    });
    assert.equal(viewerTry.statusCode, 403, 'a viewer may not retry');
    const r = await g.app.inject({
      method: 'POST',
      url: `/v1/batches/${batchId}/retry-failed`,
      headers: bearer(rowOperator.key),
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), { retried: 1, replayed: 0, forbidden: 1, skipped: [] });
  });
});
