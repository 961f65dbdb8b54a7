// Test harness: a real `herald serve` child process (restartable on the same
// port and SQLite file), token minting, publishing, admin stats, and a
// Chromium (playwright-core, the system browser) whose pages load the test
// page from Herald's own origin.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const SECRET = 'browser-e2e-secret-at-least-32-bytes-long';
export const KEY = 'browser-e2e-publisher-key-0123';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run through e2e/browser_test.go)`);
  return v;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Herald is a herald serve process that can be killed and started again on the same port and file. */
export class Herald {
  static async create() {
    const dir = mkdtempSync(join(tmpdir(), 'herald-browser-'));
    const h = new Herald(dir, await freePort());
    await h.start();
    return h;
  }

  constructor(dir, port) {
    this.dir = dir;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.proc = null;
  }

  async start() {
    const proc = spawn(env('HERALD_BIN'), ['serve'], {
      env: {
        ...process.env,
        HERALD_ADDR: `127.0.0.1:${this.port}`,
        HERALD_DB: `sqlite://${join(this.dir, 'herald.db')}`,
        HERALD_JWT_SECRET: SECRET,
        HERALD_PUBLISHER_KEY: KEY,
        HERALD_LOG_FORMAT: 'json',
        HERALD_LOG_LEVEL: 'info',
        HERALD_DRAIN_TIMEOUT: '0s',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.on('exit', resolve));
    await new Promise((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error('herald did not start listening')), 20000);
      proc.stderr.on('data', (d) => {
        buf += d;
        if (buf.includes('"herald listening"')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`herald exited with ${code}: ${buf}`));
      });
    });
  }

  /** kill sends SIGKILL (no drain) and waits for the exit. */
  async kill() {
    this.proc.kill('SIGKILL');
    await this.exited;
    this.proc = null;
  }

  async stop() {
    if (this.proc) await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** publish sends one notification and returns its id. */
  async publish(userId, title, extra = {}) {
    const res = await fetch(this.url + '/api/publish/notifications', {
      method: 'POST',
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ userId, type: 'test', title, ...extra }),
    });
    if (res.status !== 202) throw new Error(`publish: ${res.status} ${await res.text()}`);
    return (await res.json()).notifications[0].id;
  }

  /** stats returns the admin stats, with userConnections for userId. */
  async stats(userId) {
    const res = await fetch(`${this.url}/api/admin/stats?userId=${encodeURIComponent(userId)}`, {
      headers: { Authorization: `Bearer ${KEY}` },
    });
    if (!res.ok) throw new Error(`stats: ${res.status}`);
    return res.json();
  }
}

/** mint signs an HS256 subscriber token for sub that expires in ttlSec. */
export function mint(sub, ttlSec) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, iat: now, exp: now + ttlSec, jti: randomBytes(6).toString('hex') })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}

/**
 * launch starts Chromium with a fresh profile. The test page and the client
 * bundle are served by route interception under herald.url + "/__e2e/", so
 * the page shares Herald's origin. tokens(user, forceRefresh) answers the
 * page's token requests (default: one-hour tokens).
 */
export async function launch(herald, tokens = (user) => mint(user, 3600)) {
  const profile = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: env('CHROMIUM'),
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
  const files = {
    'index.html': ['text/html', readFileSync(join(here, 'page/index.html'))],
    'app.js': ['text/javascript', readFileSync(join(here, 'page/app.js'))],
    'herald.min.js': ['text/javascript', readFileSync(env('HERALD_CLIENT_BUNDLE'))],
  };
  await context.route(`${herald.url}/__e2e/**`, (route) => {
    const name = new URL(route.request().url()).pathname.replace('/__e2e/', '') || 'index.html';
    const f = files[name];
    if (!f) return route.fulfill({ status: 404, body: 'not found' });
    return route.fulfill({ status: 200, contentType: f[0], body: f[1] });
  });
  await context.exposeFunction('heraldToken', (user, forceRefresh) => tokens(user, forceRefresh));
  const errors = [];
  const open = async (user) => {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${herald.url}/__e2e/index.html?user=${encodeURIComponent(user)}`);
    return page;
  };
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, open, close, errors };
}

/** waitState waits until the page's connection state is s. */
export function waitState(page, s, timeout = 10000) {
  return page.waitForFunction((want) => document.getElementById('state').textContent === want, s, { timeout });
}

/** until polls cond (async) until it is truthy. */
export async function until(cond, timeout = 10000, what = 'condition') {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
