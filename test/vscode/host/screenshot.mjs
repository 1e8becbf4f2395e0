#!/usr/bin/env node
// Looks at a running workbench the way a person would: opens URL in headless Chromium, waits for
// the workbench, optionally opens the Virt Studio view container, and saves a screenshot.
// Requests to hosts other than loopback are aborted.
//
//   node test/vscode/host/screenshot.mjs URL OUT.png [--view] [--settle SEC]
//     --view     click the Virt Studio icon in the activity bar first
//     --settle   seconds to wait after the workbench appears (default 6)
// Prints what the status bar and the editor's language indicator show.
import { chromium } from 'playwright-core';

const [url, out] = process.argv.slice(2);
if (!url || !out) {
  process.stderr.write('usage: screenshot.mjs URL OUT.png [--view] [--settle SEC]\n');
  process.exit(2);
}
const settleIndex = process.argv.indexOf('--settle');
const settle = settleIndex > 0 ? Number(process.argv[settleIndex + 1]) : 6;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 860 } });
  await context.route('**/*', (route) => {
    const { hostname, protocol } = new URL(route.request().url());
    if (['127.0.0.1', 'localhost', '[::1]'].includes(hostname) || protocol === 'data:' || protocol === 'blob:') return route.continue();
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.waitForTimeout(settle * 1000);
  if (process.argv.includes('--view')) {
    await page.locator('.activitybar [aria-label^="Virt Studio"]').first().click({ timeout: 10_000 });
    await page.waitForTimeout(1500);
  }
  await page.screenshot({ path: out });
  const language = await page.locator('.statusbar [aria-label*="Select Language Mode"], #status\\.editor\\.mode').first().innerText().catch(() => '(none)');
  const tabs = await page.locator('.tabs-container .tab .label-name').allInnerTexts().catch(() => []);
  const sidebar = await page.locator('.sidebar .title-label').first().innerText().catch(() => '(none)');
  console.log(JSON.stringify({ out, language, tabs, sidebar }));
} finally {
  await browser.close();
}
