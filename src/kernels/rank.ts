// Held-out ranks for MRR on the GPU (shaders/rank.wgsl), and the float64 reference.
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import portableSource from '../../shaders/rank.wgsl';
import sgBody from '../../shaders/rank-sg.wgsl';
import { bindGroup, checkBindingSize, checkBufferSize, checkInteger, grid1d, KernelError, pipeline, type Dispatch } from './kernel.ts';

const WG = 64;

// The subgroup part must not reach a device without subgroups: it is its own file, compiled
// only behind `enable subgroups;`.
const sgSource = `enable subgroups;\n${portableSource}\n${sgBody}`;

/**
 * The ways to compute the same ranks (bit for bit):
 * - pair: one thread per pair (any device).
 * - sg4: up to four pairs of one user per subgroup of four lanes, which share the score loads;
 *   four small passes lay the pairs out so first (see shaders/rank.wgsl). Needs subgroups of
 *   exactly four invocations (SwiftShader), see rankVariantFor.
 */
export const RANK_VARIANTS = ['pair', 'sg4'] as const;
export type RankVariant = (typeof RANK_VARIANTS)[number];

/** The variants this device can run: sg4 needs subgroups of exactly four invocations. */
export function rankVariantsFor(gpu: Gpu): RankVariant[] {
  return RANK_VARIANTS.filter((v) => v !== 'sg4' || gpu.fixedSubgroupSize === 4);
}

/** The default: sg4 where it runs (SwiftShader, where it is about 3x faster), else pair. */
export function rankVariantFor(gpu: Gpu): RankVariant {
  return rankVariantsFor(gpu).includes('sg4') ? 'sg4' : 'pair';
}

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

/**
 * Slots of sg4's quad layout: each user with n pairs takes 4·⌈n/4⌉ ≤ n + 3 of them, and at
 * most min(users, pairs) users have pairs. Rounded up to whole workgroups.
 */
export const quadSlots = (s: RankShape): number => Math.ceil((s.pairs + 3 * Math.min(s.users, s.pairs)) / WG) * WG;

/** sg4's own buffers: the quad layout; per user a pair count and first slot; per pair its place among its user's. */
interface Layout {
  pipes: { clear: GPUComputePipeline; count: GPUComputePipeline; scan: GPUComputePipeline; place: GPUComputePipeline };
  slots: GPUBuffer;
  counts: GPUBuffer;
  starts: GPUBuffer;
  order: GPUBuffer;
}

