// Atomic compare-and-swap scatter-add (TensorFlow.js's and jax-js's embedding gradient): the
// bench's baseline for the deterministic segmented sum in src/kernels/embedding.ts. Its float64
// reference is embedding.ts's scatterAddRef; its rounding depends on thread order.
import source from './scatter-atomic.wgsl';
import type { BufferScope } from '../../src/gpu/buffers.ts';
import type { Gpu } from '../../src/gpu/context.ts';
import type { EmbeddingShape } from '../../src/kernels/embedding.ts';
import { checkInteger, grid1d, KernelError, type Dispatch } from '../../src/kernels/kernel.ts';
import { Kernel } from '../../src/kernels/spec.ts';

export interface ScatterAtomicOptions {
  /** Add into the existing gradient table (one dispatch) instead of clearing it first (two, as TF.js does). */
  accumulate?: boolean;
  /** Threads per workgroup (default 64). */
  wg?: number;
}

export class ScatterAddAtomic {
  static readonly kernel = 'scatter_add_atomic';

  private constructor(
    private readonly scatter: Kernel<'grad_out' | 'indices' | 'grad_table'>,
    private readonly zero: Kernel<'cells'> | null,
  ) {}

  static async create(gpu: Gpu, shape: EmbeddingShape, opts: ScatterAtomicOptions = {}, scope: BufferScope = gpu.buffers): Promise<ScatterAddAtomic> {
    const kernel = ScatterAddAtomic.kernel;
    const { rows, dim, n } = shape;
    checkInteger(kernel, 'rows', rows, 1);
    checkInteger(kernel, 'dim', dim, 1);
    // An empty batch is a caller's mistake, as for EmbeddingBackward.
    checkInteger(kernel, 'n', n, 1);
    const wg = opts.wg ?? 64;
    const maxWg = Math.min(gpu.device.limits.maxComputeInvocationsPerWorkgroup, gpu.device.limits.maxComputeWorkgroupSizeX);
    if (!Number.isInteger(wg) || wg < 1 || wg > maxWg) throw new KernelError(kernel, `wg must be an integer in [1, ${maxWg}], got ${wg}`);
    const common = { kernel, source, constants: { WG: wg }, shape: `[rows=${rows}, dim=${dim}] with ${n} indices` };
    const [scatter, zero] = await Promise.all([
      Kernel.create(
        gpu,
        { ...common, entry: 'scatter_add_cas', params: { sp: [n, dim, rows, 0] }, sizes: { grad_out: n * dim * 4, indices: n * 4, grad_table: rows * dim * 4 }, grid: grid1d(gpu, n * dim, wg) },
        scope,
      ),
      opts.accumulate
        ? null
        : Kernel.create(gpu, { ...common, kernel: `${kernel}.zero`, entry: 'zero', params: { fp: [rows * dim, 0, 0, 0] }, sizes: { cells: rows * dim * 4 }, grid: grid1d(gpu, rows * dim, wg) }, scope),
    ]);
    return new ScatterAddAtomic(scatter, zero);
  }

  /**
   * `indices` must be in [0, rows) (check them on the host as packSegments does;
   * the shader skips others rather than write outside the table).
   */
  bind(b: { gradOut: GPUBuffer; indices: GPUBuffer; gradTable: GPUBuffer }): Dispatch[] {
    const scatter = this.scatter.bind({ grad_out: b.gradOut, indices: b.indices, grad_table: b.gradTable });
    return this.zero ? [this.zero.bind({ cells: b.gradTable }), scatter] : [scatter];
  }
}
