// The engine's matmul is the variant measured fastest here, validated first, and cached.
import { describe, expect, it } from 'vitest';
import { clearAutotuneMemory } from '../src/kernels/autotune.ts';
import { matmulVariantsFor, vec4Fits } from '../src/kernels/matmul.ts';
import { createTunedMatmul, matmulTuneKey, tuneMatmul, tuneProbe } from '../src/kernels/matmul-tune.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

describe('matmul autotune', () => {
  it('times every validated variant once, then answers from the cache', async () => {
    const shape = { m: 100, n: 60, k: 70 };
    const first = await tuneMatmul(t.gpu, shape, { transB: true }, true);
    expect(first.cached).toBe(false);
    const variants = matmulVariantsFor(t.gpu);
    expect(Object.keys(first.timings).sort()).toEqual([...variants].sort());
    const times = Object.values(first.timings).filter((x): x is number => typeof x === 'number');
    expect(times.length).toBe(variants.length); // every variant agreed with naive
    expect(first.timings[first.variant]).toBe(Math.min(...times));
    console.log(`matmul ${matmulTuneKey(shape, { transB: true })} on ${t.gpu.report.vendor}: ${first.variant} (${JSON.stringify(first.timings)})`);
    clearAutotuneMemory();
    const second = await tuneMatmul(t.gpu, shape, { transB: true });
    expect(second).toMatchObject({ cached: true, variant: first.variant });
    const k = await createTunedMatmul(t.gpu, shape, { transB: true });
    // k = 70 cannot be read as vec4s: there the vec4 variant is reg4x4 itself.
    expect(k.options.variant).toBe(first.variant === 'reg4x4v' && !vec4Fits(shape, { transB: true }) ? 'reg4x4' : first.variant);
  });

  it('buckets shapes by powers of two, the largest halved down to 2^24 multiply-adds', () => {
    expect(matmulTuneKey({ m: 768, n: 512, k: 789 }, {})).toBe('matmul:m256:n256:k256:t00');
    expect(matmulTuneKey({ m: 33, n: 5, k: 1 }, { transA: true })).toBe('matmul:m64:n8:k1:t10');
    expect(matmulTuneKey({ m: 256, n: 96, k: 64 }, { transB: true })).toBe('matmul:m256:n128:k64:t01');
    // Flat products keep their aspect.
    expect(matmulTuneKey({ m: 944, n: 1683, k: 32 }, { transB: true })).toBe('matmul:m512:n1024:k32:t01');
    expect(matmulTuneKey({ m: 5000, n: 64, k: 96 }, {})).toBe('matmul:m2048:n64:k128:t00');
    expect(tuneProbe({ m: 1, n: 1, k: 1e6 })).toEqual({ m: 1, n: 1, k: 2 ** 20 });
  });
});
