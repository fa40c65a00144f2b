// Element-wise maps and concat / split against float64 references, in Node and Chromium.
import { describe, expect, it } from 'vitest';
import {
  Accumulate,
  Add,
  Concat,
  CopyBlock,
  Multiply,
  MultiplyBackward,
  ScaleShift,
  Split,
  addRef,
  concatRef,
  mulBackwardRef,
  mulRef,
  scaleShiftBackwardRef,
  scaleShiftRef,
  splitRef,
} from '../src/kernels/elementwise.ts';
import { fill } from '../src/kernels/fill.ts';
import { KernelError } from '../src/kernels/kernel.ts';
import { Kernel } from '../src/kernels/spec.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { f32, normals, U } from './support/data.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();


const run = t.run;

async function binary(op: typeof Add | typeof Multiply, a: Float32Array, b: Float32Array, initial?: Float32Array): Promise<Float32Array> {
  const [out] = await run(async (scope) => {
    const k = await op.create(t.gpu, { n: a.length }, { accumulate: initial !== undefined }, scope);
    const out = initial ? scope.upload('out', initial) : scope.create('out', a.length * 4);
    return { dispatches: [k.bind({ a: scope.upload('a', a), b: scope.upload('b', b), out })], outputs: [[out, a.length]] };
  });
  return out;
}

async function mulBackward(g: Float32Array, a: Float32Array, b: Float32Array, initial?: [Float32Array, Float32Array]): Promise<Float32Array[]> {
  const n = g.length;
  return run(async (scope) => {
    const k = await MultiplyBackward.create(t.gpu, { n }, { accumulate: initial !== undefined }, scope);
    const gradA = initial ? scope.upload('ga', initial[0]) : scope.create('ga', n * 4);
    const gradB = initial ? scope.upload('gb', initial[1]) : scope.create('gb', n * 4);
    const d = k.bind({ grad: scope.upload('g', g), a: scope.upload('a', a), b: scope.upload('b', b), gradA, gradB });
    return { dispatches: [d], outputs: [[gradA, n], [gradB, n]] };
  });
}

async function concat(rows: number, inputs: Float32Array[]): Promise<Float32Array> {
  const widths = inputs.map((x) => x.length / rows);
  const total = widths.reduce((s, w) => s + w, 0);
  const [out] = await run(async (scope) => {
    const k = await Concat.create(t.gpu, { rows, widths }, scope);
    const out = scope.create('out', rows * total * 4);
    return { dispatches: k.bind({ inputs: inputs.map((x, i) => scope.upload(`in${i}`, x)), out }), outputs: [[out, rows * total]] };
  });
  return out;
}

async function split(rows: number, widths: number[], gradOut: Float32Array, initial: (Float32Array | null)[], accumulate: boolean[]): Promise<Float32Array[]> {
  return run(async (scope) => {
    const k = await Split.create(t.gpu, { rows, widths }, { accumulate }, scope);
    const grads = initial.map((x, i) => (x ? scope.upload(`g${i}`, x) : null));
    const outputs: [GPUBuffer, number][] = [];
    grads.forEach((g, i) => g && outputs.push([g, rows * widths[i]]));
    return { dispatches: k.bind({ gradOut: scope.upload('gout', gradOut), gradInputs: grads }), outputs };
  });
}

