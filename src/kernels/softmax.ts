// Softmax over the last dimension (MMoE gates), forward and backward: wrappers and float64 references.
import source from '../../shaders/softmax.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import { bindGroup, checkBindingSize, checkBufferSize, checkInteger, grid1d, pipeline, type Dispatch } from './kernel.ts';

const WG = 64;

/** x, y, dy, dx are all [rows, cols]; the softmax runs along cols. */
export interface SoftmaxShape {
  rows: number;
  cols: number;
}

const fmt = (s: SoftmaxShape): string => `[rows=${s.rows}, cols=${s.cols}]`;

function checkShape(gpu: Gpu, kernel: string, s: SoftmaxShape): void {
  // Empty tensors are a caller's mistake: a recorded step always has work.
  checkInteger(kernel, 'rows', s.rows, 1);
  checkInteger(kernel, 'cols', s.cols, 1);
  checkBindingSize(gpu, kernel, `a tensor ${fmt(s)}`, s.rows * s.cols * 4);
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

// ---- GPU wrappers ----------------------------------------------------------------------

/** y = softmax(x) along cols. Bindings: 0 params {rows, cols}, 1 x, 2 y (rw). One thread per row. */
export class SoftmaxForward {
  static readonly kernel = 'softmax_forward';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: SoftmaxShape,
  ) {}

  static async create(gpu: Gpu, shape: SoftmaxShape, scope: BufferScope = gpu.buffers): Promise<SoftmaxForward> {
    const k = SoftmaxForward.kernel;
    checkShape(gpu, k, shape);
    const pipe = await pipeline(gpu, 'softmax', source, 'softmax_forward', { WG });
    const params = scope.uniform(`${k}.params`, [shape.rows, shape.cols, 0, 0]);
    return new SoftmaxForward(gpu, pipe, params, shape);
  }

  bind(b: { x: GPUBuffer; y: GPUBuffer }): Dispatch {
    const k = SoftmaxForward.kernel;
    const bytes = this.shape.rows * this.shape.cols * 4;
    checkBufferSize(k, 'x', b.x, bytes, fmt(this.shape));
    checkBufferSize(k, 'y', b.y, bytes, fmt(this.shape));
    return {
      label: k,
      pipeline: this.pipe,
      bindGroup: bindGroup(this.gpu, this.pipe, k, { 0: this.params, 1: b.x, 2: b.y }),
      grid: grid1d(this.gpu, this.shape.rows, WG),
    };
  }
}

/**
 * dx = y ⊙ (dy - sum dy ⊙ y) from the forward's output y. Bindings: 0 params {rows, cols},
 * 3 y, 4 dy, 5 dx (rw). One thread per row.
 */
export class SoftmaxBackward {
  static readonly kernel = 'softmax_backward';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: SoftmaxShape,
  ) {}

  /** `accumulate`: add into dx (x feeds several ops) instead of overwriting it. */
  static async create(gpu: Gpu, shape: SoftmaxShape, opts: { accumulate?: boolean } = {}, scope: BufferScope = gpu.buffers): Promise<SoftmaxBackward> {
    const k = SoftmaxBackward.kernel;
    checkShape(gpu, k, shape);
    const pipe = await pipeline(gpu, 'softmax', source, 'softmax_backward', { WG, ACCUMULATE: opts.accumulate ? 1 : 0 });
    const params = scope.uniform(`${k}.params`, [shape.rows, shape.cols, 0, 0]);
    return new SoftmaxBackward(gpu, pipe, params, shape);
  }

  bind(b: { y: GPUBuffer; dy: GPUBuffer; dx: GPUBuffer }): Dispatch {
    const k = SoftmaxBackward.kernel;
    const bytes = this.shape.rows * this.shape.cols * 4;
    checkBufferSize(k, 'y', b.y, bytes, fmt(this.shape));
    checkBufferSize(k, 'dy', b.dy, bytes, fmt(this.shape));
    checkBufferSize(k, 'dx', b.dx, bytes, fmt(this.shape));
    return {
      label: k,
      pipeline: this.pipe,
      bindGroup: bindGroup(this.gpu, this.pipe, k, { 0: this.params, 3: b.y, 4: b.dy, 5: b.dx }),
      grid: grid1d(this.gpu, this.shape.rows, WG),
    };
  }
}
