// Fused losses (BCE from logits, pairwise ranking, MSE, softmax cross-entropy) against float64
// references, in Node and Chromium.
import { describe, expect, it } from 'vitest';
import type { BufferScope } from '../src/gpu/buffers.ts';
import { KernelError, submitDispatches, type Dispatch } from '../src/kernels/kernel.ts';
import {
  BceOnProduct,
  BceWithLogits,
  MseLoss,
  RankingLoss,
  SoftmaxCrossEntropy,
  bceOnProductRef,
  bceWithLogitsRef,
  checkLabels,
  mseRef,
  rankingRef,
  softmaxCrossEntropyRef,
  type CrossEntropyOptions,
  type RankingKind,
} from '../src/kernels/losses.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

type Host = Float32Array | Uint32Array;

/**
 * Uploads `inputs` (and `scale`), makes zeroed f32 outputs of the given lengths, runs the one
 * dispatch `make` binds, and reads the outputs back.
 */
async function run<O extends string>(
  make: (scope: BufferScope) => Promise<{ bind(bufs: Record<string, GPUBuffer>): Dispatch }>,
  inputs: Record<string, Host>,
  outputs: Record<O, number>,
): Promise<Record<O, Float32Array>> {
  const { gpu, ring } = t;
  const scope = gpu.buffers.scope();
  try {
    const kernel = await make(scope);
    const bufs: Record<string, GPUBuffer> = {};
    for (const [name, data] of Object.entries(inputs)) bufs[name] = scope.upload(name, data);
    for (const [name, n] of Object.entries<number>(outputs)) bufs[name] = scope.create(name, n * 4);
    submitDispatches(gpu, [kernel.bind(bufs)]);
    const out = {} as Record<O, Float32Array>;
    for (const [name, n] of Object.entries<number>(outputs)) out[name as O] = await ring.readF32(bufs[name], n);
    return out;
  } finally {
    scope.destroy();
  }
}

const f32 = (xs: ArrayLike<number>): Float32Array => Float32Array.from(xs);
const normals = (rng: Rng, n: number, sd = 1): Float32Array => Float32Array.from({ length: n }, () => sd * rng.normal());

