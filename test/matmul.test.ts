// Matmul (every variant x transpose x epilogue) and the dense-layer backward helpers against
// float64 references, in Node and Chromium.
import { describe, expect, it } from 'vitest';
import {
  ActBackward,
  BIAS_GRAD_CHUNK,
  BIAS_GRAD_VARIANTS,
  BiasGrad,
  MATMUL_VARIANTS,
  matmulVariantsFor,
  vec4Fits,
  Matmul,
  actBackwardRef,
  activateRef,
  biasGradRef,
  denseBackwardRef,
  denseForwardRef,
  matmulAbsRef,
  matmulErrorBound,
  matmulRef,
  matmulShapeOf,
  type Activation,
  type BiasGradVariant,
  type MatmulOptions,
  type MatmulShape,
  type MatmulVariant,
} from '../src/kernels/matmul.ts';
import { KernelError, submitDispatches } from '../src/kernels/kernel.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

/** float32 machine epsilon. */
const EPS = 2 ** -23;
const ACTS: Activation[] = ['none', 'relu', 'sigmoid', 'tanh'];
const TRANSPOSES = [
  { transA: false, transB: false },
  { transA: true, transB: false },
  { transA: false, transB: true },
  { transA: true, transB: true },
];

function randomMat(rng: Rng, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => scale * rng.normal());
}

interface Inputs {
  a: Float32Array;
  b: Float32Array;
  bias?: Float32Array;
  c0?: Float32Array;
}

/**
 * sg4 and sg4w run only where subgroups are exactly 4 wide (SwiftShader). On another device the
 * test checks instead that asking for one fails with a clear error, and stops there.
 */
async function unavailable(variant: MatmulVariant): Promise<boolean> {
  if (matmulVariantsFor(t.gpu).includes(variant)) return false;
  await expect(Matmul.create(t.gpu, { m: 2, n: 2, k: 2 }, { variant })).rejects.toThrow(new RegExp(`variant ${variant} needs the subgroups feature with subgroups of exactly 4`));
  return true;
}

async function runMatmul(shape: MatmulShape, opts: MatmulOptions, x: Inputs): Promise<Float32Array> {
  const { gpu, ring } = t;
  const scope = gpu.buffers.scope();
  try {
    const k = await Matmul.create(gpu, shape, { ...opts, bias: x.bias !== undefined, accumulate: x.c0 !== undefined }, scope);
    const c = x.c0 ? scope.upload('c', x.c0) : scope.create('c', shape.m * shape.n * 4);
    const d = k.bind({ a: scope.upload('a', x.a), b: scope.upload('b', x.b), c, ...(x.bias ? { bias: scope.upload('bias', x.bias) } : {}) });
    submitDispatches(gpu, [d]);
    return await ring.readF32(c, shape.m * shape.n);
  } finally {
    scope.destroy();
  }
}

/**
 * The tolerance for every product, per element: a K-term f32 dot product errs by about
 * sqrt(K)·eps·Σ_k|a||b| (K·eps at worst); we allow 4·sqrt(K+1)·eps·(Σ|a||b| + |bias|) (the +1
 * for the bias add), passed through the activation (Lipschitz <= 1), plus 16·eps·|y| for the
 * activation's own rounding (WGSL's exp) and the accumulate add, plus 1e-30 for exact zeros.
 */
function expectMatmulClose(got: Float32Array, a: Float32Array, b: Float32Array, shape: MatmulShape, opts: MatmulOptions, x: Inputs, what: string): void {
  const ref = matmulRef(a, b, shape, { ...opts, bias: x.bias, accumulateInto: x.c0 });
  const abs = matmulAbsRef(a, b, shape, opts.transA, opts.transB);
  expectClose(got, ref, matmulErrorBound(ref, abs, shape.k, shape.n, x.bias), `${what} (${shape.m}x${shape.n}, row-major)`);
}

/** A and B for `shape` as stored under the transposes. */
function operands(rng: Rng, shape: MatmulShape, scale = 1): { a: Float32Array; b: Float32Array } {
  return { a: randomMat(rng, shape.m * shape.k, scale), b: randomMat(rng, shape.k * shape.n) };
}

