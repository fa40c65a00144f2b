// LSTM cell kernels (fused, and the bench's unfused baseline) against float64 references, in Node and Chromium.
import { describe, expect, it } from 'vitest';
import { LstmUnfusedBackward, LstmUnfusedForward } from '../bench/baselines/lstm-unfused.ts';
import { LstmCellBackward, LstmCellForward, lstmBytes, type LstmShape } from '../src/kernels/lstm.ts';
import {
  lstmCellBackwardRef,
  lstmCellForwardRef,
  lstmLayerBackwardRef,
  lstmLayerForwardRef,
  matmulRef,
  transposeRef,
  type LstmLayerShape,
  type LstmWeights,
} from '../src/kernels/lstm-ref.ts';
import { KernelError, submitDispatches } from '../src/kernels/kernel.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

const normal = (rng: Rng, n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => scale * rng.normal());
const f32 = (a: ArrayLike<number>): Float32Array => Float32Array.from(a);
const slice = (a: Float32Array, i: number, n: number): Float32Array => a.slice(i * n, (i + 1) * n);

interface ForwardOut {
  gates: Float32Array;
  c: Float32Array;
  h: Float32Array;
}

/** 'fused': src/kernels/lstm.ts, one dispatch per step and direction; 'unfused': the bench's baseline, two. */
type LstmImpl = 'fused' | 'unfused';

/** The forward over every step; `gh(t, h)` gives step t's recurrent projection from the GPU's h so far. */
async function forward(
  shape: LstmShape,
  gx: Float32Array,
  gh: (t: number, h: Float32Array) => Float32Array,
  opts: { impl?: LstmImpl; workgroupSize?: number } = {},
): Promise<ForwardOut> {
  const { gpu, ring } = t;
  const bytes = lstmBytes(shape);
  const scope = gpu.buffers.scope();
  try {
    const k = await (opts.impl === 'unfused' ? LstmUnfusedForward : LstmCellForward).create(gpu, shape, opts, scope);
    const b = {
      gx: scope.upload('gx', gx),
      gh: scope.create('gh', bytes.stepGates),
      gates: scope.create('gates', bytes.seqGates),
      c: scope.create('c', bytes.seqState),
      h: scope.create('h', bytes.seqState),
    };
    const bh = shape.batch * shape.hidden;
    let h: Float32Array = new Float32Array(shape.steps * bh);
    for (let s = 0; s < shape.steps; s++) {
      const g = gh(s, h);
      gpu.device.queue.writeBuffer(b.gh, 0, g.buffer, g.byteOffset, g.byteLength);
      submitDispatches(gpu, k.bind(b, s));
      if (s + 1 < shape.steps) h = await ring.readF32(b.h, shape.steps * bh);
    }
    return {
      gates: await ring.readF32(b.gates, shape.steps * 4 * bh),
      c: await ring.readF32(b.c, shape.steps * bh),
      h: await ring.readF32(b.h, shape.steps * bh),
    };
  } finally {
    scope.destroy();
  }
}

interface BackwardOut {
  dGates: Float32Array;
  /** dc after the last step run: the gradient of c[t-1] for the smallest t. */
  dc: Float32Array;
}

/**
 * Backward steps `from` down to `to`; `dhRec(t, dGates)` gives the recurrent gradient step t
 * reads, from the GPU's d_gates so far; `dc0` is dc's content before the first step run.
 */
async function backward(
  shape: LstmShape,
  saved: { gates: Float32Array; c: Float32Array },
  dhOut: Float32Array,
  dhRec: (t: number, dGates: Float32Array) => Float32Array,
  opts: { impl?: LstmImpl; workgroupSize?: number; from?: number; to?: number; dc0?: Float32Array } = {},
): Promise<BackwardOut> {
  const { gpu, ring } = t;
  const bytes = lstmBytes(shape);
  const bh = shape.batch * shape.hidden;
  const scope = gpu.buffers.scope();
  try {
    const k = await (opts.impl === 'unfused' ? LstmUnfusedBackward : LstmCellBackward).create(gpu, shape, opts, scope);
    const b = {
      gates: scope.upload('gates', saved.gates),
      c: scope.upload('c', saved.c),
      dhOut: scope.upload('dhOut', dhOut),
      dhRec: scope.create('dhRec', bytes.stepState),
      // NaNs: the last step must ignore dc whatever it holds.
      dc: scope.upload('dc', opts.dc0 ?? new Float32Array(bh).fill(NaN)),
      dGates: scope.create('dGates', bytes.seqGates),
    };
    let dGates: Float32Array = new Float32Array(shape.steps * 4 * bh);
    for (let s = opts.from ?? shape.steps - 1; s >= (opts.to ?? 0); s--) {
      const r = dhRec(s, dGates);
      gpu.device.queue.writeBuffer(b.dhRec, 0, r.buffer, r.byteOffset, r.byteLength);
      submitDispatches(gpu, k.bind(b, s));
      dGates = await ring.readF32(b.dGates, shape.steps * 4 * bh);
    }
    return { dGates, dc: await ring.readF32(b.dc, bh) };
  } finally {
    scope.destroy();
  }
}

