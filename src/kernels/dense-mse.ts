// A dense layer to one output with its mean squared error, forward and backward
// (shaders/dense-mse.wgsl), and the float64 reference.
import source from '../../shaders/dense-mse.wgsl';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import { checkInteger, KernelError, type Dispatch } from './kernel.ts';
import { Kernel } from './spec.ts';
import { BIAS_GRAD_CHUNK } from './matmul.ts';

// Small workgroups: at the recommender's size the passes have only 64 and 17 threads, and
// small ones keep at least two workgroups (on SwiftShader 8 to 32 measured the same).
const ROWS_WG = 16;
const COLS_WG = 8;
// The shader's ROWS_PER and COLS_PER: rows (columns) per thread.
const ROWS_PER = 4;
const COLS_PER = 4;

export interface DenseMseShape {
  rows: number;
  hidden: number;
}

export interface DenseMseBuffers {
  /** One float: weight / rows. */
  scale: GPUBuffer;
  h: GPUBuffer;
  w: GPUBuffer;
  bias: GPUBuffer;
  target: GPUBuffer;
  loss: GPUBuffer;
  /** dL/dpred per row, written by the first pass and read by the second. */
  g: GPUBuffer;
  dh: GPUBuffer;
  dw: GPUBuffer;
  db: GPUBuffer;
  /** dh's column sums [hidden] (the input layer's bias gradient): only when created with `dhSums`. */
  dhSum?: GPUBuffer;
}

export class DenseMse {
  static readonly kernel = 'dense_mse';

  private constructor(
    private readonly rows: Kernel<'scale' | 'h_in' | 'w' | 'bias' | 'truth' | 'loss' | 'g'>,
    private readonly columns: Kernel<'h_in' | 'w' | 'dh' | 'g_in' | 'dw' | 'db' | 'dh_sum'>,
    /** Bound in place of dhSum when the kernel does not write it: 'auto' layouts keep the binding. */
    private readonly noSums: GPUBuffer | null,
  ) {}

  /**
   * `relu`: the input is the previous layer's pre-activation z; h = max(z, 0) and dh becomes dz.
   * `dhSums`: also write dh's column sums (bind `dhSum`), in the bias-gradient kernel's order.
   */
  static async create(gpu: Gpu, shape: DenseMseShape, opts: { relu?: boolean; dhSums?: boolean } = {}, scope: BufferScope = gpu.buffers): Promise<DenseMse> {
    const kernel = DenseMse.kernel;
    const { rows, hidden } = shape;
    checkInteger(kernel, 'rows', rows, 1);
    checkInteger(kernel, 'hidden', hidden, 1);
    const limit = gpu.device.limits.maxComputeWorkgroupsPerDimension * ROWS_WG * ROWS_PER;
    if (rows > limit) throw new KernelError(kernel, `${rows} rows need more than ${limit} threads in one dimension; split the batch`);
    const common = { kernel, source, params: { p: [rows, hidden, 0, 0] }, shape: `${rows} rows of ${hidden}` };
    const [rowsPass, columnsPass] = await Promise.all([
      Kernel.create(
        gpu,
        {
          ...common,
          entry: 'dense_mse_rows',
          constants: { WG: ROWS_WG, RELU: Number(!!opts.relu) },
          sizes: { scale: 4, h_in: rows * hidden * 4, w: hidden * 4, bias: 4, truth: rows * 4, loss: rows * 4, g: rows * 4 },
          grid: [Math.ceil(rows / ROWS_PER / ROWS_WG), 1],
        },
        scope,
      ),
      Kernel.create(
        gpu,
        {
          ...common,
          entry: 'dense_mse_columns',
          constants: { WG: COLS_WG, CHUNK: BIAS_GRAD_CHUNK, RELU: Number(!!opts.relu), DH_SUMS: Number(!!opts.dhSums) },
          sizes: { h_in: rows * hidden * 4, w: hidden * 4, dh: rows * hidden * 4, g_in: rows * 4, dw: hidden * 4, db: 4, dh_sum: opts.dhSums ? hidden * 4 : 4 },
          // One thread per COLS_PER columns, and one for db.
          grid: [Math.ceil((Math.ceil(hidden / COLS_PER) + 1) / COLS_WG), 1],
        },
        scope,
      ),
    ]);
    const noSums = opts.dhSums ? null : scope.create(`${kernel}.no-sums`, 16);
    return new DenseMse(rowsPass, columnsPass, noSums);
  }

  /** Two dispatches: rows (loss, g), then columns (dw, dh, db). */
  bind(x: DenseMseBuffers): Dispatch[] {
    const k = DenseMse.kernel;
    if (!this.noSums && !x.dhSum) throw new KernelError(k, 'created with dhSums: bind a dhSum buffer of hidden floats');
    if (this.noSums && x.dhSum) throw new KernelError(k, 'a dhSum buffer was given but the kernel was created without dhSums');
    const dhSum = x.dhSum ?? (this.noSums as GPUBuffer);
    return [
      { ...this.rows.bind({ scale: x.scale, h_in: x.h, w: x.w, bias: x.bias, truth: x.target, loss: x.loss, g: x.g }), label: `${k}.rows` },
      { ...this.columns.bind({ h_in: x.h, w: x.w, dh: x.dh, g_in: x.g, dw: x.dw, db: x.db, dh_sum: dhSum }), label: `${k}.columns` },
    ];
  }
}

/** float64: the loss terms and every gradient the two passes write (`relu`: `h` holds z; dh is dz; dhSum its column sums). */
export function denseMseRef(hIn: ArrayLike<number>, w: ArrayLike<number>, bias: number, target: ArrayLike<number>, shape: DenseMseShape, scale: number, relu = false) {
  const { rows, hidden } = shape;
  const h = relu ? Float64Array.from(hIn, (z) => Math.max(z, 0)) : hIn;
  const loss = new Float64Array(rows);
  const g = new Float64Array(rows);
  const dh = new Float64Array(rows * hidden);
  const dw = new Float64Array(hidden);
  let db = 0;
  const dhSum = new Float64Array(hidden);
  for (let r = 0; r < rows; r++) {
    let pred = bias;
    for (let j = 0; j < hidden; j++) pred += h[r * hidden + j] * w[j];
    const e = pred - target[r];
    loss[r] = scale * e * e;
    g[r] = 2 * scale * e;
    db += g[r];
    for (let j = 0; j < hidden; j++) {
      dh[r * hidden + j] = relu && !(hIn[r * hidden + j] > 0) ? 0 : g[r] * w[j];
      dhSum[j] += dh[r * hidden + j];
      dw[j] += h[r * hidden + j] * g[r];
    }
  }
  return { loss, g, dh, dw, db, dhSum };
}
