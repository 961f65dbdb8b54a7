// Smoke test of the example in a real browser, run by e2e/nextjs_test.go
// (or by hand: `npm run smoke` with the variables below, against a running
// `next start` and herald serve).
//
//   NEXT_URL              the example's origin, e.g. http://127.0.0.1:3000
//   CHROMIUM              a Chromium binary (default /usr/bin/chromium)
//   HERALD_PUBLISHER_KEY  only to check that no browser-visible response holds it
//
// Signs in as a fresh user, sends itself a notification through the server
// action, expects it in the list with an unread count of 1, marks it read and
// expects 0, also after a reload. Prints one JSON line of figures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.NEXT_URL;
if (!base) throw new Error('NEXT_URL is not set');
const key = process.env.HERALD_PUBLISHER_KEY ?? '';
const user = `smoke-${Date.now().toString(36)}`;
const step = 15_000; // bound of every wait

const watchdog = setTimeout(() => {
  console.error('smoke: gave up after 90 s');
  process.exit(2);
}, 90_000);

const profile = mkdtempSync(join(tmpdir(), 'herald-nextjs-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
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
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(step);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const leaks = [];
  page.on('response', async (r) => {
    if (!key || !r.url().startsWith(base)) return;
    const body = await r.text().catch(() => '');
    if (body.includes(key)) leaks.push(r.url());
  });

  await page.goto(base);
  await page.getByLabel('User id').fill(user);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('live').getByText(`Live as ${user}`).waitFor();
  const count = '[data-testid="unread-count"]';
  await expectText(page, count, '0');

  const t0 = Date.now();
  await page.getByRole('button', { name: 'Send me a notification' }).click();
  const item = page.getByTestId('inbox').locator('li', { hasText: `Hello ${user}` });
  await item.waitFor();
  await expectText(page, count, '1');
  const deliveredMs = Date.now() - t0;
  if ((await item.getAttribute('data-read')) !== 'false') throw new Error('new notification is not unread');

  await item.getByRole('button', { name: 'Mark read' }).click();
  await expectText(page, count, '0');
  await page.getByTestId('inbox').locator('li[data-read="true"]', { hasText: `Hello ${user}` }).waitFor();

  await page.reload();
  await page.getByTestId('live').getByText(`Live as ${user}`).waitFor();
  await page.getByTestId('inbox').locator('li[data-read="true"]', { hasText: `Hello ${user}` }).waitFor();
  await expectText(page, count, '0');

  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  if (leaks.length) throw new Error(`publisher key sent to the browser in ${leaks.join(', ')}`);
  console.log(JSON.stringify({ ok: true, user, clickToListAndCountMs: deliveredMs }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  clearTimeout(watchdog);
}

/** expectText waits until the element of selector reads want. */
async function expectText(page, selector, want) {
  try {
    await page.waitForFunction(([sel, w]) => document.querySelector(sel)?.textContent?.trim() === w, [selector, want], {
      timeout: step,
    });
  } catch (e) {
    const got = await page.locator(selector).textContent().catch(() => null);
    throw new Error(`${selector}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}: ${e.message}`);
  }
}