/** The float64 forward over T steps from per-step pre-activations gx[t] + gh[t]. */
function forwardRef(shape: LstmShape, gx: Float32Array, ghs: Float32Array[]): { gates: Float64Array; c: Float64Array; h: Float64Array } {
  const { steps: T, batch: B, hidden: H } = shape;
  const gates = new Float64Array(T * B * 4 * H);
  const c = new Float64Array(T * B * H);
  const h = new Float64Array(T * B * H);
  for (let s = 0; s < T; s++) {
    const pre = Array.from(slice(gx, s, 4 * B * H), (v, q) => v + ghs[s][q]);
    const cell = lstmCellForwardRef(pre, s > 0 ? c.subarray((s - 1) * B * H, s * B * H) : null, B, H);
    gates.set(cell.gates, s * 4 * B * H);
    c.set(cell.c, s * B * H);
    h.set(cell.h, s * B * H);
  }
  return { gates, c, h };
}

// Gate pre-activations of scale 2 reach the saturated tails of sigmoid and tanh.
const PRE_SCALE = 2;

describe('lstm cell forward', () => {
  // State tolerance: every output is a few f32 operations plus exp (a few ulp on SwiftShader),
  // on values of size <= ~3 (|c| grows by at most 1 per step): 2e-6 absolute + 1e-5 relative.
  const tol = { atol: 2e-6, rtol: 1e-5 };

  for (const impl of ['fused', 'unfused'] as const) {
    it(`${impl}: matches the reference over 3 steps with B*H = 65 (not a multiple of the workgroup)`, async () => {
      const rng = new Rng(11);
      const shape = { steps: 3, batch: 5, hidden: 13 };
      const n = 4 * shape.batch * shape.hidden;
      const gx = normal(rng, shape.steps * n, PRE_SCALE);
      const ghs = [0, 1, 2].map(() => normal(rng, n, PRE_SCALE));
      const got = await forward(shape, gx, (s) => ghs[s], { impl });
      const ref = forwardRef(shape, gx, ghs);
      expectClose(got.gates, ref.gates, tol, 'gates');
      expectClose(got.c, ref.c, tol, 'c');
      expectClose(got.h, ref.h, tol, 'h');
    });
  }

  it('handles B = H = 1 and T = 1', async () => {
    const pre = new Float32Array([0.5, -1, 2, 0.25]);
    const got = await forward({ steps: 1, batch: 1, hidden: 1 }, pre, () => new Float32Array(4));
    const ref = lstmCellForwardRef(pre, null, 1, 1);
    expectClose(got.gates, ref.gates, tol, 'gates');
    expectClose(got.c, ref.c, tol, 'c');
    expectClose(got.h, ref.h, tol, 'h');
  });

  it('saturates without NaN or inf at huge pre-activations', async () => {
    const pre = new Float32Array([1e30, -1e30, 1e30, -1e30, -1e30, 1e30, -1e30, 1e30]);
    const got = await forward({ steps: 1, batch: 1, hidden: 2 }, pre, () => new Float32Array(8));
    // Exact limits: sigmoid(±80) and tanh rounds to 0 / 1 in f32 (sigmoid(-80) = 1.8e-35 ~ 0).
    // Rows are i, f, g, o of two units.
    expectClose(got.gates, [1, 0, 1, 0, -1, 1, 0, 1], { atol: 1e-30, rtol: 0 }, 'gates');
    expectClose(got.c, [-1, 0], { atol: 1e-30, rtol: 0 }, 'c');
    expectClose(got.h, [0, 0], { atol: 1e-30, rtol: 0 }, 'h');
  });

  it('splits dispatches past 65535 workgroups (70,000 one-invocation workgroups)', async () => {
    const rng = new Rng(12);
    const shape = { steps: 1, batch: 70_000, hidden: 1 };
    const gx = normal(rng, 4 * shape.batch, PRE_SCALE);
    const got = await forward(shape, gx, () => new Float32Array(4 * shape.batch), { workgroupSize: 1 });
    const ref = lstmCellForwardRef(gx, null, shape.batch, 1);
    expectClose(got.h, ref.h, tol, 'h');
    expectClose(got.c, ref.c, tol, 'c');
  });

  it('gives identical bits on two runs, and fused and unfused agree bit for bit', async () => {
    const rng = new Rng(13);
    const shape = { steps: 3, batch: 7, hidden: 9 };
    const n = 4 * shape.batch * shape.hidden;
    const gx = normal(rng, shape.steps * n, PRE_SCALE);
    const ghs = [0, 1, 2].map(() => normal(rng, n, PRE_SCALE));
    const a = await forward(shape, gx, (s) => ghs[s]);
    const b = await forward(shape, gx, (s) => ghs[s]);
    const u = await forward(shape, gx, (s) => ghs[s], { impl: 'unfused' });
    for (const key of ['gates', 'c', 'h'] as const) {
      expectSameBits(a[key], b[key], `${key}: two runs`);
      expectSameBits(a[key], u[key], `${key}: fused vs unfused`);
    }
  });
});

