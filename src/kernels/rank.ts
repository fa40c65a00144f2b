// Held-out ranks for MRR on the GPU (shaders/rank.wgsl), and the float64 reference.
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import portableSource from '../../shaders/rank.wgsl';
import sgBody from '../../shaders/rank-sg.wgsl';
import { checkInteger, grid1d, KernelError, type Constants, type Dispatch } from './kernel.ts';
import { Kernel, type EntrySpec } from './spec.ts';

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

type Inputs = { scores: GPUBuffer; users: GPUBuffer; items: GPUBuffer; rated: GPUBuffer; ranks: GPUBuffer };

/** sg4's passes and own buffers: the quad layout; per user a pair count and first slot; per pair its place among its user's. */
interface Layout {
  passes: { clear: Kernel<string>; count: Kernel<string>; scan: Kernel<string>; place: Kernel<string> };
  bufs: { slots: GPUBuffer; counts: GPUBuffer; starts: GPUBuffer; order: GPUBuffer };
}

export class Rank {
  static readonly kernel = 'rank';

  private constructor(
    private readonly ranks: Kernel<string>,
    private readonly layout: Layout | null,
    readonly shape: RankShape,
    readonly variant: RankVariant,
  ) {}

  /**
   * Uniform p (fixed): u32 [pairs, items, words, users, slots, bits of -∞, 0, 0]. sg4 adds its
   * own slots, counts, starts and order. The variant defaults to rankVariantFor(gpu).
   */
  static async create(gpu: Gpu, shape: RankShape, opts: { variant?: RankVariant } = {}, scope: BufferScope = gpu.buffers): Promise<Rank> {
    const kernel = Rank.kernel;
    for (const key of ['users', 'items', 'pairs'] as const) checkInteger(kernel, key, shape[key], 1);
    // Ranks (and sg4's float sums) are whole or half numbers up to `items`: exact in f32 below 2^23.
    if (shape.items >= 2 ** 23) throw new KernelError(kernel, `items must be below 2^23 for exact f32 ranks, got ${shape.items}`);
    const variant = opts.variant ?? rankVariantFor(gpu);
    if (!RANK_VARIANTS.includes(variant)) throw new KernelError(kernel, `unknown variant "${String(variant)}"; choose one of ${RANK_VARIANTS.join(', ')}`);
    if (!rankVariantsFor(gpu).includes(variant)) {
      throw new KernelError(kernel, `variant sg4 needs the subgroups feature with subgroups of exactly 4 invocations; this device has ${gpu.fixedSubgroupSize === null ? 'no fixed subgroup size' : `subgroups of ${gpu.fixedSubgroupSize}`}`);
    }
    const { users, items, pairs } = shape;
    const slots = variant === 'sg4' ? quadSlots(shape) : 0;
    const common = {
      kernel,
      constants: { WG },
      params: { p: [pairs, items, maskWords(items), users, slots, 0xff800000, 0, 0] },
      shape: `${pairs} pairs over ${users}x${items} scores`,
    };
    const inputs = { scores: users * items * 4, users: pairs * 4, items: pairs * 4, rated: users * maskWords(items) * 4, ranks: pairs * 4 };
    if (variant === 'pair') {
      const spec = { ...common, source: portableSource, entry: 'rank', sizes: inputs, grid: grid1d(gpu, pairs, WG) };
      return new Rank(await Kernel.create(gpu, spec, scope), null, { ...shape }, variant);
    }
    const own = { slots: slots * 4, counts: users * 4, starts: users * 4, order: pairs * 4 };
    const pass = (entry: string, sizes: Record<string, number>, grid: readonly [number, number], constants: Constants = common.constants): EntrySpec<string> => ({
      ...common,
      kernel: `${kernel}.${entry.replace('rank_', '')}`,
      source: portableSource,
      entry,
      constants,
      sizes,
      grid,
    });
    const [ranks, clear, count, scan, place] = await Promise.all([
      Kernel.create(gpu, { ...common, source: sgSource, entry: 'rank_sg4', sizes: { ...inputs, slots: own.slots }, grid: grid1d(gpu, slots, WG) }, scope),
      Kernel.create(gpu, pass('rank_clear', { slots: own.slots, counts: own.counts }, grid1d(gpu, Math.max(users, slots), WG)), scope),
      Kernel.create(gpu, pass('rank_count', { users: inputs.users, counts: own.counts, order: own.order }, grid1d(gpu, pairs, WG)), scope),
      Kernel.create(gpu, pass('rank_scan', { counts: own.counts, starts: own.starts }, [1, 1], {}), scope),
      Kernel.create(gpu, pass('rank_place', { users: inputs.users, slots: own.slots, starts: own.starts, order: own.order }, grid1d(gpu, pairs, WG)), scope),
    ]);
    const bufs = {
      slots: scope.create(`${kernel}.slots`, own.slots),
      counts: scope.create(`${kernel}.counts`, own.counts),
      starts: scope.create(`${kernel}.starts`, own.starts),
      order: scope.create(`${kernel}.order`, own.order),
    };
    return new Rank(ranks, { passes: { clear, count, scan, place }, bufs }, { ...shape }, variant);
  }

  /** pair: one dispatch; sg4: the layout's four passes, then the ranks. Inputs may change between runs. */
  bind(b: Inputs): Dispatch[] {
    const inputs = { scores: b.scores, users: b.users, items: b.items, rated: b.rated, ranks: b.ranks };
    const L = this.layout;
    if (!L) return [{ ...this.ranks.bind(inputs), label: `${Rank.kernel}.pair` }];
    const { clear, count, scan, place } = L.passes;
    const { slots, counts, starts, order } = L.bufs;
    return [
      clear.bind({ slots, counts }),
      count.bind({ users: b.users, counts, order }),
      scan.bind({ counts, starts }),
      place.bind({ users: b.users, slots, starts, order }),
      { ...this.ranks.bind({ ...inputs, slots }), label: `${Rank.kernel}.sg4` },
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
