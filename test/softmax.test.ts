// Softmax over the last dimension, forward and backward, against float64 references in Node and Chromium.
import { describe, expect, it } from 'vitest';
import { KernelError, submitDispatches } from '../src/kernels/kernel.ts';
import { softmaxBackward, softmaxBackwardRef, softmaxForward, softmaxRef, type SoftmaxShape } from '../src/kernels/softmax.ts';
import { Kernel } from '../src/kernels/spec.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

const normals = (rng: Rng, n: number, sd = 1): Float32Array => Float32Array.from({ length: n }, () => sd * rng.normal());

async function forward(shape: SoftmaxShape, x: Float32Array): Promise<Float32Array> {
  const { gpu, ring } = t;
  const scope = gpu.buffers.scope();
  try {
    const k = await Kernel.create(gpu, softmaxForward(gpu, shape), scope);
    const y = scope.create('y', x.byteLength);
    submitDispatches(gpu, [k.bind({ x: scope.upload('x', x), y })]);
    return await ring.readF32(y, x.length);
  } finally {
    scope.destroy();
  }
}

async function backward(shape: SoftmaxShape, y: Float32Array, dy: Float32Array, initial?: Float32Array): Promise<Float32Array> {
  const { gpu, ring } = t;
  const scope = gpu.buffers.scope();
  try {
    const k = await Kernel.create(gpu, softmaxBackward(gpu, shape, { accumulate: initial !== undefined }), scope);
    const dx = initial ? scope.upload('dx', initial) : scope.create('dx', y.byteLength);
    submitDispatches(gpu, [k.bind({ y_in: scope.upload('y', y), dy: scope.upload('dy', dy), dx })]);
    return await ring.readF32(dx, y.length);
  } finally {
    scope.destroy();
  }
}

// exp of values <= 0 and a row sum of `cols` terms in f32: a few ulp relative, growing like
// sqrt(cols); atol covers outputs that underflow (e^-2e4 is 0 in both).
const fwdTol = { atol: 1e-30, rtol: 2e-5 };
// dy - sum(dy y) cancels: the error is relative to max|dy| * y, so an absolute 1e-6 on O(1) data.
const bwdTol = { atol: 1e-6, rtol: 1e-5 };

describe('softmax forward', () => {
  it('matches the float64 reference with rows not a multiple of 64 and 1, 8, 1683 columns', async () => {
    const rng = new Rng(51);
    for (const [rows, cols] of [[1001, 8], [3, 1683], [65, 1]]) {
      const x = normals(rng, rows * cols, 3);
      expectClose(await forward({ rows, cols }, x), softmaxRef(x, cols), fwdTol, `[${rows}, ${cols}]`);
    }
  });

  it('stays finite at logits of ±80 and ±1e4, ties included', async () => {
    const x = Float32Array.from([1e4, -1e4, 0, 1e4, 80, -80, 0, 0, -1e4, -1e4, -1e4, -1e4, 80, 80, -80, 79]);
    const y = await forward({ rows: 4, cols: 4 }, x);
    expect(y.every(Number.isFinite)).toBe(true);
    expectClose(y, softmaxRef(x, 4), fwdTol, 'y');
  });

  it('handles one element and gives identical bits on two runs', async () => {
    expect(Array.from(await forward({ rows: 1, cols: 1 }, Float32Array.from([-3])))).toEqual([1]);
    const x = normals(new Rng(52), 300 * 7);
    expectSameBits(await forward({ rows: 300, cols: 7 }, x), await forward({ rows: 300, cols: 7 }, x), 'two runs');
  });

  it('splits dispatches past 65535 workgroups', async () => {
    // 66,000 workgroups of 64 rows; 2 columns drawn once and tiled (drawing 8M would dominate).
    const rows = 66_000 * 64;
    const tile = normals(new Rng(53), 2 * 4099);
    const x = Float32Array.from({ length: rows * 2 }, (_, i) => tile[i % tile.length]);
    expectClose(await forward({ rows, cols: 2 }, x), softmaxRef(x, 2), fwdTol, 'y');
  });

  it('rejects empty input and short buffers before dispatch, naming the kernel and shape', async () => {
    const { gpu } = t;
    expect(() => softmaxForward(gpu, { rows: 0, cols: 4 })).toThrow(/softmax_forward: rows must be an integer >= 1, got 0/);
    expect(() => softmaxBackward(gpu, { rows: 4, cols: 0 })).toThrow(/softmax_backward: cols must be an integer >= 1, got 0/);
    expect(() => softmaxForward(gpu, { rows: 1.5, cols: 4 })).toThrow(KernelError);
    const scope = gpu.buffers.scope();
    try {
      const k = await Kernel.create(gpu, softmaxBackward(gpu, { rows: 3, cols: 5 }), scope);
      expect(() => k.bind({ y_in: scope.create('y', 60), dy: scope.create('dy', 56), dx: scope.create('dx', 60) })).toThrow(
        /softmax_backward: dy has 56 bytes but shape \[rows=3, cols=5\] needs 60/,
      );
    } finally {
      scope.destroy();
    }
  });
});

describe('softmax backward', () => {
  it('matches the float64 reference from the GPU forward output', async () => {
    const rng = new Rng(54);
    for (const [rows, cols] of [[257, 8], [5, 300], [3, 1]]) {
      const x = normals(rng, rows * cols, 2);
      const dy = normals(rng, rows * cols);
      const y = await forward({ rows, cols }, x);
      expectClose(await backward({ rows, cols }, y, dy), softmaxBackwardRef(y, dy, cols), bwdTol, `[${rows}, ${cols}]`);
    }
  });

  it('is the gradient of sum(dy ⊙ softmax(x)): central differences of the float64 forward', () => {
    const rng = new Rng(55);
    const cols = 6;
    const x = normals(rng, 3 * cols, 2);
    const dy = normals(rng, 3 * cols);
    const loss = (v: Float64Array): number => softmaxRef(v, cols).reduce((s, yv, i) => s + yv * dy[i], 0);
    const g = softmaxBackwardRef(softmaxRef(x, cols), dy, cols);
    // float64, h = 1e-5: truncation and rounding both below 1e-9 here.
    const h = 1e-5;
    for (const j of [0, 1, 5, 6, 11, 17]) {
      const plus = Float64Array.from(x);
      const minus = Float64Array.from(x);
      plus[j] += h;
      minus[j] -= h;
      const fd = (loss(plus) - loss(minus)) / (2 * h);
      expect(Math.abs(fd - g[j]), `d loss / d x[${j}]`).toBeLessThan(1e-8 * (1 + Math.abs(fd)));
    }
  });

  it('accumulates into dx, and gives identical bits on two runs', async () => {
    const rng = new Rng(56);
    const shape = { rows: 100, cols: 9 };
    const y = Float32Array.from(softmaxRef(normals(rng, 900), 9));
    const dy = normals(rng, 900);
    const initial = normals(rng, 900);
    const got = await backward(shape, y, dy, initial);
    const ref = softmaxBackwardRef(y, dy, 9).map((v, i) => v + initial[i]);
    expectClose(got, ref, bwdTol, 'accumulated dx');
    expectSameBits(await backward(shape, y, dy), await backward(shape, y, dy), 'two runs');
  });

  it('handles one element', async () => {
    expect(Array.from(await backward({ rows: 1, cols: 1 }, Float32Array.from([1]), Float32Array.from([2.5])))).toEqual([0]);
  });
});
