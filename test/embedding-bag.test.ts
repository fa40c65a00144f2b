// Embedding bag: the kernel against its float64 reference (and bit for bit against the f32 sums
// in list order), the host CSR helpers, and the graph op's gradients by finite differences.
// Runs in Node and Chromium.
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/graph/autodiff.ts';
import { CompiledStep } from '../src/graph/compile.ts';
import { Graph } from '../src/graph/graph.ts';
import { bagInputs, embeddingBag } from '../src/graph/ops/embedding-bag.ts';
import { mseLoss } from '../src/graph/ops/loss.ts';
import {
  EmbeddingBag,
  bagCsrWords,
  bagSumRef,
  checkBagCsr,
  type EmbeddingBagShape,
  type EmbeddingBagVariant,
} from '../src/kernels/embedding-bag.ts';
import { packBagCsr, transposeBagCsr } from '../src/graph/bags.ts';
import { KernelError } from '../src/kernels/kernel.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { normals } from './support/data.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

/** Each bag holds each table row with probability p, ascending; a few bags are empty. */
function randomLists(rng: Rng, bags: number, tableRows: number, p: number): number[][] {
  return Array.from({ length: bags }, (_, r) => (r % 7 === 3 ? [] : Array.from({ length: tableRows }, (_, v) => v).filter(() => rng.uniform() < p)));
}

/** The f32 sums the GPU must produce: each list added in order from 0, the bias last. */
function bagSumF32(src: Float32Array, csr: Uint32Array, rows: number, dim: number, bias?: Float32Array): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    for (let d = 0; d < dim; d++) {
      let acc = 0;
      for (let k = csr[r]; k < csr[r + 1]; k++) acc = Math.fround(acc + src[csr[rows + 1 + k] * dim + d]);
      out[r * dim + d] = bias ? Math.fround(acc + bias[d]) : acc;
    }
  }
  return out;
}

async function runBag(shape: EmbeddingBagShape, csr: Uint32Array, src: Float32Array, o: { bias?: Float32Array; variant?: EmbeddingBagVariant } = {}): Promise<Float32Array> {
  const [out] = await t.run(async (scope) => {
    const k = await EmbeddingBag.create(t.gpu, shape, { bias: !!o.bias, variant: o.variant }, scope);
    const buf = scope.create('csr', bagCsrWords(shape.rows, shape.capacity) * 4);
    t.gpu.device.queue.writeBuffer(buf, 0, csr.buffer, csr.byteOffset, csr.byteLength); // the used prefix only
    const out = scope.create('out', shape.rows * shape.dim * 4);
    const d = k.bind({ csr: buf, src: scope.upload('src', src), out, ...(o.bias ? { bias: scope.upload('bias', o.bias) } : {}) });
    return { dispatches: [d], outputs: [[out, shape.rows * shape.dim]] };
  });
  return out;
}

