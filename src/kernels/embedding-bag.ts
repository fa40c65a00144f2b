// Embedding bag (shaders/embedding-bag.wgsl): out[r] = Σ src[idx] over row r's CSR list (+ bias).
// Forward x·W for a 0/1 x from its active indices; backward dW = xᵀ·dY through the transposed
// CSR, built on the host. Wrapper, host-side CSR helpers and the float64 reference.
import source from '../../shaders/embedding-bag.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import { checkInteger, grid1d, KernelError, type Dispatch } from './kernel.ts';
import { Kernel, type EntrySpec } from './spec.ts';

const WG = 64;

export interface EmbeddingBagShape {
  /** Output rows (bags). */
  rows: number;
  /** Columns of src and out. */
  dim: number;
  /** Rows of src: the table forward, the bags backward. */
  srcRows: number;
  /** Index slots of the CSR: the most entries any batch may have (the graph's shapes are static). */
  capacity: number;
}

/**
 * - scalar: one column per thread.
 * - vec4: four columns per thread with vec4 loads (dim a multiple of 4), a quarter of the index
 *   reads and loop trips.
 * - vec4x8: 32 columns per thread (dim a multiple of 32); on SwiftShader about 2× vec4.
 * All add the same terms in the same order: the same bits.
 */
export const EMBEDDING_BAG_VARIANTS = ['scalar', 'vec4', 'vec4x8'] as const;

/** Columns per thread of each variant. */
const COLUMNS: Record<EmbeddingBagVariant, number> = { scalar: 1, vec4: 4, vec4x8: 32 };
const ENTRY: Record<EmbeddingBagVariant, string> = { scalar: 'bag_sum', vec4: 'bag_sum_vec4', vec4x8: 'bag_sum_vec4x8' };

/** The widest variant `dim` allows. */
export function defaultBagVariant(dim: number): EmbeddingBagVariant {
  return dim % 32 === 0 ? 'vec4x8' : dim % 4 === 0 ? 'vec4' : 'scalar';
}
export type EmbeddingBagVariant = (typeof EMBEDDING_BAG_VARIANTS)[number];

const fmt = (s: EmbeddingBagShape): string => `[rows=${s.rows}, dim=${s.dim}] from ${s.srcRows} source rows, ${s.capacity} index slots`;

/** u32 words of a CSR: [off (rows + 1) | idx (capacity)]. */
export function bagCsrWords(rows: number, capacity: number): number {
  return rows + 1 + capacity;
}

/**
 * Checks a packed CSR on the host (offsets start at 0, never decrease, end within the capacity;
 * every index below srcRows), naming the first problem. Returns the number of entries.
 */
export function checkBagCsr(csr: ArrayLike<number>, shape: EmbeddingBagShape, kernel = EmbeddingBag.kernel): number {
  const { rows, capacity, srcRows } = shape;
  if (csr.length < rows + 1) throw new KernelError(kernel, `the CSR has ${csr.length} words, fewer than the ${rows + 1} offsets of ${fmt(shape)}`);
  if (csr[0] !== 0) throw new KernelError(kernel, `the CSR's first offset must be 0, got ${csr[0]}`);
  for (let r = 0; r < rows; r++) {
    if (!(csr[r + 1] >= csr[r])) throw new KernelError(kernel, `CSR offsets decrease at row ${r}: ${csr[r]} then ${csr[r + 1]}`);
  }
  const nnz = csr[rows];
  if (nnz > capacity) throw new KernelError(kernel, `the batch has ${nnz} entries, more than the ${capacity} slots of ${fmt(shape)}`);
  if (csr.length < rows + 1 + nnz) throw new KernelError(kernel, `the CSR has ${csr.length} words, but its offsets need ${rows + 1 + nnz}`);
  for (let k = 0; k < nnz; k++) {
    const v = csr[rows + 1 + k];
    if (!(v < srcRows)) throw new KernelError(kernel, `index ${v} at slot ${k} is out of range for ${srcRows} source rows`);
  }
  return nnz;
}

// ---- float64 reference -------------------------------------------------------------------

/** out[r, :] = Σ src[idx, :] over row r's list (+ bias), in float64. */
export function bagSumRef(src: ArrayLike<number>, csr: ArrayLike<number>, rows: number, dim: number, bias?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    for (let k = csr[r]; k < csr[r + 1]; k++) {
      const s = csr[rows + 1 + k];
      for (let d = 0; d < dim; d++) out[r * dim + d] += src[s * dim + d];
    }
    if (bias) for (let d = 0; d < dim; d++) out[r * dim + d] += bias[d];
  }
  return out;
}