describe('element-wise maps', () => {
  // One correctly rounded f32 add or multiply of f32 inputs: |error| <= 2^-24 |exact|.
  it('add and multiply match the reference, n not a multiple of the workgroup', async () => {
    const rng = new Rng(11);
    const a = normals(rng, 1001);
    const b = normals(rng, 1001);
    expectClose(await binary(Add, a, b), addRef(a, b), { atol: 0, rtol: U }, 'add');
    expectClose(await binary(Multiply, a, b), mulRef(a, b), { atol: 0, rtol: U }, 'mul');
  });

  // Accumulating adds a second rounding: |error| <= 2^-23 (|y| + |a op b|) <= 2^-23 * 25 for N(0,1) data below 4.
  it('accumulates into the output', async () => {
    const rng = new Rng(12);
    const [a, b, y] = [normals(rng, 300), normals(rng, 300), normals(rng, 300)];
    const sum = addRef(a, b).map((v, i) => v + y[i]);
    const prod = mulRef(a, b).map((v, i) => v + y[i]);
    expectClose(await binary(Add, a, b, y), sum, { atol: 25 * 2 ** -23, rtol: 0 }, 'add +=');
    expectClose(await binary(Multiply, a, b, y), prod, { atol: 25 * 2 ** -23, rtol: 0 }, 'mul +=');
    // Both are plain adds: exactly the f32 sums, in the same order.
    const [acc] = await run(async (scope) => {
      const k = await Accumulate.create(t.gpu, { n: 300 }, scope);
      const out = scope.upload('y', y);
      return { dispatches: [k.bind({ x: scope.upload('x', a), y: out })], outputs: [[out, 300]] };
    });
    expectSameBits(acc, Float32Array.from(y, (v, i) => v + a[i]), 'accumulate');
  });

  // alpha * x + beta: two roundings (one if fused): |error| <= 2^-23 (|alpha x| + |beta|) < 1e-6 for |x| < 4.5.
  it('scale-and-shift and its backward match the reference', async () => {
    const rng = new Rng(13);
    const x = normals(rng, 777);
    const [alpha, beta] = [Math.fround(-1.7), Math.fround(0.25)];
    const [fwd, bwd] = await run(async (scope) => {
      const f = await ScaleShift.create(t.gpu, { n: 777 }, { alpha: -1.7, beta: 0.25 }, scope);
      // The backward of scale-shift by alpha: dx = alpha * g, bound as { x: g, out: dx }.
      const b = await ScaleShift.create(t.gpu, { n: 777 }, { alpha: -1.7, beta: 0 }, scope);
      const xb = scope.upload('x', x);
      const [y, dx] = [scope.create('y', 777 * 4), scope.create('dx', 777 * 4)];
      return { dispatches: [f.bind({ x: xb, out: y }), b.bind({ x: xb, out: dx })], outputs: [[y, 777], [dx, 777]] };
    });
    expectClose(fwd, scaleShiftRef(x, alpha, beta), { atol: 1e-6, rtol: 0 }, 'scale-shift');
    // The backward is one multiply: 2^-24 relative.
    expectClose(bwd, scaleShiftBackwardRef(x, alpha), { atol: 0, rtol: U }, 'scale-shift backward');
  });

  it('handles one element', async () => {
    const out = await binary(Add, Float32Array.of(1.5), Float32Array.of(-0.25));
    expect(Array.from(out)).toEqual([1.25]);
  });

  it('splits a dispatch past 65535 workgroups', async () => {
    const rng = new Rng(14);
    // 65,537 workgroups of 64 threads at 2 elements each (the default per-thread count would
    // need 8x the memory to reach the split on SwiftShader).
    const n = 65536 * 64 * 2 + 3;
    const a = f32(n, () => rng.uniform());
    const b = f32(n, () => rng.uniform());
    const [out] = await run(async (scope) => {
      const k = await Add.create(t.gpu, { n }, { perThread: 2 }, scope);
      const out = scope.create('out', n * 4);
      const d = k.bind({ a: scope.upload('a', a), b: scope.upload('b', b), out });
      expect(d.grid[1], 'a 2D grid').toBeGreaterThan(1);
      return { dispatches: [d], outputs: [[out, n]] };
    });
    // One correctly rounded add each: the f32 sums exactly, the last elements included.
    expectSameBits(out, f32(n, (i) => a[i] + b[i]), 'add');
  });

  it('rejects empty tensors, short buffers and bad parameters before dispatch, naming the kernel', async () => {
    const { gpu } = t;
    await expect(Add.create(gpu, { n: 0 })).rejects.toThrow(/elementwise_add: n must be an integer >= 1, got 0/);
    await expect(ScaleShift.create(gpu, { n: 4 }, { alpha: NaN, beta: 0 })).rejects.toThrow(/elementwise_scale_shift: alpha must be a finite number/);
    const scope = gpu.buffers.scope();
    try {
      const k = await Multiply.create(gpu, { n: 8 }, {}, scope);
      expect(() => k.bind({ a: scope.create('a', 32), b: scope.create('b', 16), out: scope.create('o', 32) })).toThrow(
        /elementwise_mul: b has 16 bytes but shape \[8\] needs 32/,
      );
      const mb = await MultiplyBackward.create(gpu, { n: 8 }, {}, scope);
      const g = scope.create('g', 32);
      expect(() => mb.bind({ grad: g, a: g, b: g, gradA: scope.create('x', 32), gradB: scope.create('y', 16) })).toThrow(KernelError);
      const same = scope.create('same', 32);
      expect(() => mb.bind({ grad: g, a: g, b: g, gradA: same, gradB: same })).toThrow(/elementwise_mul_backward: grad_b and grad_a are the same buffer/);
      // In place is not a WebGPU dispatch: one buffer read and written through two bindings.
      const x = scope.create('x8', 32);
      expect(() => k.bind({ a: x, b: g, out: x })).toThrow(/elementwise_mul: out and a are the same buffer; bind a distinct one/);
    } finally {
      scope.destroy();
    }
  });

  it('names the limit when a tensor exceeds one storage binding', async () => {
    const limit = t.gpu.device.limits.maxStorageBufferBindingSize;
    await expect(Add.create(t.gpu, { n: Math.floor(limit / 4) + 1 })).rejects.toThrow(/elementwise_add: .*maxStorageBufferBindingSize/);
  });
});

