// The engine's matmul is the variant measured fastest here, validated first, and cached.
import { describe, expect, it } from 'vitest';
import { clearAutotuneMemory } from '../src/kernels/autotune.ts';
import { matmulVariantsFor, vec4Fits } from '../src/kernels/matmul.ts';
import { createTunedMatmul, matmulTuneKey, tuneMatmul } from '../src/kernels/matmul-tune.ts';
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

  it('buckets shapes by powers of two, capped', () => {
    expect(matmulTuneKey({ m: 768, n: 512, k: 789 }, {})).toBe('matmul:m256:n256:k256:t00');
    expect(matmulTuneKey({ m: 33, n: 5, k: 1 }, { transA: true })).toBe('matmul:m64:n8:k1:t10');
  });
});