describe('lstm cell backward', () => {
  // Gradients are products of a few O(1) factors computed once in f32 from the same saved
  // f32 inputs as the reference (only tanh(c) is recomputed with exp): 2e-6 + 1e-5 relative.
  const tol = { atol: 2e-6, rtol: 1e-5 };

  /** A random forward of `shape` on the GPU: the saved tensors a backward reads. */
  async function savedForward(rng: Rng, shape: LstmShape): Promise<ForwardOut> {
    const n = 4 * shape.batch * shape.hidden;
    const gx = normal(rng, shape.steps * n, PRE_SCALE);
    return forward(shape, gx, () => normal(rng, n, PRE_SCALE));
  }

  for (const impl of ['fused', 'unfused'] as const) {
    it(`${impl}: matches the reference over 3 steps, adding dh_out and dh_rec and carrying dc in place`, async () => {
      const rng = new Rng(21);
      const shape = { steps: 3, batch: 5, hidden: 13 };
      const { steps: T, batch: B, hidden: H } = shape;
      const bh = B * H;
      const saved = await savedForward(rng, shape);
      const dhOut = normal(rng, T * bh);
      const recs = [0, 1, 2].map(() => normal(rng, bh));
      const got = await backward(shape, saved, dhOut, (s) => recs[s], { impl });
      let dc: Float64Array | null = null;
      for (let s = T - 1; s >= 0; s--) {
        const dh = Array.from(slice(dhOut, s, bh), (v, k) => v + (s < T - 1 ? recs[s][k] : 0));
        const cPrev = s > 0 ? slice(saved.c, s - 1, bh) : null;
        const ref = lstmCellBackwardRef(slice(saved.gates, s, 4 * bh), cPrev, slice(saved.c, s, bh), dh, dc, B, H);
        expectClose(slice(got.dGates, s, 4 * bh), ref.dGates, tol, `d_gates[${s}]`);
        dc = ref.dcPrev;
      }
      expectClose(got.dc, dc ?? [], tol, 'dc[-1]');
    });
  }

  it('handles B = H = 1 and T = 1', async () => {
    const saved = await forward({ steps: 1, batch: 1, hidden: 1 }, new Float32Array([0.5, -1, 2, 0.25]), () => new Float32Array(4));
    const got = await backward({ steps: 1, batch: 1, hidden: 1 }, saved, new Float32Array([1.5]), () => new Float32Array(1));
    const ref = lstmCellBackwardRef(saved.gates, null, saved.c, [1.5], null, 1, 1);
    expectClose(got.dGates, ref.dGates, tol, 'd_gates');
    expectClose(got.dc, ref.dcPrev, tol, 'dc');
  });

  it('is the gradient of sum(w_h * h + w_c * c): finite differences of the float64 cell, and the GPU agrees', async () => {
    const rng = new Rng(22);
    const B = 3;
    const H = 4;
    const bh = B * H;
    const pre = Array.from(normal(rng, 4 * bh, PRE_SCALE));
    const cPrev = Array.from(normal(rng, bh));
    const wh = normal(rng, bh);
    const wc = normal(rng, bh);
    const loss = (p: number[], cp: number[]): number => {
      const r = lstmCellForwardRef(p, cp, B, H);
      let s = 0;
      for (let k = 0; k < bh; k++) s += wh[k] * r.h[k] + wc[k] * r.c[k];
      return s;
    };
    const fwd = lstmCellForwardRef(pre, cPrev, B, H);
    const ref = lstmCellBackwardRef(fwd.gates, cPrev, fwd.c, wh, wc, B, H);
    // Central differences in float64 with step 1e-5: truncation ~1e-10 times the third derivative.
    const e = 1e-5;
    for (let q = 0; q < 4 * bh; q++) {
      const p1 = pre.slice();
      const p2 = pre.slice();
      p1[q] += e;
      p2[q] -= e;
      const fd = (loss(p1, cPrev) - loss(p2, cPrev)) / (2 * e);
      expect(Math.abs(fd - ref.dGates[q]), `d loss / d pre[${q}]`).toBeLessThan(1e-7 * (1 + Math.abs(fd)));
    }
    for (let k = 0; k < bh; k++) {
      const c1 = cPrev.slice();
      const c2 = cPrev.slice();
      c1[k] += e;
      c2[k] -= e;
      const fd = (loss(pre, c1) - loss(pre, c2)) / (2 * e);
      expect(Math.abs(fd - ref.dcPrev[k]), `d loss / d c_prev[${k}]`).toBeLessThan(1e-7 * (1 + Math.abs(fd)));
    }

    // The GPU at step t = 1 of T = 3 (a step with both a previous and a next step): c[0] = c_prev,
    // dh = w_h, and dc coming in from step 2 = w_c.
    const shape = { steps: 3, batch: B, hidden: H };
    const gates = new Float32Array(3 * 4 * bh);
    gates.set(f32(fwd.gates), 4 * bh);
    const c = new Float32Array(3 * bh);
    c.set(f32(cPrev), 0);
    c.set(f32(fwd.c), bh);
    const dhOut = new Float32Array(3 * bh);
    dhOut.set(wh, bh);
    const got = await backward(shape, { gates, c }, dhOut, () => new Float32Array(bh), { from: 1, to: 1, dc0: wc });
    // The reference again from the f32-rounded saved values the GPU read.
    const ref32 = lstmCellBackwardRef(slice(gates, 1, 4 * bh), slice(c, 0, bh), slice(c, 1, bh), wh, wc, B, H);
    expectClose(slice(got.dGates, 1, 4 * bh), ref32.dGates, tol, 'd_gates');
    expectClose(got.dc, ref32.dcPrev, tol, 'dc_prev');
    // And within f32 rounding of the saved values of the exact float64 gradient.
    expectClose(slice(got.dGates, 1, 4 * bh), ref.dGates, { atol: 1e-5, rtol: 1e-4 }, 'd_gates vs float64');
  });

  it('splits dispatches past 65535 workgroups (70,000 one-invocation workgroups)', async () => {
    const rng = new Rng(23);
    const shape = { steps: 1, batch: 70_000, hidden: 1 };
    const gates = Float32Array.from({ length: 4 * shape.batch }, (_, q) => (q % 4 === 2 ? Math.tanh(rng.normal()) : rng.uniform()));
    const c = normal(rng, shape.batch);
    const dhOut = normal(rng, shape.batch);
    const got = await backward(shape, { gates, c }, dhOut, () => new Float32Array(shape.batch), { workgroupSize: 1 });
    const ref = lstmCellBackwardRef(gates, null, c, dhOut, null, shape.batch, 1);
    expectClose(got.dGates, ref.dGates, tol, 'd_gates');
    expectClose(got.dc, ref.dcPrev, tol, 'dc');
  });

  it('gives identical bits on two runs, and fused and unfused agree bit for bit', async () => {
    const rng = new Rng(24);
    const shape = { steps: 3, batch: 7, hidden: 9 };
    const bh = shape.batch * shape.hidden;
    const saved = await savedForward(rng, shape);
    const dhOut = normal(rng, shape.steps * bh);
    const recs = [0, 1, 2].map(() => normal(rng, bh));
    const a = await backward(shape, saved, dhOut, (s) => recs[s]);
    const b = await backward(shape, saved, dhOut, (s) => recs[s]);
    const u = await backward(shape, saved, dhOut, (s) => recs[s], { impl: 'unfused' });
    for (const key of ['dGates', 'dc'] as const) {
      expectSameBits(a[key], b[key], `${key}: two runs`);
      expectSameBits(a[key], u[key], `${key}: fused vs unfused`);
    }
  });
});

