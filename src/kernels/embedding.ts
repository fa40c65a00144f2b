// Embedding gather (forward) and segmented scatter-add (backward): wrappers and float64 references.
import body from '../../shaders/embedding.wgsl';
import rowWalk from '../../shaders/row-walk.wgsl';
import type { Gpu } from '../gpu/context.ts';
import { checkInteger, elementsPerThread, grid1d, gridPerThread } from './kernel.ts';
import type { EntrySpec } from './spec.ts';

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

// ---- entry points ----------------------------------------------------------------------

/** out[i] = table[indices[i]], row by row. */
export function embeddingGather(gpu: Gpu, shape: EmbeddingShape): EntrySpec<'table' | 'indices' | 'out'> {
  const kernel = 'embedding_gather';
  checkShape(kernel, shape);
  const { rows, dim, n } = shape;
  const per = elementsPerThread(gpu);
  return {
    kernel,
    source,
    entry: 'gather',
    constants: { WG, PER: per },
    params: { gp: [n, dim, rows, 0] },
    sizes: { table: rows * dim * 4, indices: n * 4, out: n * dim * 4 },
    shape: fmt(shape),
    grid: gridPerThread(gpu, n * dim, WG, per),
  };
}

/**
 * grad_table[row] = sum of grad_out over the batch positions of that row, in the fixed order of
 * the packed CSR (graph/segments.ts's packSegments). Rows the batch does not touch are left as
 * they are. `accumulate`: add into the gradient (the table feeds several ops) instead of
 * overwriting its touched rows.
 */
export function embeddingBackward(gpu: Gpu, shape: EmbeddingShape, opts: { accumulate?: boolean } = {}): EntrySpec<'grad_out' | 'csr' | 'grad_table'> {
  const kernel = 'embedding_backward';
  checkShape(kernel, shape);
  const { rows, dim, n } = shape;
  return {
    kernel,
    source,
    entry: 'segment_sum',
    constants: { WG, ACCUMULATE: opts.accumulate ? 1 : 0 },
    params: { sp: [n, dim, segmentCapacity(shape), 0] },
    sizes: { grad_out: n * dim * 4, csr: csrWords(shape) * 4, grad_table: rows * dim * 4 },
    shape: fmt(shape),
    grid: grid1d(gpu, segmentCapacity(shape) * dim, WG),
  };
}
