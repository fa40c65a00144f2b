// Embedding gather and segmented scatter-add against float64 references, in Node and Chromium.
import { describe, expect, it } from 'vitest';
import {
  csrWords,
  embeddingBackward,
  embeddingGather,
  gatherRef,
  scatterAddRef,
  type EmbeddingShape,
} from '../src/kernels/embedding.ts';
import { packSegments } from '../src/graph/segments.ts';
import { KernelError, submitDispatches } from '../src/kernels/kernel.ts';
import { Kernel } from '../src/kernels/spec.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

function randomTable(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** Zipf-like ids, as in real ratings: a few rows take most of the batch. */
function skewedIndices(rng: Rng, n: number, rows: number): Uint32Array {
  return Uint32Array.from({ length: n }, () => Math.min(rows - 1, Math.floor(rows * rng.uniform() ** 3)));
}

async function gather(shape: EmbeddingShape, table: Float32Array, idx: Uint32Array): Promise<Float32Array> {
  const { gpu, ring } = t;
  const scope = gpu.buffers.scope();
  try {
    const k = await Kernel.create(gpu, embeddingGather(gpu, shape), scope);
    const out = scope.create('out', shape.n * shape.dim * 4);
    submitDispatches(gpu, [k.bind({ table: scope.upload('table', table), indices: scope.upload('idx', idx), out })]);
    return await ring.readF32(out, shape.n * shape.dim);
  } finally {
    scope.destroy();
  }
}

async function scatterAdd(shape: EmbeddingShape, gradOut: Float32Array, idx: Uint32Array, initial?: Float32Array): Promise<Float32Array> {
  const { gpu, ring } = t;
  const scope = gpu.buffers.scope();
  try {
    const k = await Kernel.create(gpu, embeddingBackward(gpu, shape, { accumulate: initial !== undefined }), scope);
    const gradTable = initial ? scope.upload('grad', initial) : scope.create('grad', shape.rows * shape.dim * 4);
    const csr = scope.upload('csr', packSegments(idx, shape));
    submitDispatches(gpu, [k.bind({ grad_out: scope.upload('gout', gradOut), csr, grad_table: gradTable })]);
    return await ring.readF32(gradTable, shape.rows * shape.dim);
  } finally {
    scope.destroy();
  }
}

/** The f32 sums the GPU must produce bit for bit: each row's positions added in ascending order. */
function scatterAddF32(gradOut: Float32Array, idx: Uint32Array, rows: number, dim: number, initial?: Float32Array): Float32Array {
  const acc = new Float32Array(rows * dim);
  for (let i = 0; i < idx.length; i++) {
    for (let d = 0; d < dim; d++) acc[idx[i] * dim + d] = Math.fround(acc[idx[i] * dim + d] + gradOut[i * dim + d]);
  }
  if (!initial) return acc;
  return Float32Array.from(initial, (v, j) => Math.fround(v + acc[j]));
}

describe('embedding gather (forward)', () => {
  // A copy: exact, tolerance 0.
  it('matches the reference with repeated indices and n*dim not a multiple of the workgroup', async () => {
    const rng = new Rng(1);
    const shape = { rows: 37, dim: 7, n: 1001 };
    const table = randomTable(rng, shape.rows * shape.dim);
    const idx = skewedIndices(rng, shape.n, shape.rows);
    const out = await gather(shape, table, idx);
    expectClose(out, gatherRef(table, idx, shape.dim), { atol: 0, rtol: 0 }, 'gather');
  });

  it('covers several workgroups of several elements per thread and a ragged tail', async () => {
    const rng = new Rng(4);
    // 107 x 29 = 3,103 outputs: three workgroups of 64 threads x 16 and a ragged 31.
    const shape = { rows: 50, dim: 29, n: 107 };
    const table = randomTable(rng, shape.rows * shape.dim);
    const idx = skewedIndices(rng, shape.n, shape.rows);
    const out = await gather(shape, table, idx);
    expectClose(out, gatherRef(table, idx, shape.dim), { atol: 0, rtol: 0 }, 'gather');
  });

  // Each thread walks its elements' (row, column) with a carry instead of dividing: rows wider
  // than a workgroup (the carry adds a whole row per step) and narrower ones both work.
  it('walks rows wider and narrower than a workgroup', async () => {
    const rng = new Rng(5);
    for (const shape of [{ rows: 30, dim: 100, n: 41 }, { rows: 30, dim: 64, n: 23 }, { rows: 9, dim: 3, n: 1500 }]) {
      const table = randomTable(rng, shape.rows * shape.dim);
      const idx = skewedIndices(rng, shape.n, shape.rows);
      const out = await gather(shape, table, idx);
      expectClose(out, gatherRef(table, idx, shape.dim), { atol: 0, rtol: 0 }, `gather dim ${shape.dim}`);
    }
  });

  it('handles one element', async () => {
    const out = await gather({ rows: 1, dim: 1, n: 1 }, new Float32Array([3.5]), new Uint32Array([0]));
    expect(Array.from(out)).toEqual([3.5]);
  });

  it('splits dispatches past 65535 workgroups', async () => {
    const rng = new Rng(2);
    // 70,000 x 64 threads at 64 per workgroup: 70,000 workgroups.
    const shape = { rows: 50, dim: 64, n: 70_000 };
    const table = randomTable(rng, shape.rows * shape.dim);
    const idx = Uint32Array.from({ length: shape.n }, () => rng.int(shape.rows));
    const out = await gather(shape, table, idx);
    expectClose(out, gatherRef(table, idx, shape.dim), { atol: 0, rtol: 0 }, 'gather');
  });

  it('rejects out-of-range indices and empty batches before dispatch, naming the kernel', async () => {
    const { gpu } = t;
    expect(() => packSegments(new Uint32Array([0, 5]), { rows: 5, dim: 2, n: 2 })).toThrow(
      /embedding_backward: index 5 at position 1 is out of range for a table of 5 rows/,
    );
    expect(() => embeddingGather(gpu, { rows: 5, dim: 2, n: 0 })).toThrow(KernelError);
    const scope = gpu.buffers.scope();
    const k = await Kernel.create(gpu, embeddingGather(gpu, { rows: 5, dim: 2, n: 4 }), scope);
    expect(() => k.bind({ table: scope.create('t', 40), indices: scope.create('i', 16), out: scope.create('o', 16) })).toThrow(
      /embedding_gather: out has 16 bytes but shape \[rows=5, dim=2\] with 4 indices needs 32/,
    );
    scope.destroy();
  });

  it('names the limit when a table exceeds one storage binding', async () => {
    const { gpu } = t;
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    const rows = Math.floor(limit / 4 / 64) + 1;
    await expect(Kernel.create(gpu, embeddingGather(gpu, { rows, dim: 64, n: 1 }))).rejects.toThrow(/embedding_gather: table needs \d+ bytes .*maxStorageBufferBindingSize/);
  });
});

describe('embedding backward (segmented scatter-add)', () => {
  // f32 sums of up to ~1000 terms of N(0,1): 1e-5 relative plus 1e-4 absolute covers rounding.
  const tol = { atol: 1e-4, rtol: 1e-5 };

  it('matches the float64 reference on a skewed batch', async () => {
    const rng = new Rng(3);
    const shape = { rows: 101, dim: 33, n: 999 };
    const gout = randomTable(rng, shape.n * shape.dim);
    const idx = skewedIndices(rng, shape.n, shape.rows);
    const got = await scatterAdd(shape, gout, idx);
    expectClose(got, scatterAddRef(gout, idx, shape.rows, shape.dim), tol, 'scatter-add');
  });

  it('equals the fixed-order f32 sum bit for bit, so every adapter and run agrees', async () => {
    const rng = new Rng(4);
    const shape = { rows: 64, dim: 16, n: 700 };
    const gout = randomTable(rng, shape.n * shape.dim);
    const idx = skewedIndices(rng, shape.n, shape.rows);
    const a = await scatterAdd(shape, gout, idx);
    const b = await scatterAdd(shape, gout, idx);
    expectSameBits(a, b, 'two runs');
    expectSameBits(a, scatterAddF32(gout, idx, shape.rows, shape.dim), 'GPU vs f32 emulation');
  });

  it('accumulates into an existing gradient and leaves untouched rows alone', async () => {
    const rng = new Rng(5);
    const shape = { rows: 20, dim: 5, n: 9 };
    const gout = randomTable(rng, shape.n * shape.dim);
    const idx = Uint32Array.from([3, 3, 7, 0, 3, 19, 7, 7, 3]);
    const initial = randomTable(rng, shape.rows * shape.dim);
    const got = await scatterAdd(shape, gout, idx, initial);
    expectSameBits(got, scatterAddF32(gout, idx, shape.rows, shape.dim, initial), 'accumulate');
  });

  it('handles one element and more rows than the batch touches', async () => {
    const got = await scatterAdd({ rows: 3, dim: 1, n: 1 }, new Float32Array([2]), new Uint32Array([1]));
    expect(Array.from(got)).toEqual([0, 2, 0]);
  });

  it('is the gradient of sum(w * gather(table)): finite differences of the GPU forward', async () => {
    const rng = new Rng(6);
    const shape = { rows: 6, dim: 3, n: 10 };
    const table = randomTable(rng, shape.rows * shape.dim);
    const idx = Uint32Array.from({ length: shape.n }, () => rng.int(shape.rows));
    const w = randomTable(rng, shape.n * shape.dim);
    const loss = async (tab: Float32Array): Promise<number> => {
      const out = await gather(shape, tab, idx);
      return out.reduce((s, v, i) => s + v * w[i], 0);
    };
    const grad = await scatterAdd(shape, w, idx);
    const h = 0.25; // the loss is linear in the table: a large step loses nothing to curvature
    for (const j of [0, 4, 8, 17]) {
      const plus = Float32Array.from(table);
      const minus = Float32Array.from(table);
      plus[j] += h;
      minus[j] -= h;
      const fd = ((await loss(plus)) - (await loss(minus))) / (2 * h);
      expect(Math.abs(fd - grad[j]), `d loss / d table[${j}]`).toBeLessThan(1e-4 * (1 + Math.abs(fd)));
    }
  });

  it('packs the CSR: rows in order, positions in order within a row', () => {
    const shape = { rows: 4, dim: 1, n: 5 };
    const csr = packSegments(new Uint32Array([2, 0, 2, 3, 0]), shape);
    expect(csr.length).toBe(csrWords(shape));
    // nseg | rows (cap 4) | starts (5) | perm (5)
    expect(Array.from(csr)).toEqual([3, 0, 2, 3, 0, 0, 2, 4, 5, 0, 1, 4, 0, 2, 3]);
  });
});