describe('multiply backward', () => {
  it('the reference backward is the gradient of sum(w * a * b): central differences of the float64 forward', () => {
    const rng = new Rng(15);
    const [a, b, w] = [normals(rng, 6), normals(rng, 6), normals(rng, 6)];
    const loss = (x: ArrayLike<number>, y: ArrayLike<number>): number => mulRef(x, y).reduce((s, v, i) => s + v * w[i], 0);
    const { gradA, gradB } = mulBackwardRef(w, a, b);
    const h = 1e-4; // float64: truncation O(h^2) is zero for this bilinear loss, rounding ~1e-12 / h
    for (let j = 0; j < 6; j++) {
      const ap = Float64Array.from(a);
      const am = Float64Array.from(a);
      ap[j] += h;
      am[j] -= h;
      expect(Math.abs((loss(ap, b) - loss(am, b)) / (2 * h) - gradA[j]), `d/da[${j}]`).toBeLessThan(1e-8);
      const bp = Float64Array.from(b);
      const bm = Float64Array.from(b);
      bp[j] += h;
      bm[j] -= h;
      expect(Math.abs((loss(a, bp) - loss(a, bm)) / (2 * h) - gradB[j]), `d/db[${j}]`).toBeLessThan(1e-8);
    }
  });

  it('the GPU backward matches the reference, overwriting and accumulating, with the same bits on two runs', async () => {
    const rng = new Rng(16);
    const n = 1003;
    const [g, a, b] = [normals(rng, n), normals(rng, n), normals(rng, n)];
    const ref = mulBackwardRef(g, a, b);
    const [ga, gb] = await mulBackward(g, a, b);
    // One multiply each: 2^-24 relative.
    expectClose(ga, ref.gradA, { atol: 0, rtol: U }, 'gradA');
    expectClose(gb, ref.gradB, { atol: 0, rtol: U }, 'gradB');
    const [ga2, gb2] = await mulBackward(g, a, b);
    expectSameBits(ga, ga2, 'gradA, two runs');
    expectSameBits(gb, gb2, 'gradB, two runs');
    // Plus an add into N(0,1) gradients: |error| <= 2^-23 (|prior| + |g b|) <= 25 * 2^-23.
    const prior: [Float32Array, Float32Array] = [normals(rng, n), normals(rng, n)];
    const [aa, ab] = await mulBackward(g, a, b, prior);
    expectClose(aa, ref.gradA.map((v, i) => v + prior[0][i]), { atol: 25 * 2 ** -23, rtol: 0 }, 'gradA +=');
    expectClose(ab, ref.gradB.map((v, i) => v + prior[1][i]), { atol: 25 * 2 ** -23, rtol: 0 }, 'gradB +=');
  });
});

