// The atomic CAS scatter-add (bench baseline) against the float64 reference, in Node and Chromium.
// Its sums are rounded in whatever order threads win their swaps, so results are compared
// within tolerance only, never bit for bit (the engine uses the segmented sum instead).
import { describe, expect, it } from 'vitest';
import { gatherRef, scatterAddRef, type EmbeddingShape } from '../src/kernels/embedding.ts';
import { KernelError, submitDispatches } from '../src/kernels/kernel.ts';
import { ScatterAddAtomic } from '../bench/baselines/scatter-atomic.ts';
import { Rng } from '../src/random.ts';
import { expectClose } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

const normals = (rng: Rng, n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());

/** Zipf-like ids, as in real ratings: a few rows take most of the batch (and most of the contention). */
function skewedIndices(rng: Rng, n: number, rows: number): Uint32Array {
  return Uint32Array.from({ length: n }, () => Math.min(rows - 1, Math.floor(rows * rng.uniform() ** 3)));
}

async function scatter(shape: EmbeddingShape, gradOut: Float32Array, idx: Uint32Array, initial?: Float32Array, wg?: number): Promise<Float32Array> {
  const { gpu, ring } = t;
  const scope = gpu.buffers.scope();
  try {
    const k = await ScatterAddAtomic.create(gpu, shape, { accumulate: initial !== undefined, wg }, scope);
    // Without accumulate the table starts as junk: the kernel must clear it.
    const gradTable = scope.upload('grad', initial ?? new Float32Array(shape.rows * shape.dim).fill(7));
    const d = k.bind({ gradOut: scope.upload('gout', gradOut), indices: scope.upload('idx', idx), gradTable });
    expect(d.length).toBe(initial ? 1 : 2);
    submitDispatches(gpu, d);
    return await ring.readF32(gradTable, shape.rows * shape.dim);
  } finally {
    scope.destroy();
  }
}

// f32 sums of up to ~1000 N(0,1) terms in any order: 1e-5 relative plus 1e-4 absolute, as
// for the segmented sum.
const TOL = { atol: 1e-4, rtol: 1e-5 };

describe('atomic CAS scatter-add', () => {
  it('matches the float64 reference on a skewed batch, n*dim not a multiple of the workgroup', async () => {
    const rng = new Rng(51);
    const shape = { rows: 101, dim: 33, n: 999 };
    const gout = normals(rng, shape.n * shape.dim);
    const idx = skewedIndices(rng, shape.n, shape.rows);
    const want = scatterAddRef(gout, idx, shape.rows, shape.dim);
    expectClose(await scatter(shape, gout, idx), want, TOL, 'run 1');
    // A second run may round differently, but stays as close.
    expectClose(await scatter(shape, gout, idx), want, TOL, 'run 2');
  });

  it('accumulates into an existing gradient and leaves untouched rows alone', async () => {
    const rng = new Rng(52);
    const shape = { rows: 20, dim: 5, n: 9 };
    const gout = normals(rng, shape.n * shape.dim);
    const idx = Uint32Array.from([3, 3, 7, 0, 3, 19, 7, 7, 3]);
    const initial = normals(rng, shape.rows * shape.dim);
    const want = scatterAddRef(gout, idx, shape.rows, shape.dim).map((v, j) => v + initial[j]);
    const got = await scatter(shape, gout, idx, initial);
    expectClose(got, want, { atol: 1e-6, rtol: 1e-6 }, 'accumulate');
    expect(got[shape.dim]).toBe(initial[shape.dim]); // row 1 untouched: the same value
  });

  it('handles one element', async () => {
    const got = await scatter({ rows: 3, dim: 1, n: 1 }, new Float32Array([2]), new Uint32Array([1]));
    expect(Array.from(got)).toEqual([0, 2, 0]);
  });

  it('splits dispatches past 65535 workgroups', async () => {
    const rng = new Rng(53);
    // 75,000 x 4 threads at 4 per workgroup: 75,000 workgroups, cheaply.
    const shape = { rows: 5000, dim: 4, n: 75_000 };
    const gout = normals(rng, shape.n * shape.dim);
    const idx = Uint32Array.from({ length: shape.n }, () => rng.int(shape.rows));
    const got = await scatter(shape, gout, idx, undefined, 4);
    expectClose(got, scatterAddRef(gout, idx, shape.rows, shape.dim), TOL, 'scatter');
  });

  it('is the gradient of sum(w * gather(table)): finite differences of the float64 forward', async () => {
    const rng = new Rng(54);
    const shape = { rows: 6, dim: 3, n: 10 };
    const table = normals(rng, shape.rows * shape.dim);
    const idx = Uint32Array.from({ length: shape.n }, () => rng.int(shape.rows));
    const w = normals(rng, shape.n * shape.dim);
    const loss = (tab: Float64Array): number => gatherRef(tab, idx, shape.dim).reduce((s, v, i) => s + v * w[i], 0);
    const grad = await scatter(shape, w, idx);
    const h = 1e-3;
    for (let j = 0; j < table.length; j++) {
      const plus = Float64Array.from(table);
      const minus = Float64Array.from(table);
      plus[j] += h;
      minus[j] -= h;
      const fd = (loss(plus) - loss(minus)) / (2 * h);
      // float64 central differences of a linear loss: exact to ~1e-12; the GPU sum is f32.
      expect(Math.abs(fd - grad[j]), `d loss / d table[${j}]`).toBeLessThan(1e-5 * (1 + Math.abs(fd)));
    }
  });

  it('rejects bad shapes and buffers before any dispatch, naming the kernel', async () => {
    const { gpu } = t;
    await expect(ScatterAddAtomic.create(gpu, { rows: 5, dim: 2, n: 0 })).rejects.toThrow(/scatter_add_atomic: n must be an integer >= 1, got 0/);
    await expect(ScatterAddAtomic.create(gpu, { rows: 5, dim: 2, n: 3 }, { wg: 0 })).rejects.toThrow(KernelError);
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    await expect(ScatterAddAtomic.create(gpu, { rows: Math.floor(limit / 256) + 1, dim: 64, n: 1 })).rejects.toThrow(/maxStorageBufferBindingSize/);
    const scope = gpu.buffers.scope();
    try {
      const k = await ScatterAddAtomic.create(gpu, { rows: 5, dim: 2, n: 8 }, {}, scope);
      expect(() => k.bind({ gradOut: scope.create('g', 64), indices: scope.create('i', 28), gradTable: scope.create('t', 40) })).toThrow(
        /scatter_add_atomic: indices has 28 bytes but shape \[rows=5, dim=2\] with 8 indices needs 32/,
      );
    } finally {
      scope.destroy();
    }
  });
});
