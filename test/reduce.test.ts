// Row ops, whole-tensor and per-column reductions and their backward broadcasts against
// float64 references, in Node and Chromium. Sums are also checked bit for bit against f32
// emulations of the GPU's fixed order: that is what makes them device-independent.
import { describe, expect, it } from 'vitest';
import { submitDispatches } from '../src/kernels/kernel.ts';
import {
  ColumnReduce,
  ColumnReduceBackward,
  RowDot,
  RowDotBackward,
  RowReduce,
  RowReduceBackward,
  Sum,
  SumBackward,
  colSumBackwardRef,
  colSumF32,
  colSumRef,
  defaultRowsPerGroup,
  rowDotBackwardRef,
  rowDotRef,
  rowSumBackwardRef,
  rowSumRef,
  sumBackwardRef,
  sumRef,
  treeDepth,
  treeShape,
  treeSumF32,
  type SumOptions,
} from '../src/kernels/reduce.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { f32, normals, U } from './support/data.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

const run = t.run;

async function rowDot(a: Float32Array, b: Float32Array, rows: number): Promise<Float32Array> {
  const [out] = await run(async (scope) => {
    const k = await RowDot.create(t.gpu, { rows, cols: a.length / rows }, {}, scope);
    const out = scope.create('out', rows * 4);
    return { dispatches: [k.bind({ a: scope.upload('a', a), b: scope.upload('b', b), out })], outputs: [[out, rows]] };
  });
  return out;
}

/** Sum or mean of x into a 4-element metrics buffer starting as `dst`, `times` times. */
async function sum(x: Float32Array, opts: SumOptions, dst = new Float32Array(4), times = 1): Promise<Float32Array> {
  const [out] = await run(async (scope) => {
    const k = await Sum.create(t.gpu, { n: x.length }, opts, scope);
    const out = scope.upload('dst', dst);
    const d = k.bind({ x: scope.upload('x', x), dst: out });
    return { dispatches: Array.from({ length: times }, () => d).flat(), outputs: [[out, 4]] };
  });
  return out;
}

describe('row dot product', () => {
  // Recursive f32 summation of cols rounded products: |error| <= cols * 2^-24 * 1.01 * sum_c |a b|.
  it('matches the reference for the factorization score (256 x 32) and odd shapes', async () => {
    const rng = new Rng(21);
    for (const [rows, cols] of [
      [256, 32],
      [1001, 7],
      [1, 1],
    ]) {
      const [a, b] = [normals(rng, rows * cols), normals(rng, rows * cols)];
      const bound = new Float64Array(rows);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) bound[r] += cols * U * 1.01 * Math.abs(a[r * cols + c] * b[r * cols + c]);
      const got = await rowDot(a, b, rows);
      expectClose(got, rowDotRef(a, b, rows, cols), bound, `row dot ${rows}x${cols}`);
      expectSameBits(got, await rowDot(a, b, rows), 'two runs');
    }
  });

  it('the reference backward is the gradient of sum(w * rowdot(a, b)): central differences of the float64 forward', () => {
    const rng = new Rng(22);
    const [rows, cols] = [3, 4];
    const [a, b, w] = [normals(rng, 12), normals(rng, 12), normals(rng, rows)];
    const loss = (x: ArrayLike<number>, y: ArrayLike<number>): number => rowDotRef(x, y, rows, cols).reduce((s, v, i) => s + v * w[i], 0);
    const { gradA, gradB } = rowDotBackwardRef(w, a, b, rows, cols);
    const h = 1e-4; // bilinear: no truncation error, float64 rounding ~1e-12 / h
    for (let j = 0; j < rows * cols; j++) {
      const [ap, am, bp, bm] = [a, a, b, b].map((v) => Float64Array.from(v));
      ap[j] += h;
      am[j] -= h;
      bp[j] += h;
      bm[j] -= h;
      expect(Math.abs((loss(ap, b) - loss(am, b)) / (2 * h) - gradA[j]), `d/da[${j}]`).toBeLessThan(1e-8);
      expect(Math.abs((loss(a, bp) - loss(a, bm)) / (2 * h) - gradB[j]), `d/db[${j}]`).toBeLessThan(1e-8);
    }
  });

  it('the GPU backward matches the reference, for both inputs or one, overwriting or accumulating', async () => {
    const rng = new Rng(23);
    const [rows, cols] = [130, 32];
    const [g, a, b] = [normals(rng, rows), normals(rng, rows * cols), normals(rng, rows * cols)];
    const prior = normals(rng, rows * cols);
    const ref = rowDotBackwardRef(g, a, b, rows, cols);
    const [ga, gb, onlyB] = await run(async (scope) => {
      const both = await RowDotBackward.create(t.gpu, { rows, cols }, {}, scope);
      const justB = await RowDotBackward.create(t.gpu, { rows, cols }, { accumulate: [false, true] }, scope);
      const bufs = { grad: scope.upload('g', g), a: scope.upload('a', a), b: scope.upload('b', b) };
      const [gradA, gradB, accB] = [scope.create('ga', rows * cols * 4), scope.create('gb', rows * cols * 4), scope.upload('acc', prior)];
      const ds = [...both.bind({ ...bufs, gradA, gradB }), ...justB.bind({ ...bufs, gradA: null, gradB: accB })];
      expect(ds.length).toBe(3);
      return { dispatches: ds, outputs: [[gradA, rows * cols], [gradB, rows * cols], [accB, rows * cols]] };
    });
    // One multiply: 2^-24 relative.
    expectClose(ga, ref.gradA, { atol: 0, rtol: U }, 'gradA');
    expectClose(gb, ref.gradB, { atol: 0, rtol: U }, 'gradB');
    // Plus an add: |error| <= 2^-23 (|prior| + |g a|).
    const accRef = ref.gradB.map((v, i) => v + prior[i]);
    expectClose(onlyB, accRef, f32(rows * cols, (i) => 2 * U * (Math.abs(prior[i]) + Math.abs(ref.gradB[i]))), 'gradB +=');
  });
});