describe('concat and split', () => {
  // Copies: exact, tolerance 0.
  it("concatenates the recommender's [u, q, u*q] (32 + 32 + 32), two odd widths and five fields", async () => {
    const rng = new Rng(17);
    const rows = 256;
    const ins = [normals(rng, rows * 32), normals(rng, rows * 32), normals(rng, rows * 32)];
    expectClose(await concat(rows, ins), concatRef(ins, rows, [32, 32, 32]), { atol: 0, rtol: 0 }, 'concat 3');
    const two = [normals(rng, 7 * 3), normals(rng, 7 * 5)];
    expectClose(await concat(7, two), concatRef(two, 7, [3, 5]), { atol: 0, rtol: 0 }, 'concat 2');
    const one = [Float32Array.of(1), Float32Array.of(2)];
    expect(Array.from(await concat(1, one))).toEqual([1, 2]);
    const widths = [4, 1, 8, 3, 4];
    const five = widths.map((w) => normals(rng, 9 * w));
    expectClose(await concat(9, five), concatRef(five, 9, widths), { atol: 0, rtol: 0 }, 'concat 5');
  });

  it("the reference split is concat's gradient: central differences of sum(w * concat(inputs))", () => {
    const rng = new Rng(18);
    const rows = 3;
    const widths = [2, 4, 1];
    const ins = widths.map((w) => normals(rng, rows * w));
    const w = normals(rng, rows * 7);
    const loss = (xs: ArrayLike<number>[]): number => concatRef(xs, rows, widths).reduce((s, v, i) => s + v * w[i], 0);
    const grads = splitRef(w, rows, widths);
    const h = 0.5; // linear: any step is exact up to float64 rounding
    ins.forEach((x, k) => {
      for (let j = 0; j < x.length; j++) {
        const plus = ins.map((v) => Float64Array.from(v));
        const minus = ins.map((v) => Float64Array.from(v));
        plus[k][j] += h;
        minus[k][j] -= h;
        expect(Math.abs((loss(plus) - loss(minus)) / (2 * h) - grads[k][j]), `d/d in${k}[${j}]`).toBeLessThan(1e-12);
      }
    });
  });

  it('split matches the reference, skips inputs without a gradient, and accumulates per input', async () => {
    const rng = new Rng(19);
    const rows = 65;
    const widths = [32, 32, 32];
    const gout = normals(rng, rows * 96);
    const ref = splitRef(gout, rows, widths);
    const overwrite = await split(rows, widths, gout, widths.map((w) => new Float32Array(rows * w)), [false, false, false]);
    overwrite.forEach((g, k) => expectClose(g, ref[k], { atol: 0, rtol: 0 }, `split ${k}`));
    // Input 0 accumulates (one f32 add: exact bits of the emulation), input 1 is skipped, input 2 overwrites.
    const prior = normals(rng, rows * 32);
    const [acc, over] = await split(rows, widths, gout, [prior, null, normals(rng, rows * 32)], [true, false, false]);
    expectSameBits(acc, Float32Array.from(prior, (v, i) => v + ref[0][i]), 'split += 0');
    expectClose(over, ref[2], { atol: 0, rtol: 0 }, 'split 2');
  });

  it('rejects bad widths and mismatched buffers before dispatch, naming the kernel and shape', async () => {
    const { gpu } = t;
    await expect(Concat.create(gpu, { rows: 4, widths: [8] })).rejects.toThrow(/concat: concatenates at least 2 inputs, got 1 widths \(8\)/);
    await expect(Concat.create(gpu, { rows: 4, widths: [8, 0] })).rejects.toThrow(/concat: widths\[1\] must be an integer >= 1, got 0/);
    await expect(Concat.create(gpu, { rows: 0, widths: [8, 8] })).rejects.toThrow(/concat: rows must be an integer >= 1, got 0/);
    await expect(Split.create(gpu, { rows: 4, widths: [8, 8] }, { accumulate: [true] })).rejects.toThrow(/concat_backward: accumulate has 1 flags/);
    const scope = gpu.buffers.scope();
    try {
      const k = await Concat.create(gpu, { rows: 4, widths: [2, 3] }, scope);
      const out = scope.create('out', 4 * 5 * 4);
      expect(() => k.bind({ inputs: [scope.create('a', 32)], out })).toThrow(/concat: shape \[4, 2\+3\] needs 2 inputs, got 1/);
      expect(() => k.bind({ inputs: [scope.create('a', 32), scope.create('b', 32)], out })).toThrow(
        /concat\[1\]: src has 32 bytes but shape \[4, 2\+3\] needs 48/,
      );
      const s = await Split.create(gpu, { rows: 4, widths: [2, 3] }, {}, scope);
      expect(() => s.bind({ gradOut: scope.create('g', 64), gradInputs: [scope.create('a', 32), null] })).toThrow(
        /concat_backward\[0\]: src has 64 bytes but shape \[4, 2\+3\] needs 80/,
      );
      const g = scope.create('g', 80);
      expect(() => s.bind({ gradOut: g, gradInputs: [g, null] })).toThrow(/concat_backward\[0\]: dst and src are the same buffer/);
      const same = scope.create('same', 48);
      expect(() => s.bind({ gradOut: g, gradInputs: [same, same] })).toThrow(/concat_backward: gradInputs\[1\] and gradInputs\[0\] are the same buffer/);
    } finally {
      scope.destroy();
    }
  });
});