// ---- GPU wrapper ---------------------------------------------------------------------------

export interface EmbeddingBagOptions {
  /** Add bias[dim] to every row (the forward of a layer with a bias). */
  bias?: boolean;
  /** Default: the widest the dim allows (defaultBagVariant). */
  variant?: EmbeddingBagVariant;
}

export class EmbeddingBag {
  static readonly kernel = 'embedding_bag';

  private constructor(
    private readonly k: Kernel<string>,
    /** Bound in place of a bias when there is none: 'auto' layouts keep the binding. */
    private readonly noBias: GPUBuffer | null,
    readonly shape: EmbeddingBagShape,
    readonly options: Readonly<Required<EmbeddingBagOptions>>,
  ) {}

  static async create(gpu: Gpu, shape: EmbeddingBagShape, opts: EmbeddingBagOptions = {}, scope: BufferScope = gpu.buffers): Promise<EmbeddingBag> {
    const kernel = EmbeddingBag.kernel;
    const { rows, dim, srcRows, capacity } = shape;
    checkInteger(kernel, `rows of ${fmt(shape)}`, rows, 1);
    checkInteger(kernel, `dim of ${fmt(shape)}`, dim, 1);
    checkInteger(kernel, `srcRows of ${fmt(shape)}`, srcRows, 1);
    checkInteger(kernel, `capacity of ${fmt(shape)}`, capacity, 1);
    const variant = opts.variant ?? defaultBagVariant(dim);
    if (!EMBEDDING_BAG_VARIANTS.includes(variant)) throw new KernelError(kernel, `unknown variant "${String(variant)}"; choose one of ${EMBEDDING_BAG_VARIANTS.join(', ')}`);
    if (dim % COLUMNS[variant] !== 0) throw new KernelError(kernel, `variant ${variant} needs dim a multiple of ${COLUMNS[variant]}, got ${dim}`);
    if (rows * dim > 0xffffffff || srcRows * dim > 0xffffffff) throw new KernelError(kernel, `${fmt(shape)} is too large for u32 indexing`);
    const bias = !!opts.bias;
    // The vec4 variants read the same buffers through their vec4 bindings; without a bias a stand-in is bound.
    const [srcName, biasName, outName] = variant === 'scalar' ? ['src', 'bias', 'out'] : ['src4', 'bias4', 'out4'];
    const spec: EntrySpec<string> = {
      kernel,
      source,
      entry: ENTRY[variant],
      constants: { WG, HAS_BIAS: Number(bias) },
      params: { p: [rows, dim, srcRows, capacity] },
      sizes: { csr: bagCsrWords(rows, capacity) * 4, [srcName]: srcRows * dim * 4, [biasName]: bias ? dim * 4 : 16, [outName]: rows * dim * 4 },
      shape: fmt(shape),
      grid: grid1d(gpu, (rows * dim) / COLUMNS[variant], WG),
    };
    const k = await Kernel.create(gpu, spec, scope);
    const noBias = bias ? null : scope.create(`${kernel}.no-bias`, 16);
    return new EmbeddingBag(k, noBias, shape, { bias, variant });
  }

  /** csr: the packed CSR (checkBagCsr); src [srcRows, dim]; bias [dim] when created with bias; out [rows, dim]. */
  bind(b: { csr: GPUBuffer; src: GPUBuffer; out: GPUBuffer; bias?: GPUBuffer }): Dispatch {
    const k = EmbeddingBag.kernel;
    if (this.options.bias && !b.bias) throw new KernelError(k, `created with bias: bind a bias buffer of ${this.shape.dim} floats`);
    if (!this.options.bias && b.bias) throw new KernelError(k, 'a bias buffer was given but the kernel was created without bias: create it with { bias: true }');
    const bias = (b.bias ?? this.noBias) as GPUBuffer;
    const variant = this.options.variant;
    const d = this.k.bind(variant === 'scalar' ? { csr: b.csr, src: b.src, bias, out: b.out } : { csr: b.csr, src4: b.src, bias4: bias, out4: b.out });
    return { ...d, label: `${k}.${variant}` };
  }
}
