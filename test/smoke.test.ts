// The smoke model (test/support/smoke-model.ts) trains on the GPU, identically on two runs with the same seed.
import { describe, expect, it } from 'vitest';
import { SMOKE_DEFAULTS, trainSmoke } from './support/smoke-model.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

describe('smoke training', () => {
  it('drives the loss down by orders of magnitude, with the same bits on a second run', async () => {
    const opts = { ...SMOKE_DEFAULTS, steps: 200 };
    const a = await trainSmoke(t.gpu, opts, () => undefined);
    const b = await trainSmoke(t.gpu, opts, () => undefined);
    expect(a[a.length - 1].loss).toBeLessThan(a[0].loss / 100);
    expect(b).toEqual(a);
  });
});
