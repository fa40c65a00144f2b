// The browser platform's small persistent cache (autotune winners): kept in IndexedDB, so it
// outlives the page in windows and in the web page's training worker (which has no
// localStorage); where neither store exists (Node here) it still serves the session from memory.
import { afterAll, describe, expect, it } from 'vitest';
import { forgetCacheMemory, loadCacheText, saveCacheText } from '../src/gpu/platform-browser.ts';
import type { CacheReply, CacheRequest } from './platform-cache.worker.ts';

const hasIndexedDB = typeof indexedDB !== 'undefined';
const unique = (what: string): string => `test-${what}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`;
const written: string[] = [];

/** The raw store, read without the module under test: where the value really went. */
function rawIdb<T>(op: (s: IDBObjectStore) => IDBRequest<T>, mode: IDBTransactionMode = 'readonly'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const open = indexedDB.open('shadertrain');
    open.onupgradeneeded = () => open.transaction?.abort(); // not there: do not create it here
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const d = open.result;
      try {
        const req = op(d.transaction('cache', mode).objectStore('cache'));
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      } finally {
        d.close(); // takes effect once the transaction is done
      }
    };
  });
}

/** A fresh worker (a fresh copy of the module, as after a page load) asked to save or load. */
async function inWorker(req: CacheRequest): Promise<CacheReply> {
  const w = new Worker(new URL('./platform-cache.worker.ts', import.meta.url), { type: 'module' });
  try {
    return await new Promise<CacheReply>((resolve, reject) => {
      w.onmessage = (ev: MessageEvent<CacheReply>) => resolve(ev.data);
      w.onerror = (ev) => reject(new Error(`worker failed: ${ev.message}`));
      w.postMessage(req);
    });
  } finally {
    w.terminate();
  }
}

// Node has neither IndexedDB nor localStorage (and its own platform module persists to files).
describe.runIf(!hasIndexedDB)('the browser cache without any storage', () => {
  it('serves the session from memory and never throws', async () => {
    const name = unique('memory');
    expect(await loadCacheText(name)).toBeNull();
    await saveCacheText(name, 'kept in memory');
    expect(await loadCacheText(name)).toBe('kept in memory');
    forgetCacheMemory();
    expect(await loadCacheText(name)).toBeNull(); // nowhere to persist it
  });
});

describe.runIf(hasIndexedDB)('the browser cache in IndexedDB', () => {
  afterAll(async () => {
    for (const name of written) await rawIdb((s) => s.delete(name), 'readwrite').catch(() => undefined);
  });

  it('reads a saved value back from IndexedDB once memory is gone', async () => {
    const name = unique('page');
    written.push(name);
    expect(await loadCacheText(name)).toBeNull();
    await saveCacheText(name, '{"a":1}');
    await saveCacheText(name, '{"a":2}'); // overwrites
    expect(await rawIdb((s) => s.get(name))).toBe('{"a":2}');
    expect(localStorage.getItem(`shadertrain:${name}`)).toBeNull(); // not the fallback
    forgetCacheMemory();
    expect(await loadCacheText(name)).toBe('{"a":2}');
  });

  it('keeps what a worker saved for the page and for the next worker', async () => {
    const name = unique('worker');
    written.push(name);
    const saved = await inWorker({ op: 'save', name, text: 'tuned in a worker' });
    expect(saved).toEqual({ text: 'tuned in a worker', hasLocalStorage: false });
    forgetCacheMemory();
    expect(await loadCacheText(name)).toBe('tuned in a worker');
    // A new worker starts with empty memory: only IndexedDB can answer.
    expect(await inWorker({ op: 'load', name })).toEqual({ text: 'tuned in a worker', hasLocalStorage: false });
    // And the other way round.
    await saveCacheText(name, 'tuned in the page');
    expect((await inWorker({ op: 'load', name })).text).toBe('tuned in the page');
  });
});
