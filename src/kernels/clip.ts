// Gradient clipping by global norm: squares (then a tree Sum of them, from reduce.ts) and the
// scaling by min(1, max_norm / (norm + 1e-6)), as torch.nn.utils.clip_grad_norm_.
import source from '../../shaders/clip.wgsl';
import type { Gpu } from '../gpu/context.ts';
import { checkInteger, f32Bits, grid1d, KernelError } from './kernel.ts';
import type { EntrySpec } from './spec.ts';

const WG = 64;

function clipSpec<B extends string>(gpu: Gpu, kernel: string, entry: string, n: number, maxNorm: number, sizes: Record<B, number>): EntrySpec<B> {
  checkInteger(kernel, 'n', n, 1);
  return { kernel, source, entry, constants: { WG }, params: { p: [n, f32Bits(maxNorm), 0, 0] }, sizes, shape: `[${n}]`, grid: grid1d(gpu, n, WG) };
}

/** sq = x ⊙ x. */
export function squared(gpu: Gpu, n: number): EntrySpec<'x' | 'sq'> {
  return clipSpec(gpu, 'squared', 'squared', n, 0, { x: n * 4, sq: n * 4 });
}

/** clipped = x · min(1, maxNorm / (sqrt(sumsq[0]) + 1e-6)). */
export function clipByNorm(gpu: Gpu, n: number, maxNorm: number): EntrySpec<'x' | 'sumsq' | 'clipped'> {
  if (!(maxNorm > 0 && Number.isFinite(maxNorm))) throw new KernelError('clip_by_norm', `maxNorm must be a finite number > 0, got ${maxNorm}`);
  return clipSpec(gpu, 'clip_by_norm', 'clip', n, maxNorm, { x: n * 4, sumsq: 4, clipped: n * 4 });
}

/** float64 reference: the clipped tensors and the total norm. */
export function clipGradNormRef(grads: readonly ArrayLike<number>[], maxNorm: number): { clipped: Float64Array[]; norm: number } {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  const norm = Math.sqrt(s);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  return { clipped: grads.map((g) => Float64Array.from(g as ArrayLike<number>, (v) => v * coef)), norm };
}