describe('lstm layer: backpropagation through time from the cell kernels and JS matmuls', () => {
  const shape: LstmLayerShape = { steps: 3, batch: 4, input: 3, hidden: 5 };
  const { steps: T, batch: B, input: I, hidden: H } = shape;
  const bh = B * H;

  function setup(): { x: Float32Array; w: LstmWeights; dhOut: Float32Array } {
    const rng = new Rng(31);
    const x = normal(rng, T * B * I);
    const w = { wIh: normal(rng, I * 4 * H, 0.7), wHh: normal(rng, H * 4 * H, 0.5), bias: normal(rng, 4 * H, 0.3) };
    return { x, w, dhOut: normal(rng, T * bh) };
  }

  it('the float64 layer backward is the gradient of sum(dh_out * h): finite differences', () => {
    const { x, w, dhOut } = setup();
    const loss = (xx: ArrayLike<number>, ww: LstmWeights): number => {
      const h = lstmLayerForwardRef(xx, ww, shape).h;
      return h.reduce((s, v, k) => s + v * dhOut[k], 0);
    };
    const g = lstmLayerBackwardRef(x, w, shape, lstmLayerForwardRef(x, w, shape), dhOut);
    const e = 1e-5;
    // Central differences of a smooth float64 function: 1e-7 relative covers truncation.
    const probe = (name: string, base: ArrayLike<number>, grad: Float64Array, with_: (v: Float64Array) => number): void => {
      for (let q = 0; q < base.length; q += 3) {
        const p = Float64Array.from(base);
        p[q] += e;
        const up = with_(p);
        p[q] -= 2 * e;
        const fd = (up - with_(p)) / (2 * e);
        expect(Math.abs(fd - grad[q]), `d loss / d ${name}[${q}]`).toBeLessThan(1e-7 * (1 + Math.abs(fd)));
      }
    };
    probe('x', x, g.dx, (v) => loss(v, w));
    probe('W_ih', w.wIh, g.dWih, (v) => loss(x, { ...w, wIh: v }));
    probe('W_hh', w.wHh, g.dWhh, (v) => loss(x, { ...w, wHh: v }));
    probe('bias', w.bias, g.dBias, (v) => loss(x, { ...w, bias: v }));
  });

  it('T = 3: GPU cells chained with JS matmuls give the float64 layer gradients', async () => {
    const { x, w, dhOut } = setup();
    const ref = lstmLayerForwardRef(x, w, shape);
    const refGrad = lstmLayerBackwardRef(x, w, shape, ref, dhOut);
    const cellShape = { steps: T, batch: B, hidden: H };

    const gx = f32(ref.gx); // the caller's input projection, rounded to f32 as a GPU matmul would
    const fwd = await forward(cellShape, gx, (s, h) => (s === 0 ? new Float32Array(4 * bh) : f32(matmulRef(slice(h, s - 1, bh), w.wHh, B, H, 4 * H))));
    // State errors compound over steps through W_hh: 2e-5 absolute + 1e-4 relative.
    const stateTol = { atol: 2e-5, rtol: 1e-4 };
    expectClose(fwd.h, ref.h, stateTol, 'h');
    expectClose(fwd.c, ref.c, stateTol, 'c');

    const wHhT = transposeRef(w.wHh, H, 4 * H);
    const bwd = await backward(cellShape, fwd, dhOut, (s, dG) => (s === T - 1 ? new Float32Array(bh) : f32(matmulRef(slice(dG, s + 1, 4 * bh), wHhT, B, 4 * H, H))));
    // The caller's matmuls over the whole sequence, in float64 from the GPU's f32 d_gates.
    const dWih = matmulRef(transposeRef(x, T * B, I), bwd.dGates, I, T * B, 4 * H);
    const dWhh = matmulRef(transposeRef(fwd.h.subarray(0, (T - 1) * bh), (T - 1) * B, H), bwd.dGates.subarray(4 * bh), H, (T - 1) * B, 4 * H);
    const dx = matmulRef(bwd.dGates, transposeRef(w.wIh, I, 4 * H), T * B, 4 * H, I);
    const dBias = new Float64Array(4 * H);
    for (let r = 0; r < T * B; r++) for (let q = 0; q < 4 * H; q++) dBias[q] += bwd.dGates[r * 4 * H + q];
    // Gradients are sums of up to T*B = 12 products of the above: 1e-4 absolute + 1e-4 relative.
    const gradTol = { atol: 1e-4, rtol: 1e-4 };
    expectClose(bwd.dGates, refGrad.dGates, gradTol, 'd_gates');
    expectClose(dWih, refGrad.dWih, gradTol, 'dW_ih');
    expectClose(dWhh, refGrad.dWhh, gradTol, 'dW_hh');
    expectClose(dBias, refGrad.dBias, gradTol, 'db');
    expectClose(dx, refGrad.dx, gradTol, 'dx');
  });
});

