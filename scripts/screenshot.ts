// Screenshots of every dashboard view for docs/dashboard.md, with Debian's Chromium (never a
// browser a tool downloads):
//
//   npx node scripts/screenshot.ts            # starts a private gaffer, gives it work, shoots
//   npx node scripts/screenshot.ts URL [--job ID] [--batch ID] [OUT.png]
//                                             # against a running gaffer (ids for those pages;
//                                             # OUT.png: also the overview there, as before)
//
// PNGs go to docs/screenshots/ (OUT_DIR to change): overview, jobs, job, batches, batch,
// dead-letters, scaling, schedules, config, login, and (private gaffer only) the waiting jobs:
// jobs-delayed (the jobs list filtered to delayed), job-delayed, job-rate-limit, job-key-limit and
// job-paused (a job page saying why it waits). The private gaffer runs the dashboard tests' job
// types (test/dashboard/setup.ts) and two flow-controlled ones with a realistic mix: a CSV batch
// draining on busy workers with failed and rejected rows, a job logging as it runs, dead letters,
// scaling decisions, cron schedules (one firing every 10 s, one paused, one declared over the API),
// a paused type with waiting jobs, a rate-limited type with a backlog, a key-limited type with one
// tenant at its limit, and delayed jobs (one submitted with a delay, CSV rows with their own
// `gaffer.delay`).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../test/helpers/browser.ts';
import { until, multipart, type TestGaffer } from '../test/helpers/gaffer.ts';
import { DASHBOARD_TYPES, startDashboardGaffer } from '../test/dashboard/setup.ts';

/** The config's schedules: one firing every 10 s, one declared paused. */
const SCHEDULES = {
  'invoice-sweep': { cron: '*/10 * * * * *', submit: { type: 'ok', payload: { sweep: true } } },
  'nightly-report': {
    cron: '30 2 * * *',
    timezone: 'Europe/Berlin',
    submit: { type: 'sleep', payload: { ms: 200 } },
    paused: true,
  },
};

const H = 'test/dashboard/fixtures/handlers.ts';

/** Flow-controlled types: their jobs wait for the rate window, or for their tenant's turn. */
const FLOW_TYPES = {
  /** 3 starts per minute: a backlog of 12 drains 3 at a time, the rest wait (`rate_limit`). */
  'send-email': {
    worker: { handler: `${H}#ok` },
    rateLimit: { starts: 3, perSeconds: 60 },
    scaling: { max: 1 },
  },
  /** One job per tenant at a time; each runs until stopped, so a tenant's next one waits. */
  'tenant-sync': {
    worker: { handler: `${H}#sleep` },
    keyLimit: { key: 'payload.tenant', running: 1 },
    scaling: { max: 3 },
  },
};

const OUT = path.resolve(process.env['OUT_DIR'] ?? 'docs/screenshots');
mkdirSync(OUT, { recursive: true });

const args = parseArgs({
  allowPositionals: true,
  options: { job: { type: 'string' }, batch: { type: 'string' } },
});
let [url] = args.positionals;
const legacyOut = args.positionals[1];
let { job: jobId, batch: batchId } = args.values;
let g: (TestGaffer & { url: string }) | null = null;
/** A waiting job per reason, for its own job page (private gaffer only). */
let waiting: Waiting | null = null;
if (!url) {
  g = await startDashboardGaffer({
    schedules: SCHEDULES,
    jobTypes: { ...DASHBOARD_TYPES, ...FLOW_TYPES },
  });
  url = g.url;
  ({ jobId, batchId } = await giveWork(g));
  waiting = await holdSome(g);
}

const browser = await launchBrowser({ viewport: { width: 1400, height: 900 } });
try {
  const page = await browser.page();
  const shoot = async (name: string, hash: string, ready: string) => {
    await page.goto(`${url}/#/${hash}`);
    await page.waitForSelector(ready);
    // Let the live updates of the first second land, so the picture is what a reader would see.
    await page.waitForLoadState('networkidle').catch(() => {});
    await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });
    console.log(`${name}.png`);
  };
  await shoot('overview', '', '.chart-row figure.chart canvas');
  if (legacyOut) await page.screenshot({ path: legacyOut, fullPage: false });
  await shoot('jobs', 'jobs', '#jobs-table tbody tr[data-id]');
  if (jobId) await shoot('job', `jobs/${encodeURIComponent(jobId)}`, '#job-payload-text');
  await shoot('batches', 'batches', '#batches-table tbody tr');
  if (batchId) await shoot('batch', `batches/${encodeURIComponent(batchId)}`, '#batch-status');
  await shoot('dead-letters', 'dead-letters', '#dlq tbody tr');
  await shoot('scaling', 'scaling', '#decision-list li');
  await shoot('schedules', 'schedules', '#schedules tbody tr[data-name]');
  await shoot('config', 'config', '#config-text:not(:empty)');
  if (waiting) {
    await shoot('jobs-delayed', 'jobs?state=delayed', '#jobs-table tbody tr[data-delayed]');
    for (const [name, id] of Object.entries(waiting)) {
      await shoot(`job-${name}`, `jobs/${encodeURIComponent(id)}`, '#job-why');
    }
  }
  await loginShot(page);
} finally {
  await browser.close();
  await g?.close();
}

