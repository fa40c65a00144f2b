// The bench's JSON (CLI --json and the page's download) read back by the CLI's report.
import { describe, expect, it } from 'vitest';
import { formatTable, type BenchResult } from '../bench/harness.ts';
import { benchJson, benchJsonText, parseBenchJson } from '../bench/report.ts';
import type { AdapterReport } from '../src/gpu/adapter-report.ts';

const adapter: AdapterReport = { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader', software: true, platform: 'node', timestamps: false, limits: { maxBufferSize: 1024 } };
const rows: BenchResult[] = [
  { case: 'c', impl: 'base', median_ms: 2, ok: true, speedup: 1 },
  { case: 'c', impl: 'fast', median_ms: 1, ok: true, speedup: 2 },
  { case: 'c', impl: 'broken', median_ms: NaN, ok: false, speedup: null, error: 'differs at 3' },
];

describe('bench JSON', () => {
  it('round-trips through text, failed timings included, and prints the same table', () => {
    const text = benchJsonText(benchJson(adapter, rows, { c: 'fast' }));
    const back = parseBenchJson(text, 'b.json');
    expect(back.adapter).toEqual(adapter);
    expect(back.picked).toEqual({ c: 'fast' });
    expect(formatTable(back.results)).toBe(formatTable(rows));
    expect(JSON.parse(text).results[2].median_ms).toBeNull();
  });

  it('writes no picks key when nothing was tuned, as the CLI has always written it', () => {
    expect(Object.keys(benchJson(adapter, rows))).toEqual(['adapter', 'results']);
    expect(Object.keys(benchJson(adapter, rows, {}))).toEqual(['adapter', 'results']);
  });

  it('names the file and what is wrong', () => {
    expect(() => parseBenchJson('{', 'x.json')).toThrow(/^x\.json is not JSON/);
    expect(() => parseBenchJson('{"results": []}', 'x.json')).toThrow(/^x\.json has no "adapter" object/);
    expect(() => parseBenchJson(JSON.stringify({ adapter, results: [{ case: 'c', impl: 'i', ok: 'yes', median_ms: 1, speedup: null }] }), 'x.json')).toThrow(/^x\.json: result 1 has no boolean "ok"/);
    expect(() => parseBenchJson(JSON.stringify({ adapter, results: [{ case: 'c', impl: 'i', ok: true, median_ms: '1', speedup: null }] }), 'x.json')).toThrow(/result 1 has a "median_ms" that is not a number/);
  });
});
