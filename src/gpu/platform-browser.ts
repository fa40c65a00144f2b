// Browser (page or worker): WebGPU through navigator.gpu.
import { NoWebGPUError, type AdapterRequest, type PlatformAdapter } from './platform.ts';

export const platformName = 'browser';

export async function requestPlatformAdapter(req: AdapterRequest): Promise<PlatformAdapter> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    throw new NoWebGPUError(
      'This browser does not provide WebGPU. Use Chrome or Edge 113+ (on Linux start it with ' +
        '--enable-unsafe-webgpu), Safari 26+, or Firefox 141+ on Windows; the page must be served over https or localhost.',
    );
  }
  if (req.backend || req.adapterName) {
    // Browsers choose the backend themselves; say so rather than ignore it silently.
    console.warn('shadertrain: adapter/backend selection is not available in a browser; using the default adapter');
  }
  const adapter = await gpu.requestAdapter({ powerPreference: req.powerPreference });
  if (!adapter) {
    throw new NoWebGPUError(
      'navigator.gpu returned no adapter: WebGPU is present but disabled or blocklisted for this GPU ' +
        '(check chrome://gpu, or start Chromium with --enable-unsafe-webgpu).',
    );
  }
  return { adapter, note: '' };
}


/** Resolves like `p`: a browser's WebGPU waits in its own process, so there is nothing to spare. */
export function settle<T>(p: Promise<T>): Promise<T> {
  return p;
}

// ---- small persistent caches: IndexedDB (pages and workers alike; a worker has no localStorage),
// else localStorage, else memory. A lost cache only costs a re-measurement, so nothing throws.

const memory = new Map<string, string>();
let db: Promise<IDBDatabase | null> | null = null;

function openDb(): Promise<IDBDatabase | null> {
  return (db ??= new Promise<IDBDatabase | null>((resolve) => {
    try {
      const req = indexedDB.open('shadertrain', 1);
      req.onupgradeneeded = () => req.result.createObjectStore('cache');
      req.onsuccess = () => {
        req.result.onversionchange = () => req.result.close(); // never block a newer page's upgrade
        resolve(req.result);
      };
      req.onerror = () => resolve(null);
    } catch {
      resolve(null); // no indexedDB here, or an opaque origin
    }
  }));
}

/** One request in its own transaction, settled once committed; null when IndexedDB fails. */
async function idb<T>(mode: IDBTransactionMode, op: (store: IDBObjectStore) => IDBRequest<T>): Promise<T | null> {
  const d = await openDb();
  if (!d) return null;
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = d.transaction('cache', mode);
      const req = op(tx.objectStore('cache'));
      tx.oncomplete = () => resolve(req.result);
      tx.onabort = () => reject(tx.error); // request errors and quota end here too
    });
  } catch {
    db = null; // closed under us (version change, data cleared): reopen next time
    return null;
  }
}

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // access can throw when storage is disabled
  }
}

export async function loadCacheText(name: string): Promise<string | null> {
  const stored = memory.get(name) ?? (await idb<unknown>('readonly', (s) => s.get(name)));
  const text = typeof stored === 'string' ? stored : (storage()?.getItem(`shadertrain:${name}`) ?? null);
  if (text !== null) memory.set(name, text);
  return text;
}

export async function saveCacheText(name: string, text: string): Promise<void> {
  memory.set(name, text);
  if ((await idb('readwrite', (s) => s.put(text, name))) !== null) return; // put yields the key
  try {
    storage()?.setItem(`shadertrain:${name}`, text);
  } catch {
    // Quota exceeded: the in-memory copy still serves this session.
  }
}

/** Drops the in-memory copies, so the next load reads storage (tests). */
export function forgetCacheMemory(): void {
  memory.clear();
}
