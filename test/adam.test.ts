// Adam / AdamW (dense, lazy and table) and the bench's unfused chain against float64 references, in Node and Chromium.
import { describe, expect, it } from 'vitest';
import {
  Adam,
  LazyAdam,
  adamRef,
  adamStepWords,
  createAdamStepBuffer,
  lazyAdamRef,
  writeAdamStep,
  type AdamHyper,
  type AdamOptions,
  type AdamRefState,
} from '../src/kernels/adam.ts';
import { TableAdam } from '../src/kernels/adam-table.ts';
import { AdamChain, adamChainRef } from '../bench/baselines/adam-chain.ts';
import { scatterAddRef, type EmbeddingShape } from '../src/kernels/embedding.ts';
import { packSegments, segmentMap } from '../src/graph/segments.ts';
import { KernelError, submitDispatches, type Dispatch } from '../src/kernels/kernel.ts';
import { Rng } from '../src/random.ts';
import type { BufferScope } from '../src/gpu/buffers.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

/** A per-step upload, as the engine does it (queue.writeBuffer). */
function write(buffer: GPUBuffer, data: Float32Array | Uint32Array): void {
  t.gpu.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
}

const normals = (rng: Rng, n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => scale * rng.normal());

interface Init {
  param: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

/** Nonzero moments, as after some training, so the first step is not the only one tested. */
function init(rng: Rng, n: number, fresh = false): Init {
  const param = normals(rng, n);
  const m = fresh ? new Float32Array(n) : normals(rng, n, 0.1);
  const v = fresh ? new Float32Array(n) : Float32Array.from({ length: n }, () => 0.01 * rng.normal() ** 2);
  return { param, m, v };
}

const f64 = (s: Init): AdamRefState => ({ param: Float64Array.from(s.param), m: Float64Array.from(s.m), v: Float64Array.from(s.v) });
const f32 = (s: Init): AdamRefState => ({ param: Float32Array.from(s.param), m: Float32Array.from(s.m), v: Float32Array.from(s.v) });

interface GpuState {
  scope: BufferScope;
  step: GPUBuffer;
  param: GPUBuffer;
  m: GPUBuffer;
  v: GPUBuffer;
  grad: GPUBuffer;
}

function upload(s: Init): GpuState {
  const scope = t.gpu.buffers.scope();
  return {
    scope,
    step: createAdamStepBuffer(scope),
    param: scope.upload('param', s.param),
    m: scope.upload('m', s.m),
    v: scope.upload('v', s.v),
    grad: scope.create('grad', s.param.byteLength),
  };
}

async function read(g: GpuState, n: number): Promise<Init> {
  return { param: await t.ring.readF32(g.param, n), m: await t.ring.readF32(g.m, n), v: await t.ring.readF32(g.v, n) };
}

/** Runs `grads.length` steps, writing the step uniform and the gradient before each. */
function runSteps(g: GpuState, d: Dispatch[], grads: Float32Array[], hp: AdamHyper, firstStep = 1): void {
  grads.forEach((grad, k) => {
    writeAdamStep(t.gpu, g.step, firstStep + k, hp);
    write(g.grad, grad);
    submitDispatches(t.gpu, d);
  });
}

function expectState(got: Init, want: AdamRefState, tol: { atol: number; rtol: number }, what: string): void {
  expectClose(got.param, want.param, tol, `${what}: param`);
  expectClose(got.m, want.m, tol, `${what}: m`);
  expectClose(got.v, want.v, tol, `${what}: v`);
}

async function dense(s: Init, grads: Float32Array[], hp: AdamHyper, opts: AdamOptions = {}): Promise<Init> {
  const n = s.param.length;
  const g = upload(s);
  try {
    const k = await Adam.create(t.gpu, { n }, opts, g.scope);
    runSteps(g, [k.bind(g)], grads, hp);
    return await read(g, n);
  } finally {
    g.scope.destroy();
  }
}

// After 5 steps of lr 1e-2 the GPU's f32 state is within a few f32 ulps of the float64 one:
// 1e-6 relative plus 2e-7 absolute (m ~ 0.3, v ~ 1e-2, the parameter moves ~1e-2 per step).
// Measured worst: about a third of that.
const TOL64 = { atol: 2e-7, rtol: 1e-6 };
// Against the f32 emulation of the same op order: only WGSL's sqrt and division (not
// correctly rounded in general) and FMA contraction may differ, by an ulp or two.
// (On SwiftShader the bits are identical.)
const TOL32 = { atol: 1e-7, rtol: 5e-7 };

describe('dense Adam', () => {
  for (const decoupled of [false, true]) {
    const name = decoupled ? 'AdamW (decoupled weight decay)' : 'Adam (L2 weight decay)';
    it(`${name}: 5 steps with changing gradients match float64 and the f32 op order`, async () => {
      const rng = new Rng(decoupled ? 11 : 12);
      const n = 1001; // not a multiple of the workgroup
      const s = init(rng, n);
      const grads = Array.from({ length: 5 }, () => normals(rng, n));
      const hp: AdamHyper = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 };
      const got = await dense(s, grads, hp, { decoupled, wg: 64 });
      const want = f64(s);
      const emu = f32(s);
      grads.forEach((g, k) => {
        adamRef(want, g, k + 1, hp, { decoupled });
        adamRef(emu, g, k + 1, hp, { decoupled, round: Math.fround });
      });
      expectState(got, want, TOL64, name);
      expectState(got, emu, TOL32, `${name} vs f32 emulation`);
    });
  }

  it('decays the parameter the two ways: L2 goes through the moments, AdamW does not', async () => {
    // Zero gradient, fresh moments: AdamW's first step only decays, p (1 - lr wd), and leaves m at 0;
    // Adam's L2 makes g = wd p, so m = (1 - beta1) wd p and the step is -lr sign(p).
    const p = new Float32Array([2, -3, 0.5]);
    const s = { param: p, m: new Float32Array(3), v: new Float32Array(3) };
    const zero = [new Float32Array(3)];
    const hp = { lr: 0.1, weightDecay: 0.5 };
    const w = await dense(s, zero, hp, { decoupled: true });
    expectClose(w.param, [2 * 0.95, -3 * 0.95, 0.5 * 0.95], { atol: 0, rtol: 1e-7 }, 'AdamW');
    expect(Array.from(w.m)).toEqual([0, 0, 0]);
    const l2 = await dense(s, zero, hp, { decoupled: false });
    expectClose(l2.param, [1.9, -2.9, 0.4], { atol: 0, rtol: 1e-6 }, 'Adam L2');
    expectClose(l2.m, [0.1, -0.15, 0.025], { atol: 0, rtol: 1e-6 }, 'Adam L2 moments');
  });

  it('covers several workgroups of several elements per thread and a ragged tail', async () => {
    const rng = new Rng(15);
    const n = 3 * 64 * 16 + 37; // three workgroups of 64 threads x 16 elements and a ragged 37
    const s = init(rng, n);
    const grads = Array.from({ length: 2 }, () => normals(rng, n));
    const hp: AdamHyper = { lr: 1e-2, weightDecay: 0.05 };
    const got = await dense(s, grads, hp, { wg: 64 });
    const want = f64(s);
    const emu = f32(s);
    grads.forEach((g, k) => {
      adamRef(want, g, k + 1, hp);
      adamRef(emu, g, k + 1, hp, { round: Math.fround });
    });
    expectState(got, want, TOL64, 'ragged');
    expectState(got, emu, TOL32, 'ragged vs f32 emulation');
  });

  it('handles one element', async () => {
    const s = { param: new Float32Array([1]), m: new Float32Array(1), v: new Float32Array(1) };
    const got = await dense(s, [new Float32Array([0.5])], { lr: 0.01 });
    // First step with fresh moments: m̂ / sqrt(v̂) = sign(g), so p = 1 - lr (eps aside).
    expectClose(got.param, [0.99], { atol: 0, rtol: 1e-7 }, 'param');
  });

  it('runs a tensor of 4.2M parameters over 65535 workgroups', async () => {
    const rng = new Rng(13);
    const n = 4_200_000; // 65,625 workgroups of 64
    // Uniform draws: Box-Muller for 8.4M values would cost more than the kernel.
    const uniforms = (): Float32Array => Float32Array.from({ length: n }, () => rng.uniform() - 0.5);
    const s = { param: uniforms(), m: new Float32Array(n), v: new Float32Array(n) };
    const grad = uniforms();
    const hp = { lr: 1e-3 };
    const got = await dense(s, [grad], hp, { wg: 64 });
    const want = f64(s);
    adamRef(want, grad, 1, hp);
    expectState(got, want, TOL64, '4.2M');
  });

  it("with the optimizer's beta1 and weight decay given, decides lerp's form and the L2 term at compile time: the same bits", async () => {
    const rng = new Rng(15);
    const n = 333;
    const s = init(rng, n);
    const grads = Array.from({ length: 3 }, () => normals(rng, n));
    // beta1 0.9 and 0.3 take lerp's two forms; weight decay 0 drops the L2 term.
    for (const beta1 of [0.9, 0.3]) {
      for (const weightDecay of [0, 0.05]) {
        for (const decoupled of [false, true]) {
          const hp = { lr: 3e-3, beta1, weightDecay };
          const what = `beta1 ${beta1}, weight decay ${weightDecay}${decoupled ? ', decoupled' : ''}`;
          const runtime = await dense(s, grads, hp, { decoupled });
          const decided = await dense(s, grads, hp, { decoupled, beta1, weightDecay });
          expectSameBits(decided.param, runtime.param, `${what}: param`);
          expectSameBits(decided.m, runtime.m, `${what}: m`);
          expectSameBits(decided.v, runtime.v, `${what}: v`);
        }
      }
    }
  });

  it('gives identical bits on two runs', async () => {
    const rng = new Rng(14);
    const s = init(rng, 777);
    const grads = Array.from({ length: 3 }, () => normals(rng, 777));
    const hp = { lr: 3e-3, weightDecay: 0.01 };
    const a = await dense(s, grads, hp);
    const b = await dense(s, grads, hp);
    expectSameBits(a.param, b.param, 'param');
    expectSameBits(a.m, b.m, 'm');
    expectSameBits(a.v, b.v, 'v');
  });

  it('rejects bad shapes, buffers and hyper-parameters before any dispatch, naming the kernel', async () => {
    const { gpu } = t;
    await expect(Adam.create(gpu, { n: 0 })).rejects.toThrow(/adam: n \(elements of the parameter tensor\) must be an integer >= 1, got 0/);
    await expect(Adam.create(gpu, { n: 10 }, { wg: 0 })).rejects.toThrow(KernelError);
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    await expect(Adam.create(gpu, { n: limit / 4 + 1 })).rejects.toThrow(/adam: .*maxStorageBufferBindingSize/);
    const scope = gpu.buffers.scope();
    try {
      const k = await Adam.create(gpu, { n: 10 }, {}, scope);
      const [param, grad, m, v] = ['param', 'grad', 'm', 'v'].map((name) => scope.create(name, 40));
      const step = createAdamStepBuffer(scope);
      expect(() => k.bind({ step, param, grad, m: scope.create('m', 36), v })).toThrow(/adam: m has 36 bytes but shape \[10\] needs 40/);
      expect(() => k.bind({ step: scope.create('not uniform', 48), param, grad, m, v })).toThrow(/adam: st must be a UNIFORM buffer/);
      expect(() => k.bind({ step, param, grad, m, v: m })).toThrow(/adam: v and m are the same buffer/);
    } finally {
      scope.destroy();
    }
    expect(() => adamStepWords(0, { lr: 1 })).toThrow(/adam_step: the step count must be an integer >= 1/);
    expect(() => adamStepWords(1, { lr: 1, beta2: 1 })).toThrow(/adam_step: beta2 must be in \[0, 1\), got 1/);
    expect(() => adamStepWords(1, { lr: Number.NaN })).toThrow(/lr must be a finite number/);
  });
});

