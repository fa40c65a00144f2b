// The autotuner: measures once per adapter and key, skips unusable variants, remembers the winner.
import { describe, expect, it } from 'vitest';
import { loadCacheText, saveCacheText } from '#gpu-platform';
import { autotune, clearAutotuneMemory } from '../src/kernels/autotune.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

describe('autotune', () => {
  it('picks the fastest usable variant and caches it per adapter', async () => {
    const key = `test:${Date.now()}:${Math.random()}`;
    const calls: string[] = [];
    const times: Record<string, number | null> = { a: 3, b: 1, c: null };
    const measure = async (v: 'a' | 'b' | 'c'): Promise<number | null> => {
      calls.push(v);
      if (v === 'c') throw new Error('does not compile here');
      return times[v];
    };
    const first = await autotune(t.gpu, { key, variants: ['a', 'b', 'c'], measure });
    expect(first).toMatchObject({ variant: 'b', cached: false });
    expect(first.timings).toEqual({ a: 3, b: 1, c: null });
    clearAutotuneMemory(); // read back from the persistent cache, not from memory
    const second = await autotune(t.gpu, { key, variants: ['a', 'b', 'c'], measure });
    expect(second).toMatchObject({ variant: 'b', cached: true });
    expect(calls).toEqual(['a', 'b', 'c']);
    times.a = 0.5;
    const third = await autotune(t.gpu, { key, variants: ['a', 'b', 'c'], measure, refresh: true });
    expect(third.variant).toBe('a');
  });

  it('measures again when the kernels\' source changes, and keeps the answers of the last four sources', async () => {
    const key = `test-src:${Date.now()}:${Math.random()}`;
    const calls: string[] = [];
    const times: Record<string, number> = { a: 1, b: 2 };
    const measure = async (v: 'a' | 'b'): Promise<number> => {
      calls.push(v);
      return times[v];
    };
    const tune = (source: string) => autotune(t.gpu, { key, variants: ['a', 'b'], measure, source });
    expect(await tune('fn v1() {}')).toMatchObject({ variant: 'a', cached: false });
    clearAutotuneMemory();
    expect(await tune('fn v1() {}')).toMatchObject({ variant: 'a', cached: true });
    times.a = 5; // the new kernel is slower
    expect(await tune('fn v2() {}')).toMatchObject({ variant: 'b', cached: false });
    clearAutotuneMemory();
    // Two versions compared side by side keep their own answers: going back to v1 measures nothing.
    expect(await tune('fn v1() {}')).toMatchObject({ variant: 'a', cached: true });
    expect(await tune('fn v2() {}')).toMatchObject({ variant: 'b', cached: true });
    expect(calls).toEqual(['a', 'b', 'a', 'b']);
    // v2 was used last, then three newer sources: v1, the oldest, is forgotten; v2 is kept.
    for (const v of ['v3', 'v4', 'v5']) await tune(`fn ${v}() {}`);
    clearAutotuneMemory();
    expect(await tune('fn v2() {}')).toMatchObject({ cached: true });
    expect(await tune('fn v1() {}')).toMatchObject({ cached: false });
  });

  it('keeps the answers another run saved while this one was tuning', async () => {
    const stamp = `${Date.now()}:${Math.random()}`;
    const measure = async (v: 'a' | 'b'): Promise<number> => (v === 'a' ? 1 : 2);
    await autotune(t.gpu, { key: `mine-1:${stamp}`, variants: ['a', 'b'], measure });
    // Another process adds its answer to the file; this one still holds its earlier copy.
    const file = JSON.parse((await loadCacheText('autotune-v1.json')) ?? '{}') as Record<string, Record<string, string>>;
    const adapter = Object.keys(file).find((k) => file[k][`mine-1:${stamp}|a,b`]) as string;
    file[adapter][`theirs:${stamp}|a,b`] = 'b';
    await saveCacheText('autotune-v1.json', JSON.stringify(file));
    await autotune(t.gpu, { key: `mine-2:${stamp}`, variants: ['a', 'b'], measure });
    clearAutotuneMemory();
    expect(await autotune(t.gpu, { key: `theirs:${stamp}`, variants: ['a', 'b'], measure })).toMatchObject({ variant: 'b', cached: true });
    expect(await autotune(t.gpu, { key: `mine-1:${stamp}`, variants: ['a', 'b'], measure })).toMatchObject({ variant: 'a', cached: true });
  });

  it('fails clearly when no variant works', async () => {
    await expect(autotune(t.gpu, { key: `none:${Math.random()}`, variants: ['x'], measure: async () => null })).rejects.toThrow(
      /no variant of x works on this adapter/,
    );
  });
});
