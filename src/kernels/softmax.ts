// Softmax over the last dimension (MMoE gates), forward and backward: wrappers and float64 references.
import source from '../../shaders/softmax.wgsl';
import type { Gpu } from '../gpu/context.ts';
import { checkInteger, grid1d } from './kernel.ts';
import type { EntrySpec } from './spec.ts';

const WG = 64;

/** x, y, dy, dx are all [rows, cols]; the softmax runs along cols. */
export interface SoftmaxShape {
  rows: number;
  cols: number;
}

const fmt = (s: SoftmaxShape): string => `[rows=${s.rows}, cols=${s.cols}]`;

function checkShape(kernel: string, s: SoftmaxShape): void {
  // Empty tensors are a caller's mistake: a recorded step always has work.
  checkInteger(kernel, 'rows', s.rows, 1);
  checkInteger(kernel, 'cols', s.cols, 1);
}

// ---- float64 references --------------------------------------------------------------

export function softmaxRef(x: ArrayLike<number>, cols: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += cols) {
    let m = -Infinity;
    for (let j = 0; j < cols; j++) m = Math.max(m, x[base + j]);
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.exp(x[base + j] - m);
    for (let j = 0; j < cols; j++) y[base + j] = Math.exp(x[base + j] - m) / s;
  }
  return y;
}

/** dx = y ⊙ (dy - sum_k dy_k y_k), row by row. */
export function softmaxBackwardRef(y: ArrayLike<number>, dy: ArrayLike<number>, cols: number): Float64Array {
  const dx = new Float64Array(y.length);
  for (let base = 0; base < y.length; base += cols) {
    let proj = 0;
    for (let j = 0; j < cols; j++) proj += dy[base + j] * y[base + j];
    for (let j = 0; j < cols; j++) dx[base + j] = y[base + j] * (dy[base + j] - proj);
  }
  return dx;
}

// ---- entry points ----------------------------------------------------------------------

/** y = softmax(x) along cols. One thread per row. */
export function softmaxForward(gpu: Gpu, shape: SoftmaxShape): EntrySpec<'x' | 'y'> {
  const kernel = 'softmax_forward';
  checkShape(kernel, shape);
  const bytes = shape.rows * shape.cols * 4;
  return {
    kernel,
    source,
    entry: 'softmax_forward',
    constants: { WG },
    params: { p: [shape.rows, shape.cols, 0, 0] },
    sizes: { x: bytes, y: bytes },
    shape: fmt(shape),
    grid: grid1d(gpu, shape.rows, WG),
  };
}

/**
 * dx = y ⊙ (dy - sum dy ⊙ y) from the forward's output y (y_in). One thread per row.
 * `accumulate`: add into dx (x feeds several ops) instead of overwriting it.
 */
export function softmaxBackward(gpu: Gpu, shape: SoftmaxShape, opts: { accumulate?: boolean } = {}): EntrySpec<'y_in' | 'dy' | 'dx'> {
  const kernel = 'softmax_backward';
  checkShape(kernel, shape);
  const bytes = shape.rows * shape.cols * 4;
  return {
    kernel,
    source,
    entry: 'softmax_backward',
    constants: { WG, ACCUMULATE: opts.accumulate ? 1 : 0 },
    params: { p: [shape.rows, shape.cols, 0, 0] },
    sizes: { y_in: bytes, dy: bytes, dx: bytes },
    shape: fmt(shape),
    grid: grid1d(gpu, shape.rows, WG),
  };
}
