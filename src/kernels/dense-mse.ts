// A dense layer to one output with its mean squared error, forward and backward
// (shaders/dense-mse.wgsl), and the float64 reference.
import source from '../../shaders/dense-mse.wgsl';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import { bindGroup, checkBufferSize, checkInteger, KernelError, pipeline, type Dispatch } from './kernel.ts';
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
    private readonly gpu: Gpu,
    private readonly rowsPipe: GPUComputePipeline,
    private readonly columnsPipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: DenseMseShape,
    /** Bound in place of dhSum when the kernel does not write it: 'auto' layouts keep the binding. */
    private readonly noSums: GPUBuffer | null,
  ) {}

  /**
   * `relu`: the input is the previous layer's pre-activation z; h = max(z, 0) and dh becomes dz.
   * `dhSums`: also write dh's column sums (bind `dhSum`), in the bias-gradient kernel's order.
   */
  static async create(gpu: Gpu, shape: DenseMseShape, scope: BufferScope = gpu.buffers, opts: { relu?: boolean; dhSums?: boolean } = {}): Promise<DenseMse> {
    checkInteger(DenseMse.kernel, 'rows', shape.rows, 1);
    checkInteger(DenseMse.kernel, 'hidden', shape.hidden, 1);
    const limit = gpu.device.limits.maxComputeWorkgroupsPerDimension * ROWS_WG * ROWS_PER;
    if (shape.rows > limit) throw new KernelError(DenseMse.kernel, `${shape.rows} rows need more than ${limit} threads in one dimension; split the batch`);
    const [rowsPipe, columnsPipe] = await Promise.all([
      pipeline(gpu, 'dense-mse', source, 'dense_mse_rows', { WG: ROWS_WG, RELU: Number(!!opts.relu) }),
      pipeline(gpu, 'dense-mse', source, 'dense_mse_columns', { WG: COLS_WG, CHUNK: BIAS_GRAD_CHUNK, RELU: Number(!!opts.relu), DH_SUMS: Number(!!opts.dhSums) }),
    ]);
    const noSums = opts.dhSums ? null : scope.create(`${DenseMse.kernel}.no-sums`, 16);
    return new DenseMse(gpu, rowsPipe, columnsPipe, scope.uniform(`${DenseMse.kernel}.params`, [shape.rows, shape.hidden, 0, 0]), { ...shape }, noSums);
  }

  /** Two dispatches: rows (loss, g), then columns (dw, dh, db). */
  bind(x: DenseMseBuffers): Dispatch[] {
    const k = DenseMse.kernel;
    const { rows, hidden } = this.shape;
    const what = `${rows} rows of ${hidden}`;
    const sizes: [Exclude<keyof DenseMseBuffers, 'dhSum'>, number][] = [
      ['scale', 1], ['h', rows * hidden], ['w', hidden], ['bias', 1], ['target', rows],
      ['loss', rows], ['g', rows], ['dh', rows * hidden], ['dw', hidden], ['db', 1],
    ];
    for (const [name, count] of sizes) checkBufferSize(k, name, x[name], count * 4, what);
    if (!this.noSums && !x.dhSum) throw new KernelError(k, 'created with dhSums: bind a dhSum buffer of hidden floats');
    if (this.noSums && x.dhSum) throw new KernelError(k, 'a dhSum buffer was given but the kernel was created without dhSums');
    const dhSum = x.dhSum ?? (this.noSums as GPUBuffer);
    if (x.dhSum) checkBufferSize(k, 'dhSum', x.dhSum, hidden * 4, what);
    const shared = { 0: this.params, 1: x.scale, 2: x.h, 3: x.w, 4: x.bias, 5: x.target };
    return [
      {
        label: `${k}.rows`,
        pipeline: this.rowsPipe,
        bindGroup: bindGroup(this.gpu, this.rowsPipe, `${k}.rows`, { ...shared, 6: x.loss, 7: x.g }),
        grid: [Math.ceil(rows / ROWS_PER / ROWS_WG), 1],
      },
      {
        label: `${k}.columns`,
        pipeline: this.columnsPipe,
        bindGroup: bindGroup(this.gpu, this.columnsPipe, `${k}.columns`, { 0: this.params, 2: x.h, 3: x.w, 8: x.dh, 9: x.g, 10: x.dw, 11: x.db, 12: dhSum }),
        // One thread per COLS_PER columns, and one for db.
        grid: [Math.ceil((Math.ceil(hidden / COLS_PER) + 1) / COLS_WG), 1],
      },
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