describe('row sums and means', () => {
  it('match the reference, and their backward broadcasts the gradient', async () => {
    const rng = new Rng(24);
    const [rows, cols] = [333, 9];
    const x = normals(rng, rows * cols);
    const g = normals(rng, rows);
    const [s, m, ds, dm] = await run(async (scope) => {
      const xb = scope.upload('x', x);
      const gb = scope.upload('g', g);
      const sumK = await RowReduce.create(t.gpu, { rows, cols }, {}, scope);
      const meanK = await RowReduce.create(t.gpu, { rows, cols }, { mean: true }, scope);
      const sumB = await RowReduceBackward.create(t.gpu, { rows, cols }, {}, scope);
      const meanB = await RowReduceBackward.create(t.gpu, { rows, cols }, { mean: true }, scope);
      const outs = [rows, rows, rows * cols, rows * cols].map((n, i) => scope.create(`o${i}`, n * 4));
      const ds = [
        sumK.bind({ x: xb, out: outs[0] }),
        meanK.bind({ x: xb, out: outs[1] }),
        sumB.bind({ grad: gb, gradX: outs[2] }),
        meanB.bind({ grad: gb, gradX: outs[3] }),
      ];
      return { dispatches: ds, outputs: outs.map((o, i): [GPUBuffer, number] => [o, i < 2 ? rows : rows * cols]) };
    });
    // Recursive summation of 9 terms: |error| <= 9 * 2^-24 * 1.01 * sum |x|; the mean adds two roundings (f32(1/9), the product).
    const absRows = rowSumRef(f32(x.length, (i) => Math.abs(x[i])), rows, cols);
    expectClose(s, rowSumRef(x, rows, cols), f32(rows, (r) => cols * U * 1.01 * absRows[r]), 'row sum');
    expectClose(m, rowSumRef(x, rows, cols, true), f32(rows, (r) => ((cols + 2) * U * 1.01 * absRows[r]) / cols), 'row mean');
    // Broadcast: a copy (exact) and g * f32(1/cols) (two roundings: 2^-23 relative).
    expectClose(ds, rowSumBackwardRef(g, rows, cols), { atol: 0, rtol: 0 }, 'row sum backward');
    expectClose(dm, rowSumBackwardRef(g, rows, cols, true), { atol: 0, rtol: 2 * U }, 'row mean backward');
  });

  it("the row mean's reference backward is its gradient: central differences of the float64 forward", () => {
    const rng = new Rng(25);
    const [rows, cols] = [4, 5];
    const x = normals(rng, rows * cols);
    const w = normals(rng, rows);
    const loss = (v: ArrayLike<number>): number => rowSumRef(v, rows, cols, true).reduce((s, m, r) => s + m * w[r], 0);
    const grad = rowSumBackwardRef(w, rows, cols, true);
    const h = 0.5; // linear: any step is exact up to float64 rounding
    for (let j = 0; j < rows * cols; j++) {
      const [p, m] = [Float64Array.from(x), Float64Array.from(x)];
      p[j] += h;
      m[j] -= h;
      expect(Math.abs((loss(p) - loss(m)) / (2 * h) - grad[j]), `d/dx[${j}]`).toBeLessThan(1e-12);
    }
  });
});