describe('matmul forward', () => {
  // Odd sizes: 33x17x29 is smaller than one reg4x4 workgroup's 32x32 block in n and not a
  // multiple of any tile; 70x45x38 spans several tiles in every variant with a k tail of 2.
  const shapes: MatmulShape[] = [
    { m: 33, n: 17, k: 29 },
    { m: 70, n: 45, k: 38 },
  ];
  for (const variant of MATMUL_VARIANTS) {
    for (const tr of TRANSPOSES) {
      it(`${variant} transA=${tr.transA} transB=${tr.transB} matches the reference on odd sizes`, async () => {
        if (await unavailable(variant)) return;
        const rng = new Rng(11);
        for (const shape of shapes) {
          const x = operands(rng, shape);
          const got = await runMatmul(shape, { variant, ...tr }, x);
          expectMatmulClose(got, x.a, x.b, shape, tr, x, `${variant} ${shape.m}x${shape.n}x${shape.k}`);
        }
      });
    }
  }

  // The vec4 variant reads whole vec4s only on shapes it fits (else it is reg4x4): multiples of
  // 4 where needed, rows of A and columns of B that still overhang the 4x4 tile.
  for (const tr of TRANSPOSES) {
    it(`reg4x4v reads vec4s and gives reg4x4's bits (transA=${tr.transA} transB=${tr.transB})`, async () => {
      const rng = new Rng(13);
      const shape = { m: tr.transA ? 36 : 34, n: tr.transB ? 45 : 44, k: 52 };
      expect(vec4Fits(shape, tr)).toBe(true);
      const x = { ...operands(rng, shape), bias: randomMat(rng, shape.n) };
      const opts = { ...tr, activation: 'relu' as const };
      const v = await runMatmul(shape, { ...opts, variant: 'reg4x4v' }, x);
      expectMatmulClose(v, x.a, x.b, shape, opts, x, 'reg4x4v');
      expect(new Uint32Array(v.buffer)).toEqual(new Uint32Array((await runMatmul(shape, { ...opts, variant: 'reg4x4' }, x)).buffer));
    });
  }

  // sg4 and sg4w put 1 to 4 subgroups side by side depending on N's 16- or 32-column tiles
  // (sg4: 2, 6, 19 and 11 tiles here, so 2, 3, 4 and 1 per workgroup; sg4w: 1, 3, 10 and 6,
  // so 1, 3, 2 and 3, the last with a tile whose second 16 columns are all past N = 170), clamp
  // rows and columns past the edges, and add each output's terms in the same order as reg4x4.
  const ragged: MatmulShape[] = [{ m: 37, n: 29, k: 41 }, { m: 20, n: 96, k: 9 }, { m: 5, n: 300, k: 33 }, { m: 18, n: 170, k: 6 }];
  for (const variant of ['sg4', 'sg4w'] as const) {
    for (const tr of TRANSPOSES) {
      it(`${variant} gives reg4x4's bits on ragged tiles (transA=${tr.transA} transB=${tr.transB})`, async () => {
        if (await unavailable(variant)) return;
        const rng = new Rng(14);
        for (const shape of ragged) {
          const x = { ...operands(rng, shape), bias: randomMat(rng, shape.n) };
          const opts = { ...tr, activation: 'tanh' as const };
          const s = await runMatmul(shape, { ...opts, variant }, x);
          expectMatmulClose(s, x.a, x.b, shape, opts, x, `${variant} ${shape.m}x${shape.n}x${shape.k}`);
          expect(new Uint32Array(s.buffer), `${variant} ${shape.m}x${shape.n}x${shape.k}`).toEqual(new Uint32Array((await runMatmul(shape, { ...opts, variant: 'reg4x4' }, x)).buffer));
        }
      });
    }
  }

  // Shapes whose every subgroup tile lies inside C take the epilogue without bounds checks
  // (FULL_TILES): plain, bias + activation, and accumulate must still give reg4x4's bits.
  const full: MatmulShape[] = [{ m: 32, n: 64, k: 9 }, { m: 48, n: 96, k: 20 }];
  for (const variant of ['sg4', 'sg4w'] as const) {
    it(`${variant} gives reg4x4's bits on whole tiles, with every epilogue`, async () => {
      if (await unavailable(variant)) return;
      const rng = new Rng(15);
      for (const shape of full) {
        for (const tr of TRANSPOSES) {
          const x = { ...operands(rng, shape), bias: randomMat(rng, shape.n), c0: randomMat(rng, shape.m * shape.n) };
          const epilogues = [{}, { bias: true, activation: 'relu' as const }, { activation: 'tanh' as const, accumulate: true }];
          for (const e of epilogues) {
            const { bias, c0, ...rest } = x;
            const inputs = { ...rest, ...('bias' in e ? { bias } : {}), ...('accumulate' in e ? { c0 } : {}) };
            const opts = { ...tr, ...e };
            const label = `${variant} ${shape.m}x${shape.n}x${shape.k} ${JSON.stringify(opts)}`;
            const got = await runMatmul(shape, { ...opts, variant }, inputs);
            expectMatmulClose(got, x.a, x.b, shape, opts, inputs, label);
            expect(new Uint32Array(got.buffer), label).toEqual(new Uint32Array((await runMatmul(shape, { ...opts, variant: 'reg4x4' }, inputs)).buffer));
          }
        }
      }
    });
  }

  for (const variant of MATMUL_VARIANTS) {
    it(`${variant}: every activation with a bias, and accumulate`, async () => {
      if (await unavailable(variant)) return;
      const rng = new Rng(12);
      const shape = { m: 33, n: 17, k: 29 };
      // A scaled by 1/sqrt(k): pre-activations of order 1, where the activations bend.
      const x = { ...operands(rng, shape, 1 / Math.sqrt(shape.k)), bias: randomMat(rng, shape.n) };
      for (const activation of ACTS) {
        const opts = { variant, transB: true, activation };
        expectMatmulClose(await runMatmul(shape, opts, x), x.a, x.b, shape, opts, x, `${variant} ${activation}`);
      }
      const acc = { ...x, c0: randomMat(rng, shape.m * shape.n) };
      const opts = { variant, transA: true, activation: 'tanh' as const };
      expectMatmulClose(await runMatmul(shape, opts, acc), acc.a, acc.b, shape, opts, acc, `${variant} accumulate`);
    });
  }

  it('handles 1x1x1 in every variant, with every epilogue', async () => {
    for (const variant of MATMUL_VARIANTS) {
      if (await unavailable(variant)) continue;
      const shape = { m: 1, n: 1, k: 1 };
      const x = { a: new Float32Array([1.5]), b: new Float32Array([-2]) };
      expect(Array.from(await runMatmul(shape, { variant }, x)), variant).toEqual([-3]);
      const withBias = { ...x, bias: new Float32Array([4]) };
      expect(Array.from(await runMatmul(shape, { variant, activation: 'relu' }, withBias)), variant).toEqual([1]);
      expect(Array.from(await runMatmul(shape, { variant, activation: 'relu', transA: true, transB: true }, { ...x, bias: new Float32Array([2]) })), variant).toEqual([0]);
    }
  });

  it('gives identical bits on two runs, in every variant', async () => {
    const rng = new Rng(13);
    const shape = { m: 70, n: 45, k: 38 };
    const x = { ...operands(rng, shape), bias: randomMat(rng, shape.n) };
    for (const variant of MATMUL_VARIANTS) {
      if (await unavailable(variant)) continue;
      const opts = { variant, transB: true, activation: 'sigmoid' as const };
      expectSameBits(await runMatmul(shape, opts, x), await runMatmul(shape, opts, x), variant);
    }
  });

  it('keeps large pre-activations finite: tanh and sigmoid saturate instead of giving NaN', async () => {
    const shape = { m: 1, n: 4, k: 1 };
    const x = { a: new Float32Array([1]), b: new Float32Array([-200, -30, 30, 200]) };
    for (const activation of ['tanh', 'sigmoid'] as const) {
      const got = await runMatmul(shape, { activation }, x);
      expectClose(got, matmulRef(x.a, x.b, shape, { activation }), { atol: 1e-7, rtol: 1e-6 }, activation);
    }
  });

  it('rejects bad shapes and buffers before any dispatch, naming the kernel and the shapes', async () => {
    const { gpu } = t;
    expect(() => matmulShapeOf([3, 4], [5, 6])).toThrow(/matmul: inner dimensions differ: op\(A\) is \[3x4\].*but op\(B\) is \[5x6\]/);
    expect(() => matmulShapeOf([4, 3], [6, 5], { transA: true, transB: true })).toThrow(/op\(A\) is \[3x4\].*transposed.*op\(B\) is \[5x6\]/);
    expect(matmulShapeOf([4, 3], [4, 5], { transA: true })).toEqual({ m: 3, n: 5, k: 4 });
    await expect(Matmul.create(gpu, { m: 0, n: 2, k: 2 })).rejects.toThrow(/matmul: m must be an integer >= 1, got 0/);
    await expect(Matmul.create(gpu, { m: 2, n: 2, k: 0 })).rejects.toThrow(KernelError);
    // Naive covers 8 columns per workgroup: 3e6 columns need 375,000 > 65,535 workgroups in x.
    await expect(Matmul.create(gpu, { m: 1, n: 3_000_000, k: 1 }, { variant: 'naive' })).rejects.toThrow(/matmul: .*maxComputeWorkgroupsPerDimension/);
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    await expect(Matmul.create(gpu, { m: Math.floor(limit / 4 / 64) + 1, n: 1, k: 64 })).rejects.toThrow(/maxStorageBufferBindingSize/);
    await expect(Matmul.create(gpu, { m: 2, n: 2, k: 2 }, { variant: 'fast' as MatmulVariant })).rejects.toThrow(/unknown variant "fast"/);

    const scope = gpu.buffers.scope();
    try {
      const k = await Matmul.create(gpu, { m: 3, n: 5, k: 4 }, { transA: true }, scope);
      const buf = (n: number): GPUBuffer => scope.create('x', n * 4);
      expect(() => k.bind({ a: buf(12), b: buf(19), c: buf(15) })).toThrow(/matmul: b has 76 bytes but shape op\(A\)\[3x4\] \(A stored transposed\) · op\(B\)\[4x5\] needs 80/);
      expect(() => k.bind({ a: buf(12), b: buf(20), c: buf(15), bias: buf(5) })).toThrow(/created without bias/);
      const a = buf(20);
      expect(() => k.bind({ a, b: buf(20), c: a })).toThrow(/matmul: c and a are the same buffer/);
      const kb = await Matmul.create(gpu, { m: 3, n: 5, k: 4 }, { bias: true }, scope);
      expect(() => kb.bind({ a: buf(12), b: buf(20), c: buf(15) })).toThrow(/bind a bias buffer of 5 floats/);
      await expect(BiasGrad.create(gpu, { m: 0, n: 3 })).rejects.toThrow(/matmul_bias_grad: m must be/);
      await expect(ActBackward.create(gpu, 0, { activation: 'relu' })).rejects.toThrow(/matmul_act_backward: count must be/);
    } finally {
      scope.destroy();
    }
  });
});