describe('embedding bag kernel', () => {
  for (const variant of ['scalar', 'vec4', 'vec4x8'] as const) {
    it(`${variant}: matches the float64 reference and the f32 list-order sums bit for bit (with bias, empty bags)`, async () => {
      const rng = new Rng(1);
      const [rows, tableRows, dim] = [67, 45, 64];
      const lists = randomLists(rng, rows, tableRows, 0.3);
      const capacity = rows * tableRows;
      const csr = packBagCsr(lists, capacity);
      const table = normals(rng, tableRows * dim);
      const bias = normals(rng, dim);
      const shape = { rows, dim, srcRows: tableRows, capacity };
      const got = await runBag(shape, csr, table, { bias, variant });
      // ~14 terms of unit normals: f32 rounding stays below 1e-5 absolute.
      expectClose(got, bagSumRef(table, csr, rows, dim, bias), { atol: 1e-5, rtol: 1e-6 }, 'bag sum');
      expectSameBits(got, bagSumF32(table, csr, rows, dim, bias), 'bag sum bits');
      const noBias = await runBag(shape, csr, table, { variant });
      expectSameBits(noBias, bagSumF32(table, csr, rows, dim), 'without bias');
    });
  }

  it('scalar handles a dim that is not a multiple of 4 and past 65535 workgroups', async () => {
    const rng = new Rng(2);
    const [rows, tableRows, dim] = [70_001, 5, 67];
    const lists = Array.from({ length: rows }, (_, r) => [r % 5, ...(r % 3 ? [] : [4])].sort((a, b) => a - b));
    const capacity = rows * 2;
    const csr = packBagCsr(lists, capacity);
    const table = normals(rng, tableRows * dim);
    const got = await runBag({ rows, dim, srcRows: tableRows, capacity }, csr, table);
    expectSameBits(got, bagSumF32(table, csr, rows, dim), 'bag sum');
  });

  it('rejects bad shapes and bindings, naming the kernel', async () => {
    await expect(EmbeddingBag.create(t.gpu, { rows: 0, dim: 4, srcRows: 2, capacity: 1 })).rejects.toThrow(/embedding_bag: rows of .* must be an integer >= 1, got 0/);
    await expect(EmbeddingBag.create(t.gpu, { rows: 2, dim: 6, srcRows: 2, capacity: 1 }, { variant: 'vec4' })).rejects.toThrow(/variant vec4 needs dim a multiple of 4, got 6/);
    await expect(EmbeddingBag.create(t.gpu, { rows: 2, dim: 48, srcRows: 2, capacity: 1 }, { variant: 'vec4x8' })).rejects.toThrow(/variant vec4x8 needs dim a multiple of 32, got 48/);
    const scope = t.gpu.buffers.scope();
    try {
      const k = await EmbeddingBag.create(t.gpu, { rows: 4, dim: 4, srcRows: 8, capacity: 16 }, {}, scope);
      expect(() => k.bind({ csr: scope.create('c', 8), src: scope.create('s', 128), out: scope.create('o', 64) })).toThrow(KernelError);
      expect(() => k.bind({ csr: scope.create('c', 84), src: scope.create('s', 128), out: scope.create('o', 64), bias: scope.create('b', 16) })).toThrow(/created without bias/);
    } finally {
      scope.destroy();
    }
  });
});

describe('embedding bag CSR on the host', () => {
  it('transposes: each table row lists its bags in ascending order', () => {
    const rng = new Rng(3);
    const [rows, tableRows] = [31, 17];
    const lists = randomLists(rng, rows, tableRows, 0.4);
    const capacity = 400;
    const csr = packBagCsr(lists, capacity);
    const tr = transposeBagCsr(csr, rows, tableRows, capacity);
    const nnz = csr[rows];
    expect(tr.length).toBe(tableRows + 1 + nnz);
    for (let v = 0; v < tableRows; v++) {
      const want = lists.flatMap((l, r) => (l.includes(v) ? [r] : []));
      expect(Array.from(tr.subarray(tableRows + 1 + tr[v], tableRows + 1 + tr[v + 1])), `row ${v}`).toEqual(want);
    }
    expect(checkBagCsr(tr, { rows: tableRows, dim: 1, srcRows: rows, capacity })).toBe(nnz);
  });

  it('names the first problem of a bad CSR', () => {
    const shape = { rows: 2, dim: 1, srcRows: 3, capacity: 4 };
    expect(() => checkBagCsr(Uint32Array.from([0, 2, 1, 0, 1]), shape)).toThrow(/offsets decrease at row 1: 2 then 1/);
    expect(() => checkBagCsr(Uint32Array.from([0, 1, 2, 0, 3]), shape)).toThrow(/index 3 at slot 1 is out of range for 3 source rows/);
    expect(() => checkBagCsr(Uint32Array.from([0, 3, 5, 0, 1, 2, 0, 1]), shape)).toThrow(/5 entries, more than the 4 slots/);
    expect(() => packBagCsr([[0, 1, 2], [0, 1]], 4)).toThrow(/more than 4 entries/);
  });
});