export class Rank {
  static readonly kernel = 'rank';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    private readonly layout: Layout | null,
    readonly shape: RankShape,
    readonly variant: RankVariant,
  ) {}

  /**
   * Uniform (binding 0, fixed): u32 [pairs, items, words, users, slots, bits of -∞, 0, 0].
   * Bindings: 1 scores, 2 users, 3 items, 4 rated, 5 ranks (read_write); sg4 adds its own
   * 6 slots, 7 counts, 8 starts, 9 order. The variant defaults to rankVariantFor(gpu).
   */
  static async create(gpu: Gpu, shape: RankShape, scope: BufferScope = gpu.buffers, opts: { variant?: RankVariant } = {}): Promise<Rank> {
    const k = Rank.kernel;
    for (const key of ['users', 'items', 'pairs'] as const) checkInteger(k, key, shape[key], 1);
    // Ranks (and sg4's float sums) are whole or half numbers up to `items`: exact in f32 below 2^23.
    if (shape.items >= 2 ** 23) throw new KernelError(k, `items must be below 2^23 for exact f32 ranks, got ${shape.items}`);
    const variant = opts.variant ?? rankVariantFor(gpu);
    if (!RANK_VARIANTS.includes(variant)) throw new KernelError(k, `unknown variant "${String(variant)}"; choose one of ${RANK_VARIANTS.join(', ')}`);
    if (!rankVariantsFor(gpu).includes(variant)) {
      throw new KernelError(k, `variant sg4 needs the subgroups feature with subgroups of exactly 4 invocations; this device has ${gpu.fixedSubgroupSize === null ? 'no fixed subgroup size' : `subgroups of ${gpu.fixedSubgroupSize}`}`);
    }
    const slots = variant === 'sg4' ? quadSlots(shape) : 0;
    const params = scope.uniform(`${k}.params`, [shape.pairs, shape.items, maskWords(shape.items), shape.users, slots, 0xff800000, 0, 0]);
    if (variant === 'pair') return new Rank(gpu, await pipeline(gpu, 'rank', portableSource, 'rank', { WG }), params, null, { ...shape }, variant);
    checkBindingSize(gpu, k, `the quad layout of ${shape.pairs} pairs`, slots * 4);
    const [pipe, clear, count, scan, place] = await Promise.all([
      pipeline(gpu, 'rank', sgSource, 'rank_sg4', { WG }),
      ...(['rank_clear', 'rank_count', 'rank_scan', 'rank_place'] as const).map((e) => pipeline(gpu, 'rank', portableSource, e, e === 'rank_scan' ? {} : { WG })),
    ]);
    const layout: Layout = {
      pipes: { clear, count, scan, place },
      slots: scope.create(`${k}.slots`, slots * 4),
      counts: scope.create(`${k}.counts`, shape.users * 4),
      starts: scope.create(`${k}.starts`, shape.users * 4),
      order: scope.create(`${k}.order`, shape.pairs * 4),
    };
    return new Rank(gpu, pipe, params, layout, { ...shape }, variant);
  }

  /** pair: one dispatch; sg4: the layout's four passes, then the ranks. Inputs may change between runs. */
  bind(b: { scores: GPUBuffer; users: GPUBuffer; items: GPUBuffer; rated: GPUBuffer; ranks: GPUBuffer }): Dispatch[] {
    const k = Rank.kernel;
    const s = this.shape;
    const what = `${s.pairs} pairs over ${s.users}x${s.items} scores`;
    checkBufferSize(k, 'scores', b.scores, s.users * s.items * 4, what);
    checkBufferSize(k, 'users', b.users, s.pairs * 4, what);
    checkBufferSize(k, 'items', b.items, s.pairs * 4, what);
    checkBufferSize(k, 'rated', b.rated, s.users * maskWords(s.items) * 4, what);
    checkBufferSize(k, 'ranks', b.ranks, s.pairs * 4, what);
    const gpu = this.gpu;
    const L = this.layout;
    if (!L) {
      const resources = { 0: this.params, 1: b.scores, 2: b.users, 3: b.items, 4: b.rated, 5: b.ranks };
      return [{ label: `${k}.pair`, pipeline: this.pipe, bindGroup: bindGroup(gpu, this.pipe, k, resources), grid: grid1d(gpu, s.pairs, WG) }];
    }
    const slots = quadSlots(s);
    const { clear, count, scan, place } = L.pipes;
    return [
      { label: `${k}.clear`, pipeline: clear, bindGroup: bindGroup(gpu, clear, k, { 0: this.params, 6: L.slots, 7: L.counts }), grid: grid1d(gpu, Math.max(s.users, slots), WG) },
      { label: `${k}.count`, pipeline: count, bindGroup: bindGroup(gpu, count, k, { 0: this.params, 2: b.users, 7: L.counts, 9: L.order }), grid: grid1d(gpu, s.pairs, WG) },
      { label: `${k}.scan`, pipeline: scan, bindGroup: bindGroup(gpu, scan, k, { 0: this.params, 7: L.counts, 8: L.starts }), grid: [1, 1] },
      { label: `${k}.place`, pipeline: place, bindGroup: bindGroup(gpu, place, k, { 0: this.params, 2: b.users, 6: L.slots, 8: L.starts, 9: L.order }), grid: grid1d(gpu, s.pairs, WG) },
      {
        label: `${k}.sg4`,
        pipeline: this.pipe,
        bindGroup: bindGroup(gpu, this.pipe, k, { 0: this.params, 1: b.scores, 2: b.users, 3: b.items, 4: b.rated, 5: b.ranks, 6: L.slots }),
        grid: grid1d(gpu, slots, WG),
      },
    ];
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