async function runActBackward(dy: Float32Array, y: Float32Array, activation: Activation): Promise<Float32Array> {
  const { gpu, ring } = t;
  const scope = gpu.buffers.scope();
  try {
    const k = await ActBackward.create(gpu, dy.length, { activation }, scope);
    const dz = scope.create('dz', dy.length * 4);
    submitDispatches(gpu, [k.bind({ dy: scope.upload('dy', dy), y: scope.upload('y', y), dz })]);
    return await ring.readF32(dz, dy.length);
  } finally {
    scope.destroy();
  }
}

async function runBiasGrad(dz: Float32Array, m: number, n: number, variant: BiasGradVariant, db0?: Float32Array): Promise<Float32Array> {
  const { gpu, ring } = t;
  const scope = gpu.buffers.scope();
  try {
    const k = await BiasGrad.create(gpu, { m, n }, { variant, accumulate: db0 !== undefined }, scope);
    const db = db0 ? scope.upload('db', db0) : scope.create('db', n * 4);
    submitDispatches(gpu, k.bind({ dz: scope.upload('dz', dz), db }));
    return await ring.readF32(db, n);
  } finally {
    scope.destroy();
  }
}

/** The f32 sums each variant must produce bit for bit: rows in order ('column'), or row chunks then chunks in order ('split'). */
function biasGradF32(dz: Float32Array, m: number, n: number, variant: BiasGradVariant, db0?: Float32Array): Float32Array {
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    let sum = 0;
    if (variant === 'column') {
      for (let i = 0; i < m; i++) sum = Math.fround(sum + dz[i * n + j]);
    } else {
      for (let c0 = 0; c0 < m; c0 += BIAS_GRAD_CHUNK) {
        let part = 0;
        for (let i = c0; i < Math.min(m, c0 + BIAS_GRAD_CHUNK); i++) part = Math.fround(part + dz[i * n + j]);
        sum = Math.fround(sum + part);
      }
    }
    out[j] = db0 ? Math.fround(db0[j] + sum) : sum;
  }
  return out;
}