describe('whole-tensor sum and mean', () => {
  it('sums ~5M elements within the tree bound of float64, bit for bit as the f32 emulation, the same on two runs', async () => {
    const rng = new Rng(26);
    const n = 5_000_011;
    const x = f32(n, () => 2 * rng.uniform() - 0.5);
    let abs = 0;
    for (let i = 0; i < n; i++) abs += Math.abs(x[i]);
    const exact = sumRef(x);
    const { gpu, ring } = t;
    const scope = gpu.buffers.scope();
    try {
      const xb = scope.upload('x', x);
      // The default shape (64 lanes x 611 elements, 128 workgroups) and a wide one (256 x 16, 1221 workgroups).
      for (const opts of [{}, { workgroup: 256, perThread: 16 }]) {
        const shape = treeShape(n, opts);
        const k = await Sum.create(gpu, { n }, opts, scope);
        const dst = scope.create('dst', 16);
        const ds = k.bind({ x: xb, dst });
        submitDispatches(gpu, ds);
        const first = await ring.readF32(dst, 1);
        submitDispatches(gpu, ds);
        const second = await ring.readF32(dst, 1);
        // Each element passes through at most depth additions (its lane's loop, the tree, the partials'
        // lane loop, the tree again), so |error| <= depth * 2^-24 * 1.01 * sum |x|: under 4e-5 relative here.
        const what = `sum of ${n} by ${shape.workgroup} x ${shape.perThread}`;
        expect(Math.abs(first[0] - exact), `${what} vs float64 ${exact}`).toBeLessThanOrEqual(treeDepth(n, shape) * U * 1.01 * abs);
        expectSameBits(first, second, `${what}, two runs`);
        expectSameBits(first, Float32Array.of(treeSumF32(x, shape)), `${what}, GPU vs f32 emulation`);
      }
    } finally {
      scope.destroy();
    }
  });

  it('handles 1 element, one partial workgroup, and sizes one past a chunk', async () => {
    const rng = new Rng(27);
    expect((await sum(Float32Array.of(-2.75), {}))[0]).toBe(-2.75);
    expect((await sum(Float32Array.of(-2.75), { mean: true }))[0]).toBe(-2.75);
    // One workgroup, one full chunk, one past it; 65 partials (two lanes of the second pass get two).
    for (const [n, opts] of [
      [63, {}],
      [1024, {}],
      [1025, {}],
      [65 * 64 * 16, {}],
      [1000, { workgroup: 4, perThread: 3 }],
    ] as const) {
      const x = normals(rng, n);
      const shape = treeShape(n, opts);
      const got = await sum(x, { mean: true, ...opts });
      expectSameBits(got.subarray(0, 1), Float32Array.of(treeSumF32(x, shape, 1 / n)), `mean of ${n}`);
      // As above, plus two roundings for the mean's scale.
      const absMean = sumRef(f32(n, (i) => Math.abs(x[i])), true);
      expect(Math.abs(got[0] - sumRef(x, true)), `mean of ${n}`).toBeLessThanOrEqual((treeDepth(n, shape) + 2) * U * 1.01 * absMean);
    }
  });

  it('writes at an offset of a metrics buffer and accumulates over steps, leaving the other slots alone', async () => {
    const rng = new Rng(28);
    const x = normals(rng, 5000);
    const prior = Float32Array.of(1, 2, 3, 4);
    const got = await sum(x, { mean: true, dstOffset: 2, accumulate: true }, prior, 3);
    let v = prior[2];
    for (let step = 0; step < 3; step++) v = treeSumF32(x, treeShape(5000), 1 / 5000, v);
    expectSameBits(got, Float32Array.of(1, 2, v, 4), 'metrics buffer');
  });

  it('the serial baseline agrees with float64 (n * 2^-24 * sum |x|)', async () => {
    const rng = new Rng(29);
    const x = normals(rng, 3001);
    const got = await sum(x, { strategy: 'serial', dstOffset: 1 });
    const abs = sumRef(f32(x.length, (i) => Math.abs(x[i])));
    expect(got[0]).toBe(0);
    expect(Math.abs(got[1] - sumRef(x))).toBeLessThanOrEqual(x.length * U * 1.01 * abs);
  });

  it('its backward broadcasts the scalar gradient read at an offset', async () => {
    const n = 1000;
    const g = Float32Array.of(9, 9, 9, -1.5);
    const prior = normals(new Rng(30), n);
    const [s, m] = await run(async (scope) => {
      const gb = scope.upload('g', g);
      const sb = await SumBackward.create(t.gpu, { n }, { gradOffset: 3 }, scope);
      const mb = await SumBackward.create(t.gpu, { n }, { gradOffset: 3, mean: true, accumulate: true }, scope);
      const [o1, o2] = [scope.create('s', n * 4), scope.upload('m', prior)];
      return { dispatches: [sb.bind({ grad: gb, gradX: o1 }), mb.bind({ grad: gb, gradX: o2 })], outputs: [[o1, n], [o2, n]] };
    });
    expectClose(s, sumBackwardRef(-1.5, n), { atol: 0, rtol: 0 }, 'sum backward');
    // g * f32(1/n) (two roundings) plus an add into N(0,1): |error| <= 2^-23 * (|prior| + |g / n|) <= 2^-23 * 5.
    const ref = sumBackwardRef(-1.5, n, true).map((v, i) => v + prior[i]);
    expectClose(m, ref, { atol: 5 * 2 * U, rtol: 0 }, 'mean backward +=');
    // A linear loss: d(sum x)/dx = 1 exactly, so the broadcast of g is the gradient of g * sum(x).
    const x = normals(new Rng(31), 5);
    const [plus, minus] = [Float64Array.from(x), Float64Array.from(x)];
    plus[2] += 0.5;
    minus[2] -= 0.5;
    const fd = (-1.5 * (sumRef(plus) - sumRef(minus))) / 1;
    expect(Math.abs(fd - sumBackwardRef(-1.5, 5)[2])).toBeLessThan(1e-12);
  });

  it('rejects empty tensors, bad options and short buffers before dispatch, naming the kernel', async () => {
    const { gpu } = t;
    await expect(Sum.create(gpu, { n: 0 })).rejects.toThrow(/reduce_sum: n must be an integer >= 1, got 0/);
    await expect(Sum.create(gpu, { n: 10 }, { mean: true, workgroup: 48 })).rejects.toThrow(/reduce_mean: workgroup must be a power of two/);
    await expect(Sum.create(gpu, { n: 10 }, { dstOffset: -1 })).rejects.toThrow(/reduce_sum: dstOffset must be an integer >= 0, got -1/);
    await expect(SumBackward.create(gpu, { n: 0 })).rejects.toThrow(/sum_backward: n must be an integer >= 1/);
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    await expect(Sum.create(gpu, { n: Math.floor(limit / 4) + 1 })).rejects.toThrow(/reduce_sum: .*maxStorageBufferBindingSize/);
    const scope = gpu.buffers.scope();
    try {
      const k = await Sum.create(gpu, { n: 8 }, { dstOffset: 4 }, scope);
      expect(() => k.bind({ x: scope.create('x', 32), dst: scope.create('d', 16) })).toThrow(/reduce_sum: tree_out has 16 bytes but shape \[8\] into element 4 needs 20/);
      const b = await SumBackward.create(gpu, { n: 8 }, { gradOffset: 4 }, scope);
      expect(() => b.bind({ grad: scope.create('g', 16), gradX: scope.create('x', 32) })).toThrow(/sum_backward: bc_grad has 16 bytes/);
      const both = scope.create('xd', 32);
      expect(() => k.bind({ x: both, dst: both })).toThrow(/reduce_sum: dst and x are the same buffer/);
    } finally {
      scope.destroy();
    }
  });
});

