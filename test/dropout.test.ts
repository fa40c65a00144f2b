// Seeded inverted dropout: the GPU's mask equals the CPU reference's bit for bit (an integer
// hash), keeps about 1 - rate of the elements, and differs across steps, seeds and streams.
import { describe, expect, it } from 'vitest';
import { Dropout, dropoutRef, pcg4dRef } from '../src/kernels/dropout.ts';
import { Rng } from '../src/random.ts';
import { expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

async function drop(x: Float32Array, rate: number, seed: number, step: number, stream: number): Promise<Float32Array> {
  const [out] = await t.run(async (scope) => {
    const k = await Dropout.create(t.gpu, { n: x.length }, { rate, stream }, scope);
    const o = scope.create('out', x.length * 4);
    return { dispatches: [k.bind({ seed: scope.upload('seed', Uint32Array.from([seed, step])), x: scope.upload('x', x), out: o })], outputs: [[o, x.length]] };
  });
  return out;
}

describe('dropout', () => {
  it('draws the reference mask bit for bit and scales kept elements by 1 / (1 - rate)', async () => {
    const rng = new Rng(3);
    const x = Float32Array.from({ length: 1001 }, () => rng.normal());
    for (const [rate, seed, step, stream] of [[0.3, 0, 0, 0], [0.5, 12345, 987, 2], [0.1, 2 ** 32 - 1, 2 ** 31, 7]]) {
      expectSameBits(await drop(x, rate, seed, step, stream), dropoutRef(x, rate, seed, step, stream), `rate ${rate}, seed ${seed}, step ${step}, stream ${stream}`);
    }
  });

  it('keeps about 1 - rate of the elements, and another step, seed or stream draws another mask', async () => {
    const n = 100_000;
    const ones = new Float32Array(n).fill(1);
    const base = await drop(ones, 0.25, 5, 10, 0);
    const kept = base.filter((v) => v !== 0).length;
    // Binomial(n, 0.75): sd 137; 5 sd.
    expect(Math.abs(kept - 0.75 * n)).toBeLessThan(5 * Math.sqrt(n * 0.75 * 0.25));
    expect(base.every((v) => v === 0 || v === Math.fround(1 / 0.75))).toBe(true);
    for (const [seed, step, stream] of [[5, 11, 0], [6, 10, 0], [5, 10, 1]]) {
      const other = await drop(ones, 0.25, seed, step, stream);
      const agree = other.reduce((s, v, i) => s + ((v !== 0) === (base[i] !== 0) ? 1 : 0), 0);
      // Independent masks agree on 0.75² + 0.25² = 62.5% of the elements.
      expect(Math.abs(agree / n - 0.625), `seed ${seed}, step ${step}, stream ${stream}`).toBeLessThan(0.01);
    }
  });

  it('keeps its hash: pinned values, so a change to the reference and the kernel together cannot pass unseen (saved masks and runs would change)', () => {
    expect(pcg4dRef(1, 2, 3, 4)).toEqual([908250390, 4044648920, 3775961919, 45698095]);
    expect(pcg4dRef(1, 2, 3, 4)).not.toEqual(pcg4dRef(1, 2, 3, 5));
  });

  it('rejects rates outside (0, 1) and streams that are not u32', async () => {
    await expect(Dropout.create(t.gpu, { n: 4 }, { rate: 0, stream: 0 })).rejects.toThrow(/dropout: rate must be in \(0, 1\), got 0; skip dropout at rate 0/);
    await expect(Dropout.create(t.gpu, { n: 4 }, { rate: 1, stream: 0 })).rejects.toThrow(/rate must be in \(0, 1\)/);
    await expect(Dropout.create(t.gpu, { n: 4 }, { rate: 0.5, stream: -1 })).rejects.toThrow(/stream must be a u32/);
  });
});