describe('dense backward helpers', () => {
  it('activation backward matches the reference for every activation', async () => {
    const rng = new Rng(21);
    const count = 1001;
    const dy = randomMat(rng, count);
    const z = randomMat(rng, count, 2);
    for (const act of ACTS) {
      const y = z.map((v) => activateRef(v, act));
      // One or two f32 roundings of a product: 4 eps relative.
      expectClose(await runActBackward(dy, y, act), actBackwardRef(dy, y, act), { atol: 1e-30, rtol: 4 * EPS }, act);
    }
  });

  it('activation backward splits dispatches past 65535 workgroups', async () => {
    const rng = new Rng(22);
    // 70,000 workgroups of 64 threads.
    const count = 70_000 * 64;
    const dy = randomMat(rng, count);
    const y = randomMat(rng, count);
    expectClose(await runActBackward(dy, y, 'relu'), actBackwardRef(dy, y, 'relu'), { atol: 0, rtol: 0 }, 'relu');
  });

  it('activation backward covers several workgroups of several elements per thread and a ragged tail', async () => {
    const rng = new Rng(24);
    // Three workgroups of 64 threads x 16 elements and a ragged 37.
    const count = 3 * 64 * 16 + 37;
    const dy = randomMat(rng, count);
    const z = randomMat(rng, count, 2);
    for (const act of ACTS) {
      const y = z.map((v) => activateRef(v, act));
      expectClose(await runActBackward(dy, y, act), actBackwardRef(dy, y, act), { atol: 1e-30, rtol: 4 * EPS }, act);
    }
  });

  for (const variant of BIAS_GRAD_VARIANTS) {
    it(`bias gradient (${variant}) equals the fixed-order f32 sums bit for bit, and accumulates`, async () => {
      const rng = new Rng(23);
      // 1003 rows: 15 full chunks and a partial one of 43 (not a multiple of 4); 33 columns:
      // not a multiple of 64.
      const m = 1003;
      const n = 33;
      const dz = randomMat(rng, m * n);
      const got = await runBiasGrad(dz, m, n, variant);
      // Sums of 1000 N(0,1) terms: 1e-4 absolute covers the f32 rounding.
      expectClose(got, biasGradRef(dz, m, n), { atol: 1e-4, rtol: 1e-5 }, variant);
      expectSameBits(got, biasGradF32(dz, m, n, variant), `${variant} vs f32 emulation`);
      expectSameBits(await runBiasGrad(dz, m, n, variant), got, `${variant} two runs`);
      const db0 = randomMat(rng, n);
      expectSameBits(await runBiasGrad(dz, m, n, variant, db0), biasGradF32(dz, m, n, variant, db0), `${variant} accumulate`);
      expect(Array.from(await runBiasGrad(new Float32Array([2.5]), 1, 1, variant))).toEqual([2.5]);
    });
  }
});