describe('several elements per thread', () => {
  // Three full workgroups of 64 threads x 16 elements and a ragged 37: every thread's loop
  // runs, and the bounds check inside it stops the last workgroup's threads at different j.
  const n = 3 * 64 * 16 + 37;
  const PERS = [1, 3, 16, undefined]; // undefined: this adapter's default
  const perName = (per: number | undefined): string => `perThread ${per ?? 'default'}`;

  it('maps and the multiply backward give the same bits for every per-thread count', async () => {
    const rng = new Rng(41);
    const [a, b, y] = [normals(rng, n), normals(rng, n), normals(rng, n)];
    const [alpha, beta] = [-1.7, 0.25];
    let first: Float32Array[] | undefined;
    for (const perThread of PERS) {
      const got = await run(async (scope) => {
        const [ab, bb] = [scope.upload('a', a), scope.upload('b', b)];
        const outs = Array.from({ length: 3 }, (_, i) => scope.create(`o${i}`, n * 4));
        const [acc, ga, gb] = [scope.upload('acc', y), scope.upload('ga', y), scope.create('gb', n * 4)];
        const shape = { n };
        const ks = {
          add: await Add.create(t.gpu, shape, { perThread }, scope),
          mul: await Multiply.create(t.gpu, shape, { perThread }, scope),
          ss: await ScaleShift.create(t.gpu, shape, { alpha, beta, perThread }, scope),
          acc: await Accumulate.create(t.gpu, shape, scope),
          mb: await MultiplyBackward.create(t.gpu, shape, { perThread }, scope),
        };
        const mbAcc = await MultiplyBackward.create(t.gpu, shape, { accumulate: true, perThread }, scope);
        const g = scope.upload('g', y);
        const dispatches = [
          ks.add.bind({ a: ab, b: bb, out: outs[0] }),
          ks.mul.bind({ a: ab, b: bb, out: outs[1] }),
          ks.ss.bind({ x: ab, out: outs[2] }),
          ks.acc.bind({ x: ab, y: acc }),
          // gradA accumulates into y, gradB overwrites: both branches of ACCUMULATE.
          mbAcc.bind({ grad: g, a: ab, b: bb, gradA: ga, gradB: scope.create('unused', n * 4) }),
          ks.mb.bind({ grad: g, a: ab, b: bb, gradA: scope.create('unused2', n * 4), gradB: gb }),
        ];
        return { dispatches, outputs: [...outs, acc, ga, gb].map((o): [GPUBuffer, number] => [o, n]) };
      });
      const what = perName(perThread);
      // One correctly rounded f32 operation each (two for the accumulating ones): exact bits.
      expectSameBits(got[0], f32(n, (i) => a[i] + b[i]), `add, ${what}`);
      expectSameBits(got[1], f32(n, (i) => a[i] * b[i]), `mul, ${what}`);
      expectClose(got[2], scaleShiftRef(a, Math.fround(alpha), Math.fround(beta)), { atol: 1e-6, rtol: 0 }, `scale-shift, ${what}`);
      expectSameBits(got[3], f32(n, (i) => y[i] + a[i]), `accumulate, ${what}`);
      expectSameBits(got[4], f32(n, (i) => y[i] + Math.fround(y[i] * b[i])), `mul backward gradA +=, ${what}`);
      expectSameBits(got[5], f32(n, (i) => y[i] * a[i]), `mul backward gradB, ${what}`);
      // scale-shift may or may not fuse its multiply-add, but the same way for every count.
      if (first) got.forEach((x, k) => expectSameBits(x, (first as Float32Array[])[k], `output ${k}, ${what} vs perThread 1`));
      else first = got;
    }
  });

  it('copy_block copies a strided block exactly, overwriting and accumulating, for every per-thread count', async () => {
    const rng = new Rng(42);
    // 139 x 23 = 3,197 block elements: three workgroups of 1,024 and a ragged 125.
    const s = { rows: 139, width: 23, srcStride: 30, srcOffset: 5, dstStride: 25, dstOffset: 1 };
    const src = normals(rng, s.rows * s.srcStride);
    const dst0 = normals(rng, s.rows * s.dstStride);
    const want = Float32Array.from(dst0);
    const wantAcc = Float32Array.from(dst0);
    for (let r = 0; r < s.rows; r++) {
      for (let c = 0; c < s.width; c++) {
        const o = r * s.dstStride + s.dstOffset + c;
        want[o] = src[r * s.srcStride + s.srcOffset + c];
        wantAcc[o] = dst0[o] + src[r * s.srcStride + s.srcOffset + c];
      }
    }
    for (const perThread of PERS) {
      const [over, acc] = await run(async (scope) => {
        const sb = scope.upload('src', src);
        const [d0, d1] = [scope.upload('d0', dst0), scope.upload('d1', dst0)];
        const k = await CopyBlock.create(t.gpu, s, { perThread }, scope);
        const kAcc = await CopyBlock.create(t.gpu, s, { accumulate: true, perThread }, scope);
        return { dispatches: [k.bind({ src: sb, dst: d0 }), kAcc.bind({ src: sb, dst: d1 })], outputs: [[d0, dst0.length], [d1, dst0.length]] };
      });
      // Elements outside the block keep their values: the copy stays inside its bounds.
      expectSameBits(over, want, `copy_block, ${perName(perThread)}`);
      expectSameBits(acc, wantAcc, `copy_block +=, ${perName(perThread)}`);
    }
  });

  it('rejects a per-thread count below 1', async () => {
    await expect(Add.create(t.gpu, { n: 8 }, { perThread: 0 })).rejects.toThrow(/elementwise_add: perThread must be an integer >= 1, got 0/);
  });
});

describe('fill', () => {
  it('fills several workgroups and a ragged tail, and nothing past n', async () => {
    const rng = new Rng(43);
    const n = 3 * 64 * 16 + 37;
    const junk = normals(rng, n + 50);
    const [out] = await run(async (scope) => {
      const k = await Kernel.create(t.gpu, fill(t.gpu, n, -2.5), scope);
      const buf = scope.upload('out', junk);
      return { dispatches: [k.bind({ out: buf })], outputs: [[buf, n + 50]] };
    });
    expectSameBits(out, f32(n + 50, (i) => (i < n ? -2.5 : junk[i])), 'fill');
  });
});