describe('lazy (row-sparse) Adam', () => {
  async function lazy(shape: EmbeddingShape, s: Init, batches: Uint32Array[], grads: Float32Array[], hp: AdamHyper, decoupled = false): Promise<Init> {
    const g = upload(s);
    try {
      const k = await LazyAdam.create(t.gpu, shape, { decoupled, wg: 64 }, g.scope);
      const csr = g.scope.create('csr', packSegments(batches[0], shape).byteLength);
      const d = [k.bind({ ...g, csr })];
      batches.forEach((idx, j) => {
        write(csr, packSegments(idx, shape));
        runSteps(g, d, [grads[j]], hp, j + 1);
      });
      return await read(g, s.param.length);
    } finally {
      g.scope.destroy();
    }
  }

  it('updates only the touched rows, over 5 steps, and matches float64', async () => {
    const rng = new Rng(21);
    const shape = { rows: 50, dim: 7, n: 12 }; // 7 columns: rows straddle workgroups
    const s = init(rng, shape.rows * shape.dim);
    const batches = Array.from({ length: 5 }, () => Uint32Array.from({ length: shape.n }, () => rng.int(shape.rows)));
    // The gradient table holds junk in untouched rows (EmbeddingBackward leaves them): lazy Adam must not read it.
    const grads = Array.from({ length: 5 }, () => normals(rng, shape.rows * shape.dim));
    for (const decoupled of [false, true]) {
      const hp = { lr: 1e-2, weightDecay: 0.1 };
      const got = await lazy(shape, s, batches, grads, hp, decoupled);
      const want = f64(s);
      batches.forEach((idx, j) => lazyAdamRef(want, grads[j], idx, shape.dim, j + 1, hp, { decoupled }));
      expectState(got, want, TOL64, decoupled ? 'lazy AdamW' : 'lazy Adam');
      const touched = new Set(batches.flatMap((b) => Array.from(b)));
      for (let r = 0; r < shape.rows; r++) {
        if (touched.has(r)) continue;
        const row = (a: Float32Array): Float32Array => a.slice(r * shape.dim, (r + 1) * shape.dim);
        expectSameBits(row(got.param), row(s.param), `untouched row ${r}: param`);
        expectSameBits(row(got.m), row(s.m), `untouched row ${r}: m`);
        expectSameBits(row(got.v), row(s.v), `untouched row ${r}: v`);
      }
      expect(touched.size).toBeLessThan(shape.rows);
    }
  });

  it('equals dense Adam bit for bit when the batch touches every row', async () => {
    const rng = new Rng(22);
    const shape = { rows: 9, dim: 5, n: 20 };
    const s = init(rng, shape.rows * shape.dim);
    const idx = Uint32Array.from({ length: shape.n }, (_, i) => (i * 7) % shape.rows);
    const grad = normals(rng, shape.rows * shape.dim);
    const hp = { lr: 1e-2, weightDecay: 0.01 };
    const a = await lazy(shape, s, [idx], [grad], hp);
    const b = await dense(s, [grad], hp);
    expectSameBits(a.param, b.param, 'param');
    expectSameBits(a.m, b.m, 'm');
    expectSameBits(a.v, b.v, 'v');
  });

  it('handles one row of one column', async () => {
    const s = { param: new Float32Array([1]), m: new Float32Array(1), v: new Float32Array(1) };
    const got = await lazy({ rows: 1, dim: 1, n: 1 }, s, [new Uint32Array([0])], [new Float32Array([-2])], { lr: 0.01 });
    expectClose(got.param, [1.01], { atol: 0, rtol: 1e-7 }, 'param');
  });

  it('rejects bad shapes and a short csr, naming the kernel', async () => {
    const { gpu } = t;
    await expect(LazyAdam.create(gpu, { rows: 5, dim: 0, n: 3 })).rejects.toThrow(/lazy_adam: dim must be an integer >= 1, got 0/);
    await expect(LazyAdam.create(gpu, { rows: 5, dim: 2, n: 0 })).rejects.toThrow(/lazy_adam: n \(indices per batch\)/);
    const scope = gpu.buffers.scope();
    try {
      const k = await LazyAdam.create(gpu, { rows: 5, dim: 2, n: 3 }, {}, scope);
      const [param, grad, m, v] = ['param', 'grad', 'm', 'v'].map((name) => scope.create(name, 40));
      // csr words: 2 + 2 * 3 + 3 = 11
      expect(() => k.bind({ step: createAdamStepBuffer(scope), csr: scope.create('csr', 40), param, grad, m, v })).toThrow(
        /lazy_adam: csr has 40 bytes but shape \[rows=5, dim=2\] with 3 indices needs 44/,
      );
    } finally {
      scope.destroy();
    }
  });
});