describe('embedding bag graph op', () => {
  // bags: u32 input [rows, tableRows] of 0/1 flags; the CSR is derived from it on feed.
  function build(rows: number, tableRows: number, dim: number, w: Float32Array, b: Float32Array) {
    const g = new Graph();
    const flags = g.input('flags', [rows * tableRows], 'u32');
    const bags = bagInputs(g, flags, 'x', {
      rows,
      tableRows,
      capacity: rows * tableRows,
      pack: (src, out) => packBagCsr(Array.from({ length: rows }, (_, r) => Array.from({ length: tableRows }, (_, v) => v).filter((v) => src[r * tableRows + v] === 1)), rows * tableRows, out),
    });
    const W = g.param('W', [tableRows, dim], w);
    const B = g.param('b', [dim], b);
    const y = g.input('y', [rows * dim], 'f32');
    const out = g.keep(embeddingBag(g, W, bags, B));
    const loss = mseLoss(g, out, y);
    const grads = gradients(g, [loss], [W, B]);
    for (const d of grads.values()) g.keep(d);
    return { g, W, B, out, grads };
  }

  it('forward and gradients match float64, the weight gradient by finite differences too', async () => {
    const rng = new Rng(4);
    const [rows, tableRows, dim] = [9, 11, 8];
    const w = normals(rng, tableRows * dim);
    const b = normals(rng, dim);
    const flags = Uint32Array.from({ length: rows * tableRows }, () => (rng.uniform() < 0.35 ? 1 : 0));
    const y = normals(rng, rows * dim);
    const m = build(rows, tableRows, dim, w, b);
    const step = await CompiledStep.create(t.gpu, m.g);
    try {
      step.feed({ flags, y });
      step.run();
      const lists = Array.from({ length: rows }, (_, r) => Array.from({ length: tableRows }, (_, v) => v).filter((v) => flags[r * tableRows + v] === 1));
      const csr = packBagCsr(lists, rows * tableRows);
      const loss64 = (wv: ArrayLike<number>, bv: ArrayLike<number>): number => {
        const o = bagSumRef(wv, csr, rows, dim, bv);
        let s = 0;
        for (let i = 0; i < o.length; i++) s += (o[i] - y[i]) ** 2;
        return s / o.length;
      };
      const fwd = bagSumRef(w, csr, rows, dim, b);
      expectClose(await step.read(t.ring, m.out), fwd, { atol: 1e-5, rtol: 1e-6 }, 'forward');
      const dOut = Float64Array.from(fwd, (v, i) => (2 * (v - y[i])) / fwd.length);
      const dW = bagSumRef(dOut, transposeBagCsr(csr, rows, tableRows, rows * tableRows), tableRows, dim);
      const gotDW = await step.read(t.ring, m.grads.get(m.W)!);
      expectClose(gotDW, dW, { atol: 1e-6, rtol: 1e-5 }, 'dW');
      const db = new Float64Array(dim);
      dOut.forEach((v, i) => (db[i % dim] += v));
      expectClose(await step.read(t.ring, m.grads.get(m.B)!), db, { atol: 1e-6, rtol: 1e-5 }, 'db');
      // Central differences of the float64 loss (quadratic: exact up to rounding).
      const w64 = Float64Array.from(w);
      const eps = 1e-4;
      for (const i of [0, 5, 17, 40, 87]) {
        const wp = Float64Array.from(w64);
        const wm = Float64Array.from(w64);
        wp[i] += eps;
        wm[i] -= eps;
        const fd = (loss64(wp, b) - loss64(wm, b)) / (2 * eps);
        expect(Math.abs(gotDW[i] - fd), `dW[${i}]: GPU ${gotDW[i]}, finite difference ${fd}`).toBeLessThan(1e-5 + 1e-4 * Math.abs(fd));
      }
    } finally {
      step.destroy();
    }
  });

  it('rejects a batch whose CSR would overflow its capacity before anything is written', async () => {
    const g = new Graph();
    const flags = g.input('flags', [4], 'u32');
    const bags = bagInputs(g, flags, 'x', { rows: 2, tableRows: 2, capacity: 2, pack: (src, out) => packBagCsr([[0, 1].filter((v) => src[v]), [0, 1].filter((v) => src[2 + v])], 4, out) });
    const W = g.param('W', [2, 4], new Float32Array(8));
    g.keep(embeddingBag(g, W, bags));
    const step = await CompiledStep.create(t.gpu, g);
    try {
      expect(() => step.feed({ flags: Uint32Array.from([1, 1, 1, 0]) })).toThrow(/3 entries, more than the 2 slots/);
      step.feed({ flags: Uint32Array.from([0, 1, 1, 0]) });
    } finally {
      step.destroy();
    }
  });
});
