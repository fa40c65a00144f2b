// The bench's results as JSON (`npm run bench -- SUITE --json FILE`, and the page's bench view's
// download) and back: one shape written and read in one place, so a file from either loads in
// `npm run bench -- report FILE`, which prints it with the CLI's table.
import type { AdapterReport } from '../src/gpu/adapter-report.ts';
import type { BenchResult } from './harness.ts';

export interface BenchJson {
  adapter: AdapterReport;
  results: BenchResult[];
  /** case → the variant the autotuner picked on this adapter, for the cases it tunes (the page's view only). */
  picked?: Record<string, string>;
}

export function benchJson(adapter: AdapterReport, results: readonly BenchResult[], picked?: Record<string, string>): BenchJson {
  return {
    adapter,
    results: results.map((r) => ({ case: r.case, impl: r.impl, median_ms: r.median_ms, ok: r.ok, speedup: r.speedup, ...(r.error ? { error: r.error } : {}) })),
    ...(picked && Object.keys(picked).length ? { picked } : {}),
  };
}

/** JSON text: NaN (a variant that failed) is written as null, as JSON.stringify writes it. */
export function benchJsonText(json: BenchJson): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a bench JSON file back; throws one sentence naming the file and the first thing wrong. */
export function parseBenchJson(text: string, file: string): BenchJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not JSON (${(err as Error).message}); give a file written by the bench's --json or the page's bench view.`);
  }
  if (!isObject(raw) || !isObject(raw.adapter) || !Array.isArray(raw.results)) {
    throw new Error(`${file} has no "adapter" object and "results" list; give a file written by the bench's --json or the page's bench view.`);
  }
  const results = raw.results.map((r: unknown, i): BenchResult => {
    const bad = (what: string): Error => new Error(`${file}: result ${i + 1} ${what}; give a file written by the bench's --json or the page's bench view.`);
    if (!isObject(r)) throw bad('is not an object');
    if (typeof r.case !== 'string' || typeof r.impl !== 'string') throw bad('has no "case" and "impl" text');
    if (typeof r.ok !== 'boolean') throw bad('has no boolean "ok"');
    if (r.median_ms !== null && typeof r.median_ms !== 'number') throw bad('has a "median_ms" that is not a number');
    if (r.speedup !== null && typeof r.speedup !== 'number') throw bad('has a "speedup" that is not a number or null');
    return {
      case: r.case,
      impl: r.impl,
      median_ms: typeof r.median_ms === 'number' ? r.median_ms : NaN,
      ok: r.ok,
      speedup: typeof r.speedup === 'number' ? r.speedup : null,
      ...(typeof r.error === 'string' ? { error: r.error } : {}),
    };
  });
  const picked = isObject(raw.picked) ? Object.fromEntries(Object.entries(raw.picked).filter((e): e is [string, string] => typeof e[1] === 'string')) : undefined;
  return { adapter: raw.adapter as unknown as AdapterReport, results, ...(picked ? { picked } : {}) };
}
