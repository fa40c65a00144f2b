// Picks the fastest validated variant of a kernel for the adapter in use, measured once and
// cached per adapter (as Burn's autotune does): a software adapter and a real GPU favour
// different shapes, so no single default is right for both.
import { loadCacheText, saveCacheText } from '#gpu-platform';
import type { Gpu } from '../gpu/context.ts';

const CACHE_FILE = 'autotune-v1.json';

type Table = Record<string, Record<string, string>>;

let table: Table | null = null;

/** Answers kept per tuned key for other kernel sources: two versions compared side by side keep theirs. */
const KEEP_SOURCES = 4;

function parse(text: string | null): Table {
  try {
    return text ? (JSON.parse(text) as Table) : {};
  } catch {
    return {}; // a corrupt cache is only a lost measurement
  }
}

async function load(): Promise<Table> {
  table ??= parse(await loadCacheText(CACHE_FILE));
  return table;
}

/**
 * Adds one answer to the cache file as it is now, not to this process's old copy of it: runs
 * tuning at the same time keep each other's answers. Of the answers for other sources of the
 * same kernels, the newest KEEP_SOURCES - 1 stay.
 */
async function remember(adapter: string, base: string, key: string, variant: string): Promise<void> {
  const t = parse(await loadCacheText(CACHE_FILE));
  const answers = (t[adapter] ??= {});
  delete answers[key]; // re-added last: the order of keys is the order of answers
  const same = Object.keys(answers).filter((k) => k === base || k.startsWith(`${base}|`));
  for (const k of same.slice(0, Math.max(0, same.length - (KEEP_SOURCES - 1)))) delete answers[k];
  answers[key] = variant;
  table = t;
  await saveCacheText(CACHE_FILE, JSON.stringify(t, null, 1));
}

/** Identifies an adapter across runs: same driver, same choices. */
export function adapterKey(gpu: Gpu): string {
  const r = gpu.report;
  return [r.platform, r.vendor, r.architecture, r.device, r.description].join('|');
}

export interface TuneOptions<V extends string> {
  /** What is being tuned, including the shape class, e.g. "matmul:m512:k512:n512:tt". */
  key: string;
  variants: readonly V[];
  /**
   * Times one variant in ms, or returns null when it is not usable here (failed validation,
   * exceeds a limit). Called only when the cache has no answer.
   */
  measure: (variant: V) => Promise<number | null>;
  /** Skip the cache (re-measure and overwrite). */
  refresh?: boolean;
  /** The kernels' WGSL: an answer cached for other code is not used (see KEEP_SOURCES). */
  source?: string;
}

export interface TuneResult<V extends string> {
  variant: V;
  cached: boolean;
  timings: Partial<Record<V, number | null>>;
}

// Measurements run one at a time: overlapping ones would time each other, and a graph lowers
// its nodes concurrently, often several with the same key.
let queue: Promise<unknown> = Promise.resolve();

export function autotune<V extends string>(gpu: Gpu, opts: TuneOptions<V>): Promise<TuneResult<V>> {
  const run = queue.then(() => tune(gpu, opts));
  queue = run.catch(() => undefined);
  return run;
}

async function tune<V extends string>(gpu: Gpu, opts: TuneOptions<V>): Promise<TuneResult<V>> {
  const t = await load();
  const adapter = adapterKey(gpu);
  // The candidates are part of the key: a new variant gets measured, not skipped by an old
  // answer; so is a digest of the source, since a changed kernel can change the winner.
  const base = `${opts.key}|${opts.variants.join(',')}`;
  const key = opts.source === undefined ? base : `${base}|${digest(opts.source)}`;
  const hit = t[adapter]?.[key];
  if (!opts.refresh && hit && (opts.variants as readonly string[]).includes(hit)) {
    return { variant: hit as V, cached: true, timings: {} };
  }
  const timings: Partial<Record<V, number | null>> = {};
  let best: V | null = null;
  for (const v of opts.variants) {
    let ms: number | null;
    try {
      ms = await opts.measure(v);
    } catch {
      ms = null;
    }
    timings[v] = ms;
    if (ms !== null && (best === null || ms < (timings[best] as number))) best = v;
  }
  if (best === null) throw new Error(`autotune ${opts.key}: no variant of ${opts.variants.join(', ')} works on this adapter`);
  await remember(adapter, base, key, best);
  return { variant: best, cached: false, timings };
}

/**
 * A fingerprint of the text: 32-bit FNV-1a over its UTF-16 code units, in hex. A cache key
 * needs no cryptographic hash, and Web Crypto's is missing on pages served without https.
 */
function digest(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Forgets cached choices (tests, or after a driver update). */
export function clearAutotuneMemory(): void {
  table = null;
}