describe('a whole dense layer: loss = sum(w ⊙ act(X·W + b))', () => {
  const s = { batch: 5, in: 7, out: 6 };

  function lossRef(x: ArrayLike<number>, wt: ArrayLike<number>, b: ArrayLike<number>, w: Float32Array, act: Activation): number {
    return denseForwardRef(x, wt, b, s, act).reduce((acc, v, i) => acc + v * w[i], 0);
  }

  /** Central differences of the float64 forward for every input of one tensor. */
  function numericGrad(f: (t: Float64Array) => number, at: Float32Array): Float64Array {
    const h = 1e-6;
    const g = new Float64Array(at.length);
    for (let i = 0; i < at.length; i++) {
      const p = Float64Array.from(at);
      const q = Float64Array.from(at);
      p[i] += h;
      q[i] -= h;
      g[i] = (f(p) - f(q)) / (2 * h);
    }
    return g;
  }

  async function gpuBackward(variant: MatmulVariant, act: Activation, x: Float32Array, wt: Float32Array, b: Float32Array, w: Float32Array) {
    const { gpu, ring } = t;
    const scope = gpu.buffers.scope();
    try {
      const fwd = await Matmul.create(gpu, { m: s.batch, k: s.in, n: s.out }, { variant, bias: true, activation: act }, scope);
      const actB = await ActBackward.create(gpu, s.batch * s.out, { activation: act }, scope);
      const dxK = await Matmul.create(gpu, { m: s.batch, k: s.out, n: s.in }, { variant, transB: true }, scope);
      const dwK = await Matmul.create(gpu, { m: s.in, k: s.batch, n: s.out }, { variant, transA: true }, scope);
      const dbK = await BiasGrad.create(gpu, { m: s.batch, n: s.out }, {}, scope);
      const X = scope.upload('x', x);
      const W = scope.upload('w', wt);
      const Y = scope.create('y', s.batch * s.out * 4);
      const dY = scope.upload('dy', w);
      const dZ = scope.create('dz', s.batch * s.out * 4);
      const dX = scope.create('dx', s.batch * s.in * 4);
      const dW = scope.create('dw', s.in * s.out * 4);
      const db = scope.create('db', s.out * 4);
      submitDispatches(gpu, [
        fwd.bind({ a: X, b: W, bias: scope.upload('b', b), c: Y }),
        actB.bind({ dy: dY, y: Y, dz: dZ }),
        dxK.bind({ a: dZ, b: W, c: dX }),
        dwK.bind({ a: X, b: dZ, c: dW }),
        ...dbK.bind({ dz: dZ, db }),
      ]);
      return { dx: await ring.readF32(dX, s.batch * s.in), dw: await ring.readF32(dW, s.in * s.out), db: await ring.readF32(db, s.out) };
    } finally {
      scope.destroy();
    }
  }

  for (const act of ['relu', 'sigmoid', 'tanh'] as const) {
    it(`${act}: the reference backward matches central differences, and every variant's GPU backward matches the reference`, async () => {
      const rng = new Rng(31);
      const x = randomMat(rng, s.batch * s.in);
      const wt = randomMat(rng, s.in * s.out, 1 / Math.sqrt(s.in));
      const b = randomMat(rng, s.out, 0.5);
      const w = randomMat(rng, s.batch * s.out);
      const y = denseForwardRef(x, wt, b, s, act);
      const ref = denseBackwardRef(x, wt, y, w, s, act);
      // Central differences of a float64 forward with h = 1e-6: truncation ~h² and rounding
      // ~1e-16/h leave about 1e-9; relu's kinks are over 0.02 away for this seed.
      const fdTol = { atol: 1e-7, rtol: 1e-6 };
      expectClose(ref.dx, numericGrad((v) => lossRef(v, wt, b, w, act), x), fdTol, `${act} dX vs finite differences`);
      expectClose(ref.dw, numericGrad((v) => lossRef(x, v, b, w, act), wt), fdTol, `${act} dW vs finite differences`);
      expectClose(ref.db, numericGrad((v) => lossRef(x, wt, v, w, act), b), fdTol, `${act} db vs finite differences`);
      for (const variant of MATMUL_VARIANTS) {
        if (await unavailable(variant)) continue;
        const got = await gpuBackward(variant, act, x, wt, b, w);
        // Products of at most 7 terms of order 1, through f32 activations: 2e-5 covers it.
        const tol = { atol: 2e-5, rtol: 2e-5 };
        expectClose(got.dx, ref.dx, tol, `${variant} ${act} dX`);
        expectClose(got.dw, ref.dw, tol, `${variant} ${act} dW`);
        expectClose(got.db, ref.db, tol, `${variant} ${act} db`);
      }
    });
  }
});