/** Central differences of the float64 loss `f` at the coordinates `at`, against `grad`. */
function expectGradient(f: (x: Float64Array) => number, x: ArrayLike<number>, grad: ArrayLike<number>, at: number[], what: string): void {
  // In float64 with h = 1e-5, truncation (h^2 f''' / 6) and rounding (1e-16 f / h) both stay
  // below 1e-9 for these O(1) losses: 1e-8 is a tight bound.
  const h = 1e-5;
  for (const j of at) {
    const plus = Float64Array.from(x);
    const minus = Float64Array.from(x);
    plus[j] += h;
    minus[j] -= h;
    const fd = (f(plus) - f(minus)) / (2 * h);
    expect(Math.abs(fd - grad[j]), `${what}: d loss / d x[${j}] = ${grad[j]}, finite differences ${fd}`).toBeLessThan(1e-8 * (1 + Math.abs(fd)));
  }
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

// ---- BCE ----------------------------------------------------------------------------------

interface BceData {
  logits: Float32Array;
  labels: Float32Array;
  weights: Float32Array;
  mask: Float32Array;
}

function bceData(rng: Rng, n: number, sd = 4): BceData {
  const logits = normals(rng, n, sd);
  // Hard 0/1 labels and soft ones.
  const labels = Float32Array.from({ length: n }, (_, i) => (i % 3 === 2 ? rng.uniform() : i % 3));
  const weights = Float32Array.from({ length: n }, () => 2 * rng.uniform());
  const mask = Float32Array.from({ length: n }, () => (rng.uniform() < 0.3 ? 0 : 1));
  return { logits, labels, weights, mask };
}

async function bce(d: BceData, scale: number, opts: { weighted?: boolean; masked?: boolean } = {}): Promise<{ loss: Float32Array; grad: Float32Array }> {
  const n = d.logits.length;
  // Masked-out labels are missing: NaN must not leak into the loss or the gradient.
  const labels = opts.masked ? d.labels.map((y, i) => (d.mask[i] === 0 ? NaN : y)) : d.labels;
  const inputs: Record<string, Host> = { logits: d.logits, labels, scale: f32([scale]) };
  if (opts.weighted) inputs.weights = d.weights;
  if (opts.masked) inputs.mask = d.mask;
  return run((scope) => BceWithLogits.create(t.gpu, { n }, opts, scope), inputs, { loss: n, grad: n });
}

const bceRef = (d: BceData, scale: number, opts: { weighted?: boolean; masked?: boolean } = {}) =>
  bceWithLogitsRef(d.logits, d.labels, scale, { weights: opts.weighted ? d.weights : undefined, mask: opts.masked ? d.mask : undefined });

describe('bce_with_logits', () => {
  // f32 math with exp, log and a handful of roundings: a few ulp of the loss, relative. The
  // atol only covers results near 0 (a gradient sigmoid(x) - y that cancels).
  const tol = { atol: 1e-7, rtol: 1e-5 };

  for (const opts of [{}, { weighted: true }, { masked: true }, { weighted: true, masked: true }]) {
    it(`matches the float64 reference ${JSON.stringify(opts)} at n = 1001 (not a multiple of 64)`, async () => {
      const d = bceData(new Rng(11), 1001);
      const got = await bce(d, 1 / 7, opts);
      const ref = bceRef(d, 1 / 7, opts);
      expectClose(got.loss, ref.loss, tol, 'loss');
      expectClose(got.grad, ref.grad, tol, 'grad');
      if ('masked' in opts) expect(got.loss.filter((_, i) => d.mask[i] === 0).every((v) => v === 0)).toBe(true);
    });
  }

  it('stays finite at |logits| of 80 and 1e4 and keeps the digits of tiny losses', async () => {
    const logits = f32([1e4, -1e4, 1e4, -1e4, 80, -80, 80, -80, 1e4, -1e4, 20, 40, 80, -20, -40, -80]);
    const labels = f32([1, 0, 0, 1, 1, 0, 0, 1, 0.25, 0.75, 1, 1, 1, 0, 0, 0]);
    const d = { logits, labels, weights: labels, mask: labels };
    const got = await bce(d, 1);
    const ref = bceRef(d, 1);
    expect(got.loss.every(Number.isFinite) && got.grad.every(Number.isFinite)).toBe(true);
    // Relative only: the losses go down to e^-80 ~ 1.8e-35, and they must keep their digits.
    expectClose(got.loss, ref.loss, { atol: 0, rtol: 1e-5 }, 'loss');
    expectClose(got.grad, ref.grad, { atol: 0, rtol: 1e-5 }, 'grad');
  });

  it('has the gradient of the reference loss (central differences, weights and mask)', () => {
    const d = bceData(new Rng(12), 40, 2);
    const f = (x: Float64Array): number => sum(bceWithLogitsRef(x, d.labels, 0.3, { weights: d.weights, mask: d.mask }).loss);
    const g = bceWithLogitsRef(d.logits, d.labels, 0.3, { weights: d.weights, mask: d.mask }).grad;
    expectGradient(f, d.logits, g, [0, 1, 2, 3, 5, 8, 13, 21, 34, 39], 'bce');
  });

  it('drops elements of weight 0 exactly (NaN labels there), and weights 1/present with scale 1 give the mean over the labels present', async () => {
    const rng = new Rng(15);
    const n = 300;
    const d = bceData(rng, n);
    const present = d.mask.reduce((s, m) => s + m, 0);
    const weights = d.mask.map((m) => m / present);
    const labels = d.labels.map((y, i) => (d.mask[i] === 0 ? NaN : y));
    for (const masked of [false, true]) {
      const inputs: Record<string, Host> = { logits: d.logits, labels, weights, scale: f32([1]), ...(masked ? { mask: d.mask } : {}) };
      const got = await run((scope) => BceWithLogits.create(t.gpu, { n }, { weighted: true, masked }, scope), inputs, { loss: n, grad: n });
      const ref = bceWithLogitsRef(d.logits, d.labels, 1, { weights });
      expectClose(got.loss, ref.loss, tol, 'loss');
      expectClose(got.grad, ref.grad, tol, 'grad');
      for (let i = 0; i < n; i++) if (weights[i] === 0) expect([got.loss[i], got.grad[i]], `element ${i}`).toEqual([0, 0]);
      const mean = bceWithLogitsRef(d.logits.filter((_, i) => d.mask[i] !== 0), d.labels.filter((_, i) => d.mask[i] !== 0), 1 / present).loss;
      expect(sum(got.loss)).toBeCloseTo(sum(mean), 5);
    }
  });

  it('handles one element', async () => {
    const got = await bce({ logits: f32([0]), labels: f32([1]), weights: f32([1]), mask: f32([1]) }, 0.5);
    // log(2) / 2 and (0.5 - 1) / 2; f32 rounding of log(2) only.
    expect(got.loss[0]).toBeCloseTo(Math.LN2 / 2, 6);
    expect(got.grad[0]).toBe(-0.25);
  });

  it('splits dispatches past 65535 workgroups', async () => {
    // 70,000 workgroups of 64. Drawing 4.5M elements of each input would dominate the test:
    // tile 4099 drawn ones (a prime period, so no row of 64 repeats another).
    const tile = bceData(new Rng(13), 4099);
    const n = 70_000 * 64;
    const tiled = (a: Float32Array): Float32Array => Float32Array.from({ length: n }, (_, i) => a[i % a.length]);
    const d = { logits: tiled(tile.logits), labels: tiled(tile.labels), weights: tile.weights, mask: tile.mask };
    const got = await bce(d, 1e-3);
    const ref = bceRef(d, 1e-3);
    expectClose(got.loss, ref.loss, { atol: 1e-10, rtol: 1e-5 }, 'loss');
    expectClose(got.grad, ref.grad, { atol: 1e-10, rtol: 1e-5 }, 'grad');
  });

  it('gives identical bits on two runs', async () => {
    const d = bceData(new Rng(14), 777);
    const a = await bce(d, 1 / 3, { weighted: true, masked: true });
    const b = await bce(d, 1 / 3, { weighted: true, masked: true });
    expectSameBits(a.loss, b.loss, 'loss');
    expectSameBits(a.grad, b.grad, 'grad');
  });

  it('rejects empty input, short buffers and missing or unexpected optional buffers before dispatch', async () => {
    const { gpu } = t;
    await expect(BceWithLogits.create(gpu, { n: 0 })).rejects.toThrow(/bce_with_logits: n must be an integer >= 1, got 0/);
    await expect(BceWithLogits.create(gpu, { n: 2.5 })).rejects.toThrow(KernelError);
    const limit = gpu.device.limits.maxStorageBufferBindingSize;
    await expect(BceWithLogits.create(gpu, { n: limit / 4 + 1 })).rejects.toThrow(/maxStorageBufferBindingSize/);
    const scope = gpu.buffers.scope();
    try {
      const k = await BceWithLogits.create(gpu, { n: 10 }, { masked: true }, scope);
      const b = (bytes: number): GPUBuffer => scope.create('b', bytes);
      const ok = { logits: b(40), labels: b(40), mask: b(40), scale: b(4), loss: b(40), grad: b(40) };
      expect(() => k.bind({ ...ok, grad: b(36) })).toThrow(/bce_with_logits: grad_logits has 36 bytes but shape \[n=10\] needs 40/);
      expect(() => k.bind({ ...ok, mask: undefined })).toThrow(/bce_with_logits: was created with masked: true, so bind needs mask/);
      expect(() => k.bind({ ...ok, weights: b(40) })).toThrow(/bce_with_logits: got weights but was created without weighted: true/);
      expect(() => k.bind(ok)).not.toThrow();
    } finally {
      scope.destroy();
    }
  });
});

// ---- pairwise ranking --------------------------------------------------------------------

async function ranking(kind: RankingKind, pos: Float32Array, neg: Float32Array, scale: number) {
  const n = pos.length;
  return run(
    (scope) => RankingLoss.create(t.gpu, { n }, { kind }, scope),
    { pos, neg, scale: f32([scale]) },
    { loss: n, gradPos: n, gradNeg: n },
  );
}

describe('ranking_loss', () => {
  // A sigmoid or a softplus and two roundings: a few ulp, relative; atol for results near 0.
  const tol = { atol: 1e-8, rtol: 1e-5 };

  for (const kind of ['cs330', 'bpr'] as const) {
    it(`${kind}: matches the float64 reference at n = 333`, async () => {
      const rng = new Rng(21);
      const pos = normals(rng, 333, 3);
      const neg = normals(rng, 333, 3);
      const got = await ranking(kind, pos, neg, 1 / 333);
      const ref = rankingRef(kind, pos, neg, 1 / 333);
      expectClose(got.loss, ref.loss, tol, 'loss');
      expectClose(got.gradPos, ref.gradPos, tol, 'gradPos');
      expectClose(got.gradNeg, ref.gradNeg, tol, 'gradNeg');
    });

    it(`${kind}: stays finite for score gaps of ±80 and ±1e4`, async () => {
      const pos = f32([1e4, -1e4, 80, -80, 0, 5e3, 40, -40]);
      const neg = f32([-1e4, 1e4, 0, 0, 80, -5e3, -40, 40]);
      const got = await ranking(kind, pos, neg, 1);
      const ref = rankingRef(kind, pos, neg, 1);
      for (const a of [got.loss, got.gradPos, got.gradNeg]) expect(a.every(Number.isFinite)).toBe(true);
      // Relative only, down to e^-160: tiny losses and gradients keep their digits.
      expectClose(got.loss, ref.loss, { atol: 0, rtol: 1e-5 }, 'loss');
      expectClose(got.gradPos, ref.gradPos, { atol: 0, rtol: 1e-5 }, 'gradPos');
      expectClose(got.gradNeg, ref.gradNeg, { atol: 0, rtol: 1e-5 }, 'gradNeg');
    });

    it(`${kind}: has the gradient of the reference loss w.r.t. both scores (central differences)`, () => {
      const rng = new Rng(22);
      const pos = normals(rng, 12, 2);
      const neg = normals(rng, 12, 2);
      const ref = rankingRef(kind, pos, neg, 0.25);
      const at = [0, 3, 7, 11];
      expectGradient((x) => sum(rankingRef(kind, x, neg, 0.25).loss), pos, ref.gradPos, at, `${kind} pos`);
      expectGradient((x) => sum(rankingRef(kind, pos, x, 0.25).loss), neg, ref.gradNeg, at, `${kind} neg`);
    });
  }

  it('handles one pair and names bad kinds and empty input', async () => {
    const got = await ranking('bpr', f32([0]), f32([0]), 1);
    expect(got.loss[0]).toBeCloseTo(Math.LN2, 6);
    expect([got.gradPos[0], got.gradNeg[0]]).toEqual([-0.5, 0.5]);
    await expect(RankingLoss.create(t.gpu, { n: 0 }, { kind: 'bpr' })).rejects.toThrow(/ranking_loss: n must be an integer >= 1/);
    await expect(RankingLoss.create(t.gpu, { n: 1 }, { kind: 'hinge' as RankingKind })).rejects.toThrow(/ranking_loss: kind must be 'cs330' or 'bpr'/);
  });
});

// ---- BCE on a product of probabilities (ESMM) ----------------------------------------------

async function bceProduct(a: Float32Array, b: Float32Array, labels: Float32Array, scale: number, weights?: Float32Array) {
  const n = a.length;
  const inputs: Record<string, Host> = { a, b, labels, scale: f32([scale]), ...(weights ? { weights } : {}) };
  return run((scope) => BceOnProduct.create(t.gpu, { n }, { weighted: !!weights }, scope), inputs, { loss: n, gradA: n, gradB: n });
}

describe('bce_on_product', () => {
  it('matches the float64 reference at random logits, hard and soft labels, and drops weight-0 elements (NaN labels there)', async () => {
    const rng = new Rng(41);
    const n = 1001;
    const a = normals(rng, n, 3);
    const b = normals(rng, n, 3);
    const labels = Float32Array.from({ length: n }, (_, i) => (i % 3 === 2 ? rng.uniform() : i % 3));
    const weights = Float32Array.from({ length: n }, () => (rng.uniform() < 0.3 ? 0 : rng.uniform()));
    // Soft labels make the gradient a difference of two terms: atol for where they cancel.
    const tol = { atol: 1e-7, rtol: 2e-5 };
    const got = await bceProduct(a, b, labels, 1 / 9);
    const ref = bceOnProductRef(a, b, labels, 1 / 9);
    expectClose(got.loss, ref.loss, tol, 'loss');
    expectClose(got.gradA, ref.gradA, tol, 'gradA');
    expectClose(got.gradB, ref.gradB, tol, 'gradB');
    const holes = labels.map((y, i) => (weights[i] === 0 ? NaN : y));
    const w = await bceProduct(a, b, holes, 1, weights);
    const wref = bceOnProductRef(a, b, labels, 1, weights);
    expectClose(w.loss, wref.loss, tol, 'weighted loss');
    expectClose(w.gradA, wref.gradA, tol, 'weighted gradA');
    expectClose(w.gradB, wref.gradB, tol, 'weighted gradB');
    for (let i = 0; i < n; i++) if (weights[i] === 0) expect([w.loss[i], w.gradA[i], w.gradB[i]], `element ${i}`).toEqual([0, 0, 0]);
  });

  it('keeps its digits for p near 0 and near 1, at logits up to ±50 (where p = σ(a)σ(b) then log(1 - p) fails)', async () => {
    const grid = [-50, -30, -17, -5, -1, -0.01, 0, 0.01, 1, 5, 17, 30, 50];
    const a: number[] = [];
    const b: number[] = [];
    const y: number[] = [];
    for (const x of grid) for (const z of grid) for (const label of [0, 1]) a.push(x), b.push(z), y.push(label);
    const got = await bceProduct(f32(a), f32(b), f32(y), 1);
    const ref = bceOnProductRef(a, b, y, 1);
    expect(got.loss.every(Number.isFinite) && got.gradA.every(Number.isFinite) && got.gradB.every(Number.isFinite)).toBe(true);
    // Hard labels: every result is one term (no cancellation), so relative error only: exp and
    // log of arguments up to ~100 cost ~100 ulp. The atol is f32's smallest normal: a GPU may
    // flush e^-100 (a subnormal) to 0.
    const rel = { atol: 1.2e-38, rtol: 2e-5 };
    expectClose(got.loss, ref.loss, rel, 'loss');
    expectClose(got.gradA, ref.gradA, rel, 'gradA');
    expectClose(got.gradB, ref.gradB, rel, 'gradB');
  });

  it('stays finite at logits of ±1e4 (past float64 exp), with the asymptotic values', async () => {
    const got = await bceProduct(f32([1e4, 1e4, -1e4, -1e4, 1e4]), f32([1e4, 1e4, -1e4, -1e4, -1e4]), f32([0, 1, 1, 0, 1]), 1);
    // 1 - p = 2e^-1e4 (y 0: loss 1e4 - log 2, d/da 1/2); p = e^-2e4 (y 1: loss 2e4, d/da -1);
    // y 0 at p = e^-2e4: 0; p = e^-1e4 with y 1: loss 1e4, d/da -0, d/db -1.
    // f32 logits of 1e4 are known to 1e-3 (their ulp), and so is any difference of such terms.
    const near = { atol: 0, rtol: 1e-3 };
    expectClose(got.loss, [1e4 - Math.LN2, 0, 2e4, 0, 1e4], near, 'loss');
    expectClose(got.gradA, [0.5, 0, -1, 0, 0], near, 'gradA');
    expectClose(got.gradB, [0.5, 0, -1, 0, -1], near, 'gradB');
  });

  it('has the gradient of the reference loss (central differences), p near 0 and 1 included', () => {
    const a = Float64Array.from([0.3, -1.2, 2.5, 8, -8, 12, -3, 0, 15, -15]);
    const b = Float64Array.from([-0.7, 0.4, 1.5, 9, 3, 11, -9, 0, -2, 14]);
    for (const labels of [f32([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]), f32([1, 0, 1, 0, 1, 0, 1, 0, 1, 0]), f32([0.3, 0.6, 0.9, 0.1, 0.5, 0.2, 0.7, 0.4, 0.8, 0.05])]) {
      const w = f32([1, 0.5, 2, 1, 1, 0.3, 1, 1, 1, 1]);
      const ref = bceOnProductRef(a, b, labels, 0.7, w);
      expectGradient((x) => sum(bceOnProductRef(x, b, labels, 0.7, w).loss), a, ref.gradA, [...a.keys()], 'bce on product, a');
      expectGradient((x) => sum(bceOnProductRef(a, x, labels, 0.7, w).loss), b, ref.gradB, [...b.keys()], 'bce on product, b');
    }
  });

  it('handles one element and rejects missing weights', async () => {
    const got = await bceProduct(f32([0]), f32([0]), f32([0]), 1);
    // p = 1/4: loss log(4/3), d/da = σ(0) p / (1 - p) = 1/6.
    expect(got.loss[0]).toBeCloseTo(Math.log(4 / 3), 6);
    expect(got.gradA[0]).toBeCloseTo(1 / 6, 6);
    const k = await BceOnProduct.create(t.gpu, { n: 1 }, { weighted: true });
    const buf = t.gpu.buffers.scope();
    const x = buf.create('x', 4);
    expect(() => k.bind({ a: x, b: buf.create('b', 4), labels: buf.create('y', 4), scale: buf.create('s', 4), loss: buf.create('l', 4), gradA: buf.create('ga', 4), gradB: buf.create('gb', 4) })).toThrow(/bce_on_product: was created with weighted: true, so bind needs weights/);
    buf.destroy();
  });
});

// ---- MSE ---------------------------------------------------------------------------------

async function mse(pred: Float32Array, target: Float32Array, scale: number, mask?: Float32Array, weights?: Float32Array) {
  const n = pred.length;
  const inputs: Record<string, Host> = { pred, target, scale: f32([scale]) };
  if (mask) inputs.mask = mask;
  if (weights) inputs.weights = weights;
  return run((scope) => MseLoss.create(t.gpu, { n }, { masked: !!mask, weighted: !!weights }, scope), inputs, { loss: n, grad: n });
}

describe('mse_loss', () => {
  // A difference, a square and a scale: 3 roundings; atol for differences that cancel to ~0.
  const tol = { atol: 1e-7, rtol: 3e-7 };

  it('matches the float64 reference, unmasked and masked (NaN targets under the mask)', async () => {
    const rng = new Rng(31);
    const n = 517;
    const pred = normals(rng, n, 3);
    const target = Float32Array.from({ length: n }, () => 1 + Math.floor(5 * rng.uniform()));
    const mask = Float32Array.from({ length: n }, () => (rng.uniform() < 0.5 ? 0 : 1));
    const plain = await mse(pred, target, 1 / n);
    const ref = mseRef(pred, target, 1 / n);
    expectClose(plain.loss, ref.loss, tol, 'loss');
    expectClose(plain.grad, ref.grad, tol, 'grad');
    const holes = target.map((v, i) => (mask[i] === 0 ? NaN : v));
    const masked = await mse(pred, holes, 1 / n, mask);
    const mref = mseRef(pred, target, 1 / n, { mask });
    expectClose(masked.loss, mref.loss, tol, 'masked loss');
    expectClose(masked.grad, mref.grad, tol, 'masked grad');
  });

  it('matches the float64 reference with weights (NaN targets at weight 0 give exactly 0), with and without a mask', async () => {
    const rng = new Rng(34);
    const n = 333;
    const pred = normals(rng, n, 3);
    const target = normals(rng, n, 3);
    const mask = Float32Array.from({ length: n }, () => (rng.uniform() < 0.2 ? 0 : 1));
    const weights = Float32Array.from({ length: n }, () => (rng.uniform() < 0.3 ? 0 : rng.uniform()));
    for (const m of [undefined, mask]) {
      const holes = target.map((v, i) => (weights[i] === 0 || (m && m[i] === 0) ? NaN : v));
      const got = await mse(pred, holes, 0.25, m, weights);
      const ref = mseRef(pred, target, 0.25, { weights, mask: m });
      expectClose(got.loss, ref.loss, tol, 'loss');
      expectClose(got.grad, ref.grad, tol, 'grad');
      for (let i = 0; i < n; i++) if (weights[i] === 0) expect([got.loss[i], got.grad[i]], `element ${i}`).toEqual([0, 0]);
    }
    const g = mseRef(pred, target, 0.1, { weights, mask }).grad;
    expectGradient((x) => sum(mseRef(x, target, 0.1, { weights, mask }).loss), pred, g, [0, 1, 2, 4, 9, 100, 332], 'weighted mse');
  });

  it('has the gradient of the reference loss (central differences)', () => {
    const rng = new Rng(32);
    const pred = normals(rng, 10);
    const target = normals(rng, 10);
    const mask = f32([1, 0, 1, 1, 0, 1, 1, 1, 0, 1]);
    const g = mseRef(pred, target, 0.1, { mask }).grad;
    expectGradient((x) => sum(mseRef(x, target, 0.1, { mask }).loss), pred, g, [0, 1, 2, 4, 9], 'mse');
  });

  it('handles one element, gives identical bits on two runs, and rejects empty input', async () => {
    const one = await mse(f32([3]), f32([1]), 0.5);
    expect([one.loss[0], one.grad[0]]).toEqual([2, 2]);
    const rng = new Rng(33);
    const pred = normals(rng, 300);
    const target = normals(rng, 300);
    const a = await mse(pred, target, 1 / 3);
    const b = await mse(pred, target, 1 / 3);
    expectSameBits(a.loss, b.loss, 'loss');
    expectSameBits(a.grad, b.grad, 'grad');
    await expect(MseLoss.create(t.gpu, { n: 0 })).rejects.toThrow(/mse_loss: n must be an integer >= 1, got 0/);
  });
});

// ---- softmax cross-entropy ----------------------------------------------------------------

interface CeData {
  logits: Float32Array;
  labels: Uint32Array;
  weights: Float32Array;
}

function ceData(rng: Rng, rows: number, cols: number, sd = 3): CeData {
  return {
    logits: normals(rng, rows * cols, sd),
    labels: Uint32Array.from({ length: rows }, () => rng.int(cols)),
    // Some rows weigh 0: the support rows of a few-shot episode.
    weights: Float32Array.from({ length: rows }, () => (rng.uniform() < 0.25 ? 0 : 2 * rng.uniform())),
  };
}

async function ce(d: CeData, cols: number, scale: number, opts: CrossEntropyOptions = {}) {
  const rows = d.labels.length;
  const inputs: Record<string, Host> = { logits: d.logits, labels: d.labels, scale: f32([scale]) };
  if (opts.weighted) inputs.weights = d.weights;
  const outputs: Record<string, number> = { loss: rows, grad: rows * cols };
  if (opts.accuracy) outputs.correct = rows;
  return run((scope) => SoftmaxCrossEntropy.create(t.gpu, { rows, cols }, opts, scope), inputs, outputs);
}

const ceRef = (d: CeData, cols: number, scale: number, opts: CrossEntropyOptions = {}) =>
  softmaxCrossEntropyRef(d.logits, d.labels, cols, scale, opts.weighted ? d.weights : undefined);

function expectCe(got: Record<string, Float32Array>, ref: ReturnType<typeof ceRef>, cols: number, what: string): void {
  // The row sum of up to `cols` exponentials in f32, its log1p and the scale: relative error
  // grows like sqrt(cols) ulp; 2e-5 leaves room at 1683 classes. atol: gradients near 0.
  const tol = { atol: 1e-7, rtol: 2e-5 };
  expectClose(got.loss, ref.loss, tol, `${what}: loss`);
  expectClose(got.grad, ref.grad, tol, `${what}: grad`);
  if (got.correct) expectClose(got.correct, ref.correct, { atol: 0, rtol: 0 }, `${what}: correct`);
  void cols;
}

describe('softmax_cross_entropy', () => {
  const variants: CrossEntropyOptions[] = [{}, { weighted: true }, { accuracy: true }, { weighted: true, accuracy: true }];

  for (const strategy of ['rows', 'groups'] as const) {
    for (const v of variants) {
      it(`${strategy}: matches the float64 reference ${JSON.stringify(v)} at 5, 67 and 1683 classes`, async () => {
        const rng = new Rng(41);
        for (const [rows, cols] of [[129, 5], [33, 67], [7, 1683]]) {
          const d = ceData(rng, rows, cols);
          const opts = { ...v, strategy };
          expectCe(await ce(d, cols, 1 / rows, opts), ceRef(d, cols, 1 / rows, opts), cols, `[${rows}, ${cols}]`);
        }
      });
    }

    it(`${strategy}: stays finite at logits of ±80 and ±1e4, keeps tiny losses' digits, and takes the first of tied maxima`, async () => {
      const cols = 4;
      const logits = f32([
        1e4, -1e4, 0, 5, // label 0: loss ~ 0, label 1: 2e4
        -1e4, -1e4, 1e4, 1e4, // tie at 2 and 3
        80, -80, 0, 0, // tiny loss: ~ 2 e^-80
        30, 0, 0, 0, // tiny loss: ~ 3 e^-30
        0, 0, 0, 0, // all tied: argmax is column 0
        -80, -80, -80, 80,
      ]);
      const labels = Uint32Array.from([1, 3, 0, 0, 0, 2]);
      const d = { logits, labels, weights: f32([1, 1, 1, 1, 1, 1]) };
      const opts = { accuracy: true, strategy, groupSize: 2 };
      const got = await ce(d, cols, 1, opts);
      const ref = ceRef(d, cols, 1, opts);
      expect(got.loss.every(Number.isFinite) && got.grad.every(Number.isFinite)).toBe(true);
      expectClose(got.loss, ref.loss, { atol: 0, rtol: 1e-5 }, 'loss');
      expectClose(got.grad, ref.grad, { atol: 1e-30, rtol: 1e-5 }, 'grad');
      expect(Array.from(got.correct)).toEqual([0, 0, 1, 1, 1, 0]);
    });

    it(`${strategy}: gives identical bits on two runs`, async () => {
      const d = ceData(new Rng(42), 50, 300);
      const opts = { weighted: true, accuracy: true, strategy };
      const a = await ce(d, 300, 1 / 50, opts);
      const b = await ce(d, 300, 1 / 50, opts);
      for (const name of ['loss', 'grad', 'correct']) expectSameBits(a[name], b[name], name);
    });
  }

  it('groups: works at other workgroup sizes, one class, and one row', async () => {
    const rng = new Rng(43);
    for (const [rows, cols, groupSize] of [[9, 1683, 256], [9, 100, 1], [5, 1, 8], [1, 3, 64]]) {
      const d = ceData(rng, rows, cols);
      const opts = { weighted: true, accuracy: true, strategy: 'groups' as const, groupSize };
      expectCe(await ce(d, cols, 0.5, opts), ceRef(d, cols, 0.5, opts), cols, `[${rows}, ${cols}] groupSize ${groupSize}`);
    }
    const d = ceData(rng, 1, 1);
    expectCe(await ce(d, 1, 1, { accuracy: true }), ceRef(d, 1, 1, { accuracy: true }), 1, 'rows [1, 1]');
  });

  it('groups: splits past 65535 workgroups (one per row)', async () => {
    const rng = new Rng(44);
    const rows = 70_000;
    const d = ceData(rng, rows, 2);
    const opts = { accuracy: true, strategy: 'groups' as const, groupSize: 2 };
    expectCe(await ce(d, 2, 1, opts), ceRef(d, 2, 1, opts), 2, `[${rows}, 2]`);
  });

  it('has the gradient of the reference loss (central differences, weights)', () => {
    const rng = new Rng(45);
    const d = ceData(rng, 4, 6, 2);
    const g = softmaxCrossEntropyRef(d.logits, d.labels, 6, 0.25, d.weights).grad;
    const f = (x: Float64Array): number => sum(softmaxCrossEntropyRef(x, d.labels, 6, 0.25, d.weights).loss);
    expectGradient(f, d.logits, g, [0, 1, 5, 6, 11, 12, 17, 18, 23], 'softmax cross-entropy');
  });

  it('scores a row whose label is not a class as 0, and checkLabels names it on the host', async () => {
    const d = ceData(new Rng(46), 3, 4);
    d.labels[1] = 7;
    const got = await ce(d, 4, 1, { accuracy: true });
    expect([got.loss[1], got.correct[1], ...got.grad.subarray(4, 8)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => checkLabels(d.labels, 4)).toThrow(/softmax_cross_entropy: label 7 of row 1 is not a class in \[0, 4\)/);
  });

  it('rejects empty input, bad options and short or missing buffers before dispatch', async () => {
    const { gpu } = t;
    const k = SoftmaxCrossEntropy;
    await expect(k.create(gpu, { rows: 0, cols: 5 })).rejects.toThrow(/softmax_cross_entropy: rows must be an integer >= 1, got 0/);
    await expect(k.create(gpu, { rows: 5, cols: 0 })).rejects.toThrow(/softmax_cross_entropy: cols must be an integer >= 1, got 0/);
    await expect(k.create(gpu, { rows: 5, cols: 5 }, { strategy: 'groups', groupSize: 48 })).rejects.toThrow(/groupSize must be a power of two/);
    const scope = gpu.buffers.scope();
    try {
      const ce5 = await k.create(gpu, { rows: 3, cols: 5 }, { accuracy: true }, scope);
      const b = (bytes: number): GPUBuffer => scope.create('b', bytes);
      const ok = { logits: b(60), labels: b(12), scale: b(4), loss: b(12), grad: b(60), correct: b(12) };
      expect(() => ce5.bind({ ...ok, logits: b(56) })).toThrow(/softmax_cross_entropy: logits has 56 bytes but shape \[rows=3, cols=5\] needs 60/);
      expect(() => ce5.bind({ ...ok, correct: undefined })).toThrow(/was created with accuracy: true, so bind needs correct/);
      expect(() => ce5.bind(ok)).not.toThrow();
    } finally {
      scope.destroy();
    }
  });
});
