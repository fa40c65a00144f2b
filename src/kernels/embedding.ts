// Embedding gather (forward) and segmented scatter-add (backward): wrappers and float64 references.
import body from '../../shaders/embedding.wgsl';
import rowWalk from '../../shaders/row-walk.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import { bindGroup, checkBindingSize, checkBufferSize, checkInteger, elementsPerThread, grid1d, gridPerThread, pipeline, type Dispatch } from './kernel.ts';

const source = `${body}\n${rowWalk}`;

const WG = 64;

export interface EmbeddingShape {
  /** Rows in the table. */
  rows: number;
  /** Columns per row. */
  dim: number;
  /** Indices per batch. */
  n: number;
}

function checkShape(kernel: string, s: EmbeddingShape): void {
  checkInteger(kernel, 'rows', s.rows, 1);
  checkInteger(kernel, 'dim', s.dim, 1);
  // An empty batch is a caller's mistake: a recorded step always has work.
  checkInteger(kernel, 'n', s.n, 1);
}

const fmt = (s: EmbeddingShape): string => `[rows=${s.rows}, dim=${s.dim}] with ${s.n} indices`;

// ---- float64 references --------------------------------------------------------------

export function gatherRef(table: ArrayLike<number>, indices: ArrayLike<number>, dim: number): Float64Array {
  const out = new Float64Array(indices.length * dim);
  for (let i = 0; i < indices.length; i++) {
    for (let d = 0; d < dim; d++) out[i * dim + d] = table[indices[i] * dim + d];
  }
  return out;
}

export function scatterAddRef(gradOut: ArrayLike<number>, indices: ArrayLike<number>, rows: number, dim: number): Float64Array {
  const g = new Float64Array(rows * dim);
  for (let i = 0; i < indices.length; i++) {
    for (let d = 0; d < dim; d++) g[indices[i] * dim + d] += gradOut[i * dim + d];
  }
  return g;
}

// ---- host-side CSR ---------------------------------------------------------------------

/** Most segments a batch of n indices can have. */
export function segmentCapacity(shape: EmbeddingShape): number {
  return Math.min(shape.n, shape.rows);
}

/** u32 words of the packed CSR: [nseg | seg_row (cap) | seg_start (cap + 1) | perm (n)]. */
export function csrWords(shape: EmbeddingShape): number {
  return 2 + 2 * segmentCapacity(shape) + shape.n;
}

// ---- GPU wrappers ----------------------------------------------------------------------

export class EmbeddingGather {
  static readonly kernel = 'embedding_gather';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: EmbeddingShape,
    private readonly per: number,
  ) {}

  static async create(gpu: Gpu, shape: EmbeddingShape, scope: BufferScope = gpu.buffers): Promise<EmbeddingGather> {
    const k = EmbeddingGather.kernel;
    checkShape(k, shape);
    checkBindingSize(gpu, k, 'the table', shape.rows * shape.dim * 4);
    checkBindingSize(gpu, k, 'the output', shape.n * shape.dim * 4);
    const per = elementsPerThread(gpu);
    const pipe = await pipeline(gpu, 'embedding', source, 'gather', { WG, PER: per });
    const params = scope.uniform(`${k}.params`, [shape.n, shape.dim, shape.rows, 0]);
    return new EmbeddingGather(gpu, pipe, params, shape, per);
  }

  bind(b: { table: GPUBuffer; indices: GPUBuffer; out: GPUBuffer }): Dispatch {
    const { rows, dim, n } = this.shape;
    const k = EmbeddingGather.kernel;
    checkBufferSize(k, 'table', b.table, rows * dim * 4, fmt(this.shape));
    checkBufferSize(k, 'indices', b.indices, n * 4, fmt(this.shape));
    checkBufferSize(k, 'out', b.out, n * dim * 4, fmt(this.shape));
    return {
      label: k,
      pipeline: this.pipe,
      bindGroup: bindGroup(this.gpu, this.pipe, k, { 0: this.params, 1: b.table, 2: b.indices, 3: b.out }),
      grid: gridPerThread(this.gpu, n * dim, WG, this.per),
    };
  }
}

export class EmbeddingBackward {
  static readonly kernel = 'embedding_backward';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: EmbeddingShape,
  ) {}

  /** `accumulate`: add into the gradient (the table feeds several ops) instead of overwriting its touched rows. */
  static async create(gpu: Gpu, shape: EmbeddingShape, opts: { accumulate?: boolean } = {}, scope: BufferScope = gpu.buffers): Promise<EmbeddingBackward> {
    const k = EmbeddingBackward.kernel;
    checkShape(k, shape);
    checkBindingSize(gpu, k, 'the gradient table', shape.rows * shape.dim * 4);
    const pipe = await pipeline(gpu, 'embedding', source, 'segment_sum', { WG, ACCUMULATE: opts.accumulate ? 1 : 0 });
    const params = scope.uniform(`${k}.params`, [shape.n, shape.dim, segmentCapacity(shape), 0]);
    return new EmbeddingBackward(gpu, pipe, params, shape);
  }

  /** `csr` holds `packSegments` of the batch's indices. Rows the batch does not touch are left as they are. */
  bind(b: { gradOut: GPUBuffer; csr: GPUBuffer; gradTable: GPUBuffer }): Dispatch {
    const { rows, dim, n } = this.shape;
    const k = EmbeddingBackward.kernel;
    checkBufferSize(k, 'gradOut', b.gradOut, n * dim * 4, fmt(this.shape));
    checkBufferSize(k, 'csr', b.csr, csrWords(this.shape) * 4, fmt(this.shape));
    checkBufferSize(k, 'gradTable', b.gradTable, rows * dim * 4, fmt(this.shape));
    return {
      label: k,
      pipeline: this.pipe,
      bindGroup: bindGroup(this.gpu, this.pipe, k, { 4: this.params, 5: b.gradOut, 6: b.csr, 7: b.gradTable }),
      grid: grid1d(this.gpu, segmentCapacity(this.shape) * dim, WG),
    };
  }
}
