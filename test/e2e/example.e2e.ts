// examples/index.html in headless Chromium: the page imports 'shadertrain' through its import map
// (dist/browser.js, the package's browser build) and trains the same MLP as examples/node.mjs.
// Files are served from the repository by Playwright's routing: no server.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import type { Browser } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch } from './support.ts';

// localhost is a secure context (WebGPU needs one); Playwright answers before any network.
const ORIGIN = 'http://localhost:8123';
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.csv': 'text/csv' };
let browser: Browser;

beforeAll(async () => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'lib-browser']);
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

describe('examples/ in a page', () => {
  it('trains the MLP on moons.csv with the browser build: test accuracy >= 0.9', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route(`${ORIGIN}/**`, (route) => {
      const path = normalize(new URL(route.request().url()).pathname).slice(1);
      if (!path.startsWith('examples/') && path !== 'dist/browser.js') return route.fulfill({ status: 404 });
      return route.fulfill({ body: readFileSync(join('.', path)), contentType: TYPES[extname(path)] ?? 'application/octet-stream' });
    });
    await page.goto(`${ORIGIN}/examples/index.html`);
    await page.waitForFunction(() => document.body.dataset.accuracy !== undefined || document.body.dataset.error !== undefined, null, { timeout: 120_000 });
    const log = await page.textContent('#log');
    expect(errors, log ?? '').toEqual([]);
    expect(log).toMatch(/^step 300: weighted loss /m);
    expect(Number(await page.evaluate(() => document.body.dataset.accuracy))).toBeGreaterThanOrEqual(0.9);
    await page.close();
  });
});