describe('dense Adam over an embedding table, gradient summed in the pass', () => {
  async function table(shape: EmbeddingShape, s: Init, batches: Uint32Array[], gradRows: Float32Array[], hp: AdamHyper, vec4: boolean, opts: AdamOptions = {}): Promise<Init> {
    const g = upload(s);
    try {
      const k = await TableAdam.create(t.gpu, shape, { wg: 64, vec4, ...opts }, g.scope);
      const csr = g.scope.create('csr', packSegments(batches[0], shape).byteLength);
      const segOf = g.scope.create('segOf', shape.rows * 4);
      const rows = g.scope.create('gradRows', shape.n * shape.dim * 4);
      const d = [k.bind({ step: g.step, csr, segOf, gradRows: rows, param: g.param, m: g.m, v: g.v })];
      batches.forEach((idx, j) => {
        const packed = packSegments(idx, shape);
        write(csr, packed);
        write(segOf, segmentMap(packed, shape.rows));
        write(rows, gradRows[j]);
        writeAdamStep(t.gpu, g.step, j + 1, hp);
        submitDispatches(t.gpu, d);
      });
      return await read(g, s.param.length);
    } finally {
      g.scope.destroy();
    }
  }

  it("quads with the optimizer's beta1 and weight decay given: the run-time kernel's bits", async () => {
    const rng = new Rng(42);
    const shape = { rows: 37, dim: 8, n: 20 };
    const s = init(rng, shape.rows * shape.dim);
    const batches = Array.from({ length: 2 }, () => Uint32Array.from({ length: shape.n }, () => rng.int(shape.rows)));
    const gradRows = Array.from({ length: 2 }, () => normals(rng, shape.n * shape.dim));
    for (const [beta1, weightDecay] of [[0.9, 0], [0.3, 0.05]]) {
      const hp: AdamHyper = { lr: 1e-2, beta1, weightDecay };
      const runtime = await table(shape, s, batches, gradRows, hp, true);
      const decided = await table(shape, s, batches, gradRows, hp, true, { beta1, weightDecay });
      expectSameBits(decided.param, runtime.param, `beta1 ${beta1}: param`);
      expectSameBits(decided.m, runtime.m, `beta1 ${beta1}: m`);
      expectSameBits(decided.v, runtime.v, `beta1 ${beta1}: v`);
    }
  });

  it('quads: several workgroups of several quads per thread and a ragged tail, the bits of the scalar kernel', async () => {
    const rng = new Rng(41);
    // 389 rows of 8 quads = 3,112: three workgroups of 64 threads x 16 quads and a ragged 40.
    const shape = { rows: 389, dim: 32, n: 300 };
    const s = init(rng, shape.rows * shape.dim);
    const batches = Array.from({ length: 2 }, () => Uint32Array.from({ length: shape.n }, () => Math.floor(shape.rows * rng.uniform() ** 2)));
    const gradRows = Array.from({ length: 2 }, () => normals(rng, shape.n * shape.dim));
    const hp: AdamHyper = { lr: 1e-2, weightDecay: 0.05 };
    const quads = await table(shape, s, batches, gradRows, hp, true);
    const scalar = await table(shape, s, batches, gradRows, hp, false);
    // The quad kernel's vec4 math rounds as the scalar kernel's (one thread per element) does.
    expectSameBits(quads.param, scalar.param, 'param');
    expectSameBits(quads.m, scalar.m, 'm');
    expectSameBits(quads.v, scalar.v, 'v');
    // Dense Adam on the scattered gradient, every row moving (untouched rows with g = 0).
    // Sums of a few N(0,1) rows in f32 add a few ulps of g to TOL64's margin.
    const want = f64(s);
    batches.forEach((idx, j) => adamRef(want, scatterAddRef(gradRows[j], idx, shape.rows, shape.dim), j + 1, hp));
    expectState(quads, want, { atol: 5e-7, rtol: 2e-6 }, 'table Adam');
  });
});