describe('lstm shape checks', () => {
  it('rejects empty and bad shapes before any dispatch, naming the kernel and the shape', async () => {
    const { gpu } = t;
    await expect(LstmCellForward.create(gpu, { steps: 0, batch: 2, hidden: 3 })).rejects.toThrow(
      /lstm_cell_forward: steps of \[T=0, B=2, H=3\] must be an integer >= 1, got 0/,
    );
    await expect(LstmCellBackward.create(gpu, { steps: 2, batch: 0, hidden: 3 })).rejects.toThrow(
      /lstm_cell_backward: batch of \[T=2, B=0, H=3\] must be an integer >= 1/,
    );
    await expect(LstmCellForward.create(gpu, { steps: 2, batch: 2, hidden: 1.5 })).rejects.toThrow(KernelError);
    await expect(LstmCellForward.create(gpu, { steps: 1, batch: 1, hidden: 1 }, { workgroupSize: 0 })).rejects.toThrow(
      /lstm_cell_forward: workgroupSize must be an integer in \[1, \d+\], got 0/,
    );
  });

  it('names the limit when the gate sequence exceeds one storage binding', async () => {
    const { gpu } = t;
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    const steps = Math.floor(limit / (4 * 4 * 64 * 64)) + 1;
    await expect(LstmCellBackward.create(gpu, { steps, batch: 64, hidden: 64 })).rejects.toThrow(/lstm_cell_backward: .*maxStorageBufferBindingSize/);
  });

  it('rejects short buffers and steps outside [0, T)', async () => {
    const { gpu } = t;
    const scope = gpu.buffers.scope();
    try {
      const shape = { steps: 3, batch: 2, hidden: 4 };
      const bytes = lstmBytes(shape);
      const fwd = await LstmCellForward.create(gpu, shape, {}, scope);
      const fb = {
        gx: scope.create('gx', bytes.seqGates),
        gh: scope.create('gh', bytes.stepGates),
        gates: scope.create('gates', bytes.seqGates),
        c: scope.create('c', bytes.seqState),
        h: scope.create('h', bytes.seqState - 4),
      };
      expect(() => fwd.bind(fb, 0)).toThrow(/lstm_cell_forward: h_seq has 92 bytes but shape \[T=3, B=2, H=4\] needs 96/);
      fb.h = scope.create('h', bytes.seqState);
      expect(() => fwd.bind(fb, 3)).toThrow(/lstm_cell_forward: step t must be an integer in \[0, 2\] for \[T=3, B=2, H=4\], got 3/);
      expect(fwd.bind(fb, 2)).toHaveLength(1);
      const bwd = await LstmUnfusedBackward.create(gpu, shape, {}, scope);
      const bb = {
        gates: fb.gates,
        c: fb.c,
        dhOut: fb.h,
        dhRec: scope.create('dhRec', bytes.stepState),
        dc: scope.create('dc', bytes.stepState),
        dGates: scope.create('dGates', bytes.stepGates),
      };
      expect(() => bwd.bind(bb, 1)).toThrow(/lstm_cell_backward: d_post has 128 bytes but shape \[T=3, B=2, H=4\] needs 384/);
      expect(() => bwd.bind({ ...bb, dGates: fb.gx }, -1)).toThrow(/lstm_cell_backward: step t must be/);
      expect(bwd.bind({ ...bb, dGates: fb.gx }, 0)).toHaveLength(2);
    } finally {
      scope.destroy();
    }
  });
});
