// Browser end-to-end tests of the Herald JS client against a real herald
// serve, in the system Chromium. Run by e2e/browser_test.go, which builds the
// binary and the client bundle and sets HERALD_BIN, HERALD_CLIENT_BUNDLE and
// CHROMIUM.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Herald, launch, mint, until, waitState } from './harness.mjs';

let herald;
before(async () => {
  herald = await Herald.create();
});
after(async () => {
  await herald?.stop();
});

describe('browser client', () => {
  it('shows a published notification as a toast and in the list within one second; p50 publish-to-toast', async () => {
    const b = await launch(herald);
    try {
      const page = await b.open('toast-user');
      await waitState(page, 'open');
      const t0 = Date.now();
      const id = await herald.publish('toast-user', 'Hello from the test');
      await page.locator(`.toast[data-id="${id}"]`).waitFor({ timeout: 1000 });
      await page.locator(`#list li[data-id="${id}"]`).waitFor({ timeout: 1000 - Math.min(999, Date.now() - t0) });
      assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
      assert.equal(await page.locator('#unread').textContent(), '1');

      // Latency: 50 notifications one after another, publish (before the
      // request) to toast (the page's clock, the same machine's).
      const lat = [];
      for (let i = 0; i < 50; i++) {
        const start = Date.now();
        const nid = await herald.publish('toast-user', `n${i}`);
        const at = await page.waitForFunction((x) => window.__herald.toasts.find((t) => t.id === x)?.at, nid, { timeout: 1000 });
        lat.push((await at.jsonValue()) - start);
      }
      lat.sort((a, b) => a - b);
      const p = (q) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))];
      const line = `publish-to-toast over 50 notifications: p50 ${p(0.5)} ms, p90 ${p(0.9)} ms, max ${lat.at(-1)} ms`;
      console.log(line);
      if (process.env.HERALD_E2E_FIGURES) writeFileSync(process.env.HERALD_E2E_FIGURES, line + '\n');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  it('three tabs share one server connection; mark read in one updates the others', async () => {
    const b = await launch(herald);
    try {
      const tabs = [];
      for (let i = 0; i < 3; i++) tabs.push(await b.open('tabs-user'));
      for (const t of tabs) await waitState(t, 'open');
      const leaders = await Promise.all(tabs.map((t) => t.locator('#leader').textContent()));
      assert.deepEqual(leaders.filter((x) => x === 'yes').length, 1, `leaders: ${leaders}`);
      const stats = await herald.stats('tabs-user');
      assert.equal(stats.userConnections, 1, JSON.stringify(stats));

      const id = await herald.publish('tabs-user', 'To all tabs');
      for (const t of tabs) await t.locator(`.toast[data-id="${id}"]`).waitFor({ timeout: 2000 });
      for (const t of tabs) await t.locator(`#list li[data-id="${id}"][data-read="false"]`).waitFor({ timeout: 2000 });

      // Mark read in the last tab (a follower or the leader, whichever).
      await tabs[2].locator(`#list li[data-id="${id}"] .mark-read`).click();
      for (const t of tabs) {
        await t.locator(`#list li[data-id="${id}"][data-read="true"]`).waitFor({ timeout: 2000 });
        await t.waitForFunction(() => document.getElementById('unread').textContent === '0', null, { timeout: 2000 });
      }

      // The leader tab closes: another takes over, still one connection, nothing lost.
      const leader = tabs[leaders.indexOf('yes')];
      const rest = tabs.filter((t) => t !== leader);
      await leader.close();
      const id2 = await herald.publish('tabs-user', 'After the leader left');
      for (const t of rest) await t.locator(`.toast[data-id="${id2}"]`).waitFor({ timeout: 5000 });
      await until(async () => (await herald.stats('tabs-user')).userConnections === 1, 5000, 'one connection after handover');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  it('catches up with everything published while the server was down and restarting', async () => {
    const b = await launch(herald);
    try {
      const page = await b.open('restart-user');
      await waitState(page, 'open');
      const first = await herald.publish('restart-user', 'before the crash');
      await page.locator(`.toast[data-id="${first}"]`).waitFor({ timeout: 2000 });

      await herald.kill();
      await page.waitForFunction(() => document.getElementById('state').textContent !== 'open', null, { timeout: 10000 });
      // Hold the page's reconnection back until the publishes are in, so
      // that they can only reach it through the resume.
      let released;
      const gate = new Promise((r) => (released = r));
      await b.context.route('**/api/notifications/sse?*', async (route) => {
        await gate;
        await route.fallback();
      });
      await herald.start();
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push(await herald.publish('restart-user', `while away ${i}`));
      released();
      for (const id of ids) await page.locator(`.toast[data-id="${id}"]`).waitFor({ timeout: 15000 });
      await waitState(page, 'open');
      const order = await page.evaluate(() => window.__herald.toasts.map((t) => t.id));
      assert.deepEqual(order, [first, ...ids], 'every event once, in order');
      assert.deepEqual(b.errors, []);
    } finally {
      await b.context.unroute('**/api/notifications/sse?*').catch(() => {});
      await b.close();
    }
  });

  it('survives token expiry without a reload', async () => {
    let minted = 0;
    const tokens = (user, forceRefresh) => {
      minted++;
      // The first token is already expired (the 401 path); then 8 s tokens,
      // so that the stream is ended by the server at their expiry.
      if (minted === 1 && !forceRefresh) return mint(user, -60);
      return mint(user, 8);
    };
    const b = await launch(herald, tokens);
    try {
      const page = await b.open('expiry-user');
      await waitState(page, 'open', 15000);
      const loadedAt = await page.evaluate(() => window.__herald.loadedAt);
      // Past the expiry of the token that opened the stream (+5 s grace).
      await new Promise((r) => setTimeout(r, 15000));
      const id = await herald.publish('expiry-user', 'after expiry');
      await page.locator(`.toast[data-id="${id}"]`).waitFor({ timeout: 10000 });
      assert.equal(await page.evaluate(() => window.__herald.loadedAt), loadedAt, 'no reload');
      assert.ok(minted >= 3, `tokens minted: ${minted}`);
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });
});
