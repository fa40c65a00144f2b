// Atomic compare-and-swap scatter-add (TensorFlow.js's and jax-js's embedding gradient): for
// the bench only, as the baseline of the deterministic segmented sum in embedding.ts. Its
// float64 reference is embedding.ts's scatterAddRef; its rounding depends on thread order.
import source from '../../shaders/scatter-atomic.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import type { EmbeddingShape } from './embedding.ts';
import { bindGroup, checkBindingSize, checkBufferSize, checkInteger, grid1d, KernelError, pipeline, type Dispatch } from './kernel.ts';

export interface ScatterAtomicOptions {
  /** Add into the existing gradient table (one dispatch) instead of clearing it first (two, as TF.js does). */
  accumulate?: boolean;
  /** Threads per workgroup (default 64). */
  wg?: number;
}

const fmt = (s: EmbeddingShape): string => `[rows=${s.rows}, dim=${s.dim}] with ${s.n} indices`;

export class ScatterAddAtomic {
  static readonly kernel = 'scatter_add_atomic';

  private constructor(
    private readonly gpu: Gpu,
    private readonly scatter: GPUComputePipeline,
    private readonly zero: GPUComputePipeline | null,
    private readonly params: GPUBuffer,
    private readonly fillParams: GPUBuffer | null,
    private readonly wg: number,
    readonly shape: EmbeddingShape,
  ) {}

  static async create(gpu: Gpu, shape: EmbeddingShape, opts: ScatterAtomicOptions = {}, scope: BufferScope = gpu.buffers): Promise<ScatterAddAtomic> {
    const k = ScatterAddAtomic.kernel;
    checkInteger(k, 'rows', shape.rows, 1);
    checkInteger(k, 'dim', shape.dim, 1);
    // An empty batch is a caller's mistake, as for EmbeddingBackward.
    checkInteger(k, 'n', shape.n, 1);
    const wg = opts.wg ?? 64;
    const maxWg = Math.min(gpu.device.limits.maxComputeInvocationsPerWorkgroup, gpu.device.limits.maxComputeWorkgroupSizeX);
    if (!Number.isInteger(wg) || wg < 1 || wg > maxWg) throw new KernelError(k, `wg must be an integer in [1, ${maxWg}], got ${wg}`);
    checkBindingSize(gpu, k, 'the gradient table', shape.rows * shape.dim * 4);
    checkBindingSize(gpu, k, 'the output gradient', shape.n * shape.dim * 4);
    const scatter = await pipeline(gpu, 'scatter-atomic', source, 'scatter_add_cas', { WG: wg });
    const zero = opts.accumulate ? null : await pipeline(gpu, 'scatter-atomic', source, 'zero', { WG: wg });
    const params = scope.uniform(`${k}.params`, [shape.n, shape.dim, shape.rows, 0]);
    const fillParams = opts.accumulate ? null : scope.uniform(`${k}.fill`, [shape.rows * shape.dim, 0, 0, 0]);
    return new ScatterAddAtomic(gpu, scatter, zero, params, fillParams, wg, shape);
  }

  /**
   * `indices` must be in [0, rows) (check them on the host as packSegments does;
   * the shader skips others rather than write outside the table).
   */
  bind(b: { gradOut: GPUBuffer; indices: GPUBuffer; gradTable: GPUBuffer }): Dispatch[] {
    const { rows, dim, n } = this.shape;
    const k = ScatterAddAtomic.kernel;
    checkBufferSize(k, 'gradOut', b.gradOut, n * dim * 4, fmt(this.shape));
    checkBufferSize(k, 'indices', b.indices, n * 4, fmt(this.shape));
    checkBufferSize(k, 'gradTable', b.gradTable, rows * dim * 4, fmt(this.shape));
    const out: Dispatch[] = [];
    if (this.zero && this.fillParams) {
      out.push({
        label: `${k}.zero`,
        pipeline: this.zero,
        bindGroup: bindGroup(this.gpu, this.zero, `${k}.zero`, { 4: this.fillParams, 5: b.gradTable }),
        grid: grid1d(this.gpu, rows * dim, this.wg),
      });
    }
    out.push({
      label: k,
      pipeline: this.scatter,
      bindGroup: bindGroup(this.gpu, this.scatter, k, { 0: this.params, 1: b.gradOut, 2: b.indices, 3: b.gradTable }),
      grid: grid1d(this.gpu, n * dim, this.wg),
    });
    return out;
  }
}
