import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; tests never let a tool download a browser. */
export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  /** A fresh page; pages log their console errors to the test's stderr. */
  page(): Promise<Page>;
  /**
   * Every Content-Security-Policy violation the browser reported on its pages' consoles; `close`
   * fails when there is one.
   */
  cspViolations: string[];
  close(): Promise<void>;
}

/** Launches Chromium on a fresh user-data-dir (one per suite), removed on close. */
export async function launchBrowser(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<TestBrowser> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gaffer-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: options.viewport ?? { width: 1400, height: 1000 },
  });
  context.setDefaultTimeout(30_000);
  const cspViolations: string[] = [];
  return {
    context,
    cspViolations,
    page: async () => {
      const page = await context.newPage();
      page.on('pageerror', (err) => console.error(`[browser] ${err.message}`));
      page.on('console', (msg) => {
        if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
      });
      return page;
    },
    // Fails the suite that ran a page against gaffer's Content-Security-Policy.
    close: async () => {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
      if (cspViolations.length > 0) {
        throw new Error(`Content-Security-Policy violations:\n${cspViolations.join('\n')}`);
      }
    },
  };
}
