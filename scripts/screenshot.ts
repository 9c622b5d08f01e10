// Screenshots of the dashboard for the docs: `node scripts/screenshot.ts URL OUT.png`, against a
// running gaffer, with Debian's Chromium (never a browser a tool downloads).
import { chromium } from 'playwright-core';

const [url = 'http://127.0.0.1:8080/', out = 'docs/screenshots/dashboard.png'] =
  process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(url);
  // Wait for the first render of the queues and the jobs table, then for live data to settle.
  await page.waitForSelector('text=csv-row');
  await page.waitForTimeout(1500);
  await page.screenshot({ path: out, fullPage: true });
} finally {
  await browser.close();
}
