// The autotuner's winners outlive the page: the training worker (no localStorage there) keeps
// them in IndexedDB, and after a reload its fresh copy of the engine takes them from there
// instead of measuring every variant again.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launch, openPage, startServer, waitForState, writeSmallRatings, type Server } from './support.ts';

let server: Server;
let browser: Browser;
const ratingsPath = join(mkdtempSync(join(tmpdir(), 'shadertrain-e2e-')), 'u.data');

beforeAll(async () => {
  writeSmallRatings(ratingsPath);
  server = await startServer();
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** The stored autotune table as text (read in the page: the worker's origin, so the same database). */
function storedTable(page: Page, put?: string): Promise<string | null> {
  return page.evaluate(
    (put) =>
      new Promise<string | null>((resolve, reject) => {
        const open = indexedDB.open('shadertrain');
        open.onupgradeneeded = () => open.transaction?.abort(); // nothing stored: say so, create nothing
        open.onerror = () => resolve(null);
        open.onsuccess = () => {
          const tx = open.result.transaction('cache', put === undefined ? 'readonly' : 'readwrite');
          const store = tx.objectStore('cache');
          if (put !== undefined) store.put(put, 'autotune-v1.json');
          const req = store.get('autotune-v1.json');
          tx.oncomplete = () => resolve(typeof req.result === 'string' ? req.result : null);
          tx.onabort = () => reject(new Error(String(tx.error)));
        };
      }),
    put,
  );
}

/** One small recommender run; ms from Start until training began (model setup, tuning included). */
async function trainOnce(page: Page, run: number): Promise<number> {
  await page.setInputFiles('#ratings-file', ratingsPath);
  await page.waitForFunction(() => /ratings, user ids/.test(document.getElementById('ratings-status')?.textContent ?? ''));
  await page.fill('#recommender-epochs', '1');
  await page.fill('#recommender-batchSize', '64');
  const t0 = Date.now();
  await page.click('#start');
  await waitForState(page, run, ['running', 'done', 'failed']);
  const setupMs = Date.now() - t0;
  expect(await waitForState(page, run, ['done', 'failed'])).toBe('done');
  return setupMs;
}

describe('the autotune cache in the web page', () => {
  test('a reloaded page trains with the winners its worker stored, measuring nothing again', async () => {
    const { page, errors } = await openPage(browser, server.url);
    expect(await storedTable(page)).toBeNull(); // a fresh browser profile
    const coldMs = await trainOnce(page, 1);
    const text = await storedTable(page);
    expect(text).not.toBeNull();
    const table = JSON.parse(text as string) as Record<string, Record<string, string>>;
    const adapters = Object.keys(table);
    expect(adapters).toHaveLength(1);
    expect(adapters[0]).toMatch(/swiftshader/i);
    expect(Object.keys(table[adapters[0]]).length).toBeGreaterThan(0);
    // A marker the worker cannot know of, in a spelling the autotuner does not write: a worker that
    // did not read the table, or measured anything again, would overwrite it.
    const planted = JSON.stringify({ ...table, 'e2e-marker': {} });
    expect(planted).not.toBe(text);
    await storedTable(page, planted);

    await page.reload();
    await page.waitForFunction(() => /^Adapter/.test(document.getElementById('adapter')?.textContent ?? ''), null, { timeout: 30_000 });
    const warmMs = await trainOnce(page, 1);
    expect(await storedTable(page)).toBe(planted);
    expect(errors).toEqual([]);
    console.log(`autotune cache: ${Object.keys(table[adapters[0]]).length} winners stored; Start to training ${coldMs} ms on a fresh profile, ${warmMs} ms after a reload`);
    await page.context().close();
  });
});