/** The login form as a viewer meets it (shown by the page itself, over the overview). */
async function loginShot(page: Page) {
  await page.goto(`${url}/#/`);
  await page.waitForSelector('#queues > *');
  await page.evaluate(() => document.querySelector('#login')?.removeAttribute('hidden'));
  await page.screenshot({ path: path.join(OUT, 'login.png') });
  console.log('login.png');
}

interface Waiting {
  delayed: string;
  'rate-limit': string;
  'key-limit': string;
  paused: string;
}

/**
 * Jobs that wait, one for each reason: delayed (a due time ahead), `rate_limit` (the type's window
 * is full), `key_limit` (its tenant is at its limit while another tenant's job runs) and `paused`.
 * Returns the job each picture shows, once gaffer says it waits for that reason.
 */
async function holdSome(g: TestGaffer & { url: string }): Promise<Waiting> {
  const s = g.orch.service;
  const delayed = await s.submit({ type: 'ok', payload: { invoice: 'due-later' }, delay: '15m' });
  await s.submit({ type: 'ok', payload: { invoice: 'month-end' }, runAt: nextMonthStart() });
  const rows = ['n,gaffer.delay', '1,5m', '2,10m', '3,2h'];
  await g.app.inject({
    method: 'POST',
    url: '/v1/batches?type=row',
    ...multipart('reminders.csv', rows.join('\n') + '\n'),
  });
  const emails = [];
  for (let i = 1; i <= 12; i++) {
    emails.push(
      (await s.submit({ type: 'send-email', payload: { to: `user${i}@example.com` } })).job,
    );
  }
  await s.submit({ type: 'tenant-sync', payload: { tenant: 'acme', table: 'orders' } });
  await s.submit({ type: 'tenant-sync', payload: { tenant: 'globex', table: 'orders' } });
  const keyed = await s.submit({
    type: 'tenant-sync',
    payload: { tenant: 'acme', table: 'invoices' },
  });
  await s.submit({ type: 'tenant-sync', payload: { tenant: 'acme', table: 'refunds' } });
  for (const region of ['us-east', 'ap-south']) {
    await s.submit({ type: 'held', payload: { region } });
  }
  const reasonOf = async (id: string) => {
    const res = await g.app.inject({ url: `/v1/jobs/${encodeURIComponent(id)}` });
    return (res.json() as { job: { waiting?: { reason: string } } }).job.waiting?.reason;
  };
  const held = (await g.orch.store.list({ type: 'held', limit: 1 })).jobs[0]!;
  const rateLimited = emails.at(-1)!;
  await until(g, async () => (await reasonOf(rateLimited.id)) === 'rate_limit');
  await until(g, async () => (await reasonOf(keyed.job.id)) === 'key_limit');
  await until(g, async () => (await reasonOf(held.id)) === 'paused');
  return {
    delayed: delayed.job.id,
    'rate-limit': rateLimited.id,
    'key-limit': keyed.job.id,
    paused: held.id,
  };
}

/** The first of next month, 00:00 UTC: a due time the pictures show as a date. */
function nextMonthStart(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
}

/** Work with a history: finished, failed, dead-lettered, running, and a batch still draining. */
async function giveWork(g: TestGaffer & { url: string }) {
  const s = g.orch.service;
  for (let i = 0; i < 40; i++) await s.submit({ type: 'ok', payload: { invoice: 1000 + i } });
  for (let i = 0; i < 3; i++) await s.submit({ type: 'doomed', payload: { customer: `c${i}` } });
  await s.submit({ type: 'fail', payload: { file: 'broken.pdf' } });
  await s.submit({ type: 'held', payload: { region: 'eu-west' } });
  await s.pause('held');
  await g.orch.services.schedules.put('weekly-cleanup', {
    cron: '0 4 * * SUN',
    submit: { type: 'ok', payload: { cleanup: 'weekly' } },
  });
  // A batch: 2,400 rows of 40 ms on two workers (~50 s), 2% failing, three rejected.
  const rows = ['n,fail,ms'];
  for (let i = 1; i <= 2400; i++) rows.push(`${i},${i % 50 === 0 ? 'yes' : 'no'},40`);
  rows.splice(100, 0, 'abc,no,40', 'x-1,no,40', ',no,40');
  const upload = multipart('invoices-2026-11.csv', rows.join('\n') + '\n');
  const res = await g.app.inject({ method: 'POST', url: '/v1/batches?type=row', ...upload });
  const batchId = (res.json() as { batch: { id: string } }).batch.id;
  const { job } = await s.submit({ type: 'chatty', payload: { lines: 400, everyMs: 150 } });
  // The sampler takes one sample per 5 s: a script (not a test) may simply let 30 s of work pass,
  // so the charts have a shape while the batch is still draining.
  await new Promise((resolve) => setTimeout(resolve, 30_000));
  await until(g, async () => (await g.orch.store.decisions({ limit: 1 })).length > 0);
  return { jobId: job.id, batchId };
}
