// The fused factorization head + CS330 ranking loss (shaders/mf-ranking.wgsl) and its float64
// reference.
import source from '../../shaders/mf-ranking.wgsl';
import type { Gpu } from '../gpu/context.ts';
import { checkInteger, f32Bits, grid1d } from './kernel.ts';
import type { EntrySpec } from './spec.ts';

const WG = 64;

export interface MfShape {
  /** Ratings in the batch (positives; the items hold 2n rows). */
  n: number;
  dim: number;
}

type Common = 'u' | 'q' | 'a' | 'b' | 'loss' | 'du' | 'dq' | 'db';

function spec<B extends string>(gpu: Gpu, kernel: string, entry: string, shape: MfShape, scale: number, sizes: Record<B, number>): EntrySpec<B> {
  checkInteger(kernel, 'n', shape.n, 1);
  checkInteger(kernel, 'dim', shape.dim, 1);
  const { n, dim } = shape;
  return { kernel, source, entry, constants: { WG }, params: { p: [n, dim, f32Bits(scale), 0] }, sizes, shape: `${n} ratings of dim ${dim}`, grid: grid1d(gpu, n, WG) };
}

/** The batch's gathered biases a [n] and b [2n], the loss scale (weight / n) bound as scale [1]. */
export function mfRanking(gpu: Gpu, shape: MfShape): EntrySpec<Common | 'scale' | 'da'> {
  const { n, dim } = shape;
  const sizes = { scale: 4, u: n * dim * 4, q: 2 * n * dim * 4, a: n * 4, b: 2 * n * 4, loss: n * 4, du: n * dim * 4, dq: 2 * n * dim * 4, da: n * 4, db: 2 * n * 4 };
  return spec(gpu, 'mf_ranking', 'mf_ranking', shape, 0, sizes);
}

/**
 * a and b are the whole bias tables (any number of rows; the indices were checked on the host),
 * read at user_idx [n] and item_idx [2n] instead of gathered beforehand; the loss scale (weight
 * / n) is fixed here rather than bound, and da is not written (it is zero), to stay within ten
 * storage buffers.
 */
export function mfRankingIndexed(gpu: Gpu, shape: MfShape, scale: number): EntrySpec<Common | 'user_idx' | 'item_idx'> {
  const { n, dim } = shape;
  const sizes = { u: n * dim * 4, q: 2 * n * dim * 4, a: 4, b: 4, loss: n * 4, du: n * dim * 4, dq: 2 * n * dim * 4, db: 2 * n * 4, user_idx: n * 4, item_idx: 2 * n * 4 };
  return spec(gpu, 'mf_ranking', 'mf_ranking_indexed', shape, scale, sizes);
}

/** float64: loss terms and gradients as the kernel defines them (see the shader's header). */
export function mfRankingRef(u: ArrayLike<number>, q: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>, shape: MfShape, scale: number) {
  const { n, dim } = shape;
  const sig = (x: number): number => 1 / (1 + Math.exp(-x));
  const out = { loss: new Float64Array(n), du: new Float64Array(n * dim), dq: new Float64Array(2 * n * dim), da: new Float64Array(n), db: new Float64Array(2 * n) };
  for (let r = 0; r < n; r++) {
    let pos = a[r] + b[r];
    let neg = a[r] + b[n + r];
    for (let k = 0; k < dim; k++) {
      pos += u[r * dim + k] * q[r * dim + k];
      neg += u[r * dim + k] * q[(n + r) * dim + k];
    }
    const d = pos - neg;
    out.loss[r] = scale * (1 - sig(d));
    const g = -scale * sig(d) * sig(-d);
    for (let k = 0; k < dim; k++) {
      out.du[r * dim + k] = g * (q[r * dim + k] - q[(n + r) * dim + k]);
      out.dq[r * dim + k] = g * u[r * dim + k];
      out.dq[(n + r) * dim + k] = -g * u[r * dim + k];
    }
    out.db[r] = g;
    out.db[n + r] = -g;
  }
  return out;
}