describe('per-column sum and mean', () => {
  async function columns(x: Float32Array, rows: number, cols: number, opts: { mean?: boolean; rowsPerGroup?: number; prior?: Float32Array }): Promise<Float32Array> {
    const [out] = await run(async (scope) => {
      const k = await ColumnReduce.create(t.gpu, { rows, cols }, { mean: opts.mean, rowsPerGroup: opts.rowsPerGroup, accumulate: !!opts.prior }, scope);
      const out = opts.prior ? scope.upload('out', opts.prior) : scope.create('out', cols * 4);
      return { dispatches: k.bind({ x: scope.upload('x', x), out }), outputs: [[out, cols]] };
    });
    return out;
  }

  it('matches the reference within the two-level bound, bit for bit as the f32 emulation', async () => {
    const rng = new Rng(32);
    for (const [rows, cols, mean] of [
      [1000, 33, false],
      [1000, 33, true],
      [5, 3, false],
      [1, 7, true],
    ] as const) {
      const x = normals(rng, rows * cols);
      const got = await columns(x, rows, cols, { mean });
      const rpg = defaultRowsPerGroup(rows);
      // Depth: a group's rows, then the groups (plus two roundings for a mean's scale).
      const depth = rpg + Math.ceil(rows / rpg) + (mean ? 2 : 0);
      const abs = colSumRef(f32(x.length, (i) => Math.abs(x[i])), rows, cols, mean);
      expectClose(got, colSumRef(x, rows, cols, mean), f32(cols, (c) => depth * U * 1.01 * abs[c]), `columns of ${rows}x${cols}`);
      expectSameBits(got, colSumF32(x, rows, cols, rpg, mean ? 1 / rows : 1), 'GPU vs f32 emulation');
      expectSameBits(got, await columns(x, rows, cols, { mean }), 'two runs');
    }
  });

  it('accepts an explicit group size and accumulates (bias gradients from several ops)', async () => {
    const rng = new Rng(33);
    const x = normals(rng, 7 * 4);
    const prior = normals(rng, 4);
    const got = await columns(x, 7, 4, { rowsPerGroup: 2, prior });
    const partial = colSumF32(x, 7, 4, 2);
    expectSameBits(got, f32(4, (c) => prior[c] + partial[c]), 'accumulate');
  });

  it('its backward broadcasts the gradient down the columns; rejects empty and short inputs', async () => {
    const rng = new Rng(34);
    const [rows, cols] = [70, 5];
    const g = normals(rng, cols);
    const [s, m] = await run(async (scope) => {
      const gb = scope.upload('g', g);
      const sb = await ColumnReduceBackward.create(t.gpu, { rows, cols }, {}, scope);
      const mb = await ColumnReduceBackward.create(t.gpu, { rows, cols }, { mean: true }, scope);
      const [o1, o2] = [scope.create('s', rows * cols * 4), scope.create('m', rows * cols * 4)];
      return { dispatches: [sb.bind({ grad: gb, gradX: o1 }), mb.bind({ grad: gb, gradX: o2 })], outputs: [[o1, rows * cols], [o2, rows * cols]] };
    });
    expectClose(s, colSumBackwardRef(g, rows, cols), { atol: 0, rtol: 0 }, 'column sum backward');
    // g * f32(1/rows): two roundings, 2^-23 relative.
    expectClose(m, colSumBackwardRef(g, rows, cols, true), { atol: 0, rtol: 2 * U }, 'column mean backward');
    await expect(ColumnReduce.create(t.gpu, { rows: 0, cols: 4 })).rejects.toThrow(/column_sum: rows must be an integer >= 1, got 0/);
    await expect(RowDot.create(t.gpu, { rows: 4, cols: 0 })).rejects.toThrow(/row_dot: cols must be an integer >= 1, got 0/);
    const scope = t.gpu.buffers.scope();
    try {
      const k = await ColumnReduce.create(t.gpu, { rows: 8, cols: 4 }, { mean: true }, scope);
      expect(() => k.bind({ x: scope.create('x', 64), out: scope.create('o', 16) })).toThrow(/column_mean: col_in has 64 bytes but shape \[8, 4\] needs 128/);
    } finally {
      scope.destroy();
    }
  });
});
