// Held-out ranks for MRR on the GPU (shaders/rank.wgsl), and the float64 reference.
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import source from '../../shaders/rank.wgsl';
import { bindGroup, checkBufferSize, checkInteger, grid1d, pipeline, type Dispatch } from './kernel.ts';

const WG = 64;

export interface RankShape {
  /** Rows of the score matrix (users, row 0 included when ids start at 1). */
  users: number;
  /** Columns of the score matrix: every item id. */
  items: number;
  /** Held-out (user, item) pairs. */
  pairs: number;
}

/** u32 words per user in the training mask. */
export const maskWords = (items: number): number => Math.ceil(items / 32);

/** The training mask: bit `item` of row `user` is set when the pair is in the training split. */
export function ratedMask(users: ArrayLike<number>, items: ArrayLike<number>, shape: { users: number; items: number }): Uint32Array {
  const words = maskWords(shape.items);
  const mask = new Uint32Array(shape.users * words);
  for (let i = 0; i < users.length; i++) mask[users[i] * words + (items[i] >>> 5)] |= 1 << (items[i] & 31);
  return mask;
}

export class Rank {
  static readonly kernel = 'rank';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: RankShape,
  ) {}

  static async create(gpu: Gpu, shape: RankShape, scope: BufferScope = gpu.buffers): Promise<Rank> {
    const k = Rank.kernel;
    for (const key of ['users', 'items', 'pairs'] as const) checkInteger(k, key, shape[key], 1);
    const pipe = await pipeline(gpu, 'rank', source, 'rank', { WG });
    const params = scope.uniform(`${k}.params`, [shape.pairs, shape.items, maskWords(shape.items), 0]);
    return new Rank(gpu, pipe, params, { ...shape });
  }

  bind(b: { scores: GPUBuffer; users: GPUBuffer; items: GPUBuffer; rated: GPUBuffer; ranks: GPUBuffer }): Dispatch {
    const k = Rank.kernel;
    const s = this.shape;
    const what = `${s.pairs} pairs over ${s.users}x${s.items} scores`;
    checkBufferSize(k, 'scores', b.scores, s.users * s.items * 4, what);
    checkBufferSize(k, 'users', b.users, s.pairs * 4, what);
    checkBufferSize(k, 'items', b.items, s.pairs * 4, what);
    checkBufferSize(k, 'rated', b.rated, s.users * maskWords(s.items) * 4, what);
    checkBufferSize(k, 'ranks', b.ranks, s.pairs * 4, what);
    const resources = { 0: this.params, 1: b.scores, 2: b.users, 3: b.items, 4: b.rated, 5: b.ranks };
    return { label: k, pipeline: this.pipe, bindGroup: bindGroup(this.gpu, this.pipe, k, resources), grid: grid1d(this.gpu, s.pairs, WG) };
  }
}

/**
 * Reference: the course's procedure literally — negate the scores, set the rated items to the
 * largest float, rank ascending with ties averaged, read off the held-out item's rank.
 */
export function rankRef(scores: ArrayLike<number>, users: ArrayLike<number>, items: ArrayLike<number>, rated: Uint32Array, shape: { items: number }): Float64Array {
  const words = maskWords(shape.items);
  const out = new Float64Array(users.length);
  for (let t = 0; t < users.length; t++) {
    const u = users[t];
    const key = (k: number): number => ((rated[u * words + (k >>> 5)] >>> (k & 31)) & 1 ? Number.MAX_VALUE : -scores[u * shape.items + k]);
    const mine = key(items[t]);
    let less = 0;
    let same = 0;
    for (let k = 0; k < shape.items; k++) {
      const v = key(k);
      if (v < mine) less++;
      else if (v === mine) same++;
    }
    out[t] = less + (same + 1) / 2; // average of positions less+1 .. less+same
  }
  return out;
}

/** Mean over users of the mean reciprocal rank of that user's held-out items. */
export function meanReciprocalRank(users: ArrayLike<number>, ranks: ArrayLike<number>): number {
  const sum = new Map<number, { rr: number; n: number }>();
  for (let t = 0; t < users.length; t++) {
    const e = sum.get(users[t]) ?? { rr: 0, n: 0 };
    e.rr += 1 / ranks[t];
    e.n += 1;
    sum.set(users[t], e);
  }
  let total = 0;
  for (const e of sum.values()) total += e.rr / e.n;
  return sum.size ? total / sum.size : NaN;
}