describe('unfused Adam chain (bench baseline)', () => {
  // TF.js's arithmetic, 14 dispatches: equal to PyTorch's up to f32 rounding, and to its own
  // f32 op order within an ulp or two.
  it('matches the fused kernel and its own f32 op order over 3 steps', async () => {
    const rng = new Rng(31);
    const n = 999;
    const s = init(rng, n);
    const grads = Array.from({ length: 3 }, () => normals(rng, n));
    const hp = { lr: 1e-2 };
    const g = upload(s);
    let got: Init;
    try {
      const k = await AdamChain.create(t.gpu, { n }, { wg: 64 }, g.scope);
      const d = k.bind(g);
      expect(d.length).toBe(14);
      runSteps(g, d, grads, hp);
      got = await read(g, n);
    } finally {
      g.scope.destroy();
    }
    const want = f64(s);
    const emu = f32(s);
    grads.forEach((gr, j) => {
      adamRef(want, gr, j + 1, hp);
      adamChainRef(emu, gr, j + 1, hp, Math.fround);
    });
    expectState(got, want, TOL64, 'chain vs float64');
    expectState(got, emu, TOL32, 'chain vs f32 emulation');
    const fused = await dense(s, grads, hp);
    expectState(got, fused, TOL64, 'chain vs fused');
  });
});
