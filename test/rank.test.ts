// Held-out ranks for MRR: the GPU kernel against the course's procedure done literally.
import { describe, expect, it } from 'vitest';
import { RANK_VARIANTS, Rank, rankRef, rankVariantFor, rankVariantsFor, type RankVariant } from '../src/kernels/rank.ts';
import { ratedMask } from '../src/graph/rated-mask.ts';
import { meanReciprocalRank } from '../src/metrics/ranking.ts';
import { Rng } from '../src/random.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

async function gpuRanks(
  scores: Float32Array,
  users: Uint32Array,
  items: Uint32Array,
  rated: Uint32Array,
  shape: { users: number; items: number },
  variant?: RankVariant,
): Promise<Float32Array> {
  const [ranks] = await t.run(async (scope) => {
    const k = await Rank.create(t.gpu, { ...shape, pairs: users.length }, { variant }, scope);
    const out = scope.create('ranks', users.length * 4);
    const dispatches = k.bind({ scores: scope.upload('scores', scores), users: scope.upload('users', users), items: scope.upload('items', items), rated: scope.upload('rated', rated), ranks: out });
    return { dispatches, outputs: [[out, users.length]] };
  });
  return ranks;
}

/**
 * sg4 runs only where subgroups are exactly 4 wide (SwiftShader). On another device the test
 * checks instead that asking for it fails with a clear error, and stops there.
 */
async function unavailable(variant: RankVariant): Promise<boolean> {
  if (rankVariantsFor(t.gpu).includes(variant)) return false;
  await expect(Rank.create(t.gpu, { users: 1, items: 1, pairs: 1 }, { variant })).rejects.toThrow(/variant sg4 needs the subgroups feature with subgroups of exactly 4/);
  return true;
}

/** `counts[u]` pairs for user u (random items, repeats allowed), in a shuffled order. */
function raggedPairs(rng: Rng, counts: readonly number[], items: number): { users: Uint32Array; items: Uint32Array } {
  const us: number[] = [];
  counts.forEach((n, u) => us.push(...Array.from({ length: n }, () => u)));
  const users = rng.shuffle(Uint32Array.from(us));
  return { users, items: Uint32Array.from(users, () => rng.int(items)) };
}

describe('rank', () => {
  it('ranks a hand-made row: ties averaged, rated items last', async () => {
    // One user, 6 items with scores; item 1 was rated in training.
    const scores = new Float32Array([0.5, 9, 0.5, 2, -1, 0.5]);
    const rated = ratedMask([0], [1], { users: 1, items: 6 });
    const users = new Uint32Array([0, 0, 0, 0]);
    const items = new Uint32Array([3, 0, 4, 1]);
    // Unrated order: 2 (item 3) first; 0.5 ×3 (items 0, 2, 5) share positions 2..4 -> 3; -1 -> 5;
    // the rated item sits alone at position 6.
    expect([...(await gpuRanks(scores, users, items, rated, { users: 1, items: 6 }))]).toEqual([1, 3, 5, 6]);
    expect([...rankRef(scores, users, items, rated, { items: 6 })]).toEqual([1, 3, 5, 6]);
  });

  it('matches the reference exactly on many users with coarse (tied) scores and odd item counts', async () => {
    const rng = new Rng(7);
    const shape = { users: 37, items: 101 };
    // Scores on a grid of 16 values: many ties.
    const scores = Float32Array.from({ length: shape.users * shape.items }, () => rng.int(16) / 4 - 2);
    const trainU: number[] = [];
    const trainI: number[] = [];
    for (let u = 0; u < shape.users; u++) for (let i = 0; i < shape.items; i++) if (rng.uniform() < 0.2) (trainU.push(u), trainI.push(i));
    const rated = ratedMask(trainU, trainI, shape);
    const pairs = 500;
    const users = Uint32Array.from({ length: pairs }, () => rng.int(shape.users));
    const items = Uint32Array.from({ length: pairs }, () => rng.int(shape.items));
    const got = await gpuRanks(scores, users, items, rated, shape);
    const want = rankRef(scores, users, items, rated, shape);
    expect([...got]).toEqual([...want]);
    // Some pairs hit rated items, some ties: the test covers both branches.
    expect(want.some((r, k) => (rated[users[k] * 4 + (items[k] >>> 5)] >>> (items[k] & 31)) & 1 && r > 0)).toBe(true);
    expect(want.some((r) => r % 1 !== 0)).toBe(true);
  });

  it('defaults to sg4 exactly where subgroups are four wide', () => {
    expect(rankVariantFor(t.gpu)).toBe(t.gpu.fixedSubgroupSize === 4 ? 'sg4' : 'pair');
    expect(rankVariantsFor(t.gpu)).toContain('pair');
  });

  // The layout: users with 1, 3, 4, 5, 9 (and 0, 2, 8, 13) pairs, a user's pairs scattered over
  // the input; more users than the scan's 64 threads (chunks of several users); the layout's
  // worst case (one pair per user: a quad each); item counts that are not a multiple of 32 or
  // of 4, so the last mask word is ragged.
  for (const variant of RANK_VARIANTS) {
    it(`${variant} matches the reference exactly on ragged users, ties and rated items`, async () => {
      if (await unavailable(variant)) return;
      const rng = new Rng(11);
      const counts = [1, 3, 4, 5, 9, 0, 2, 8, 13, 1, 4, 5, 3, 9];
      const cases = [
        { users: counts.length, items: 101, per: counts },
        { users: 150, items: 37, per: counts },
        { users: 70, items: 64, per: counts },
        { users: 3, items: 7, per: counts },
        { users: 130, items: 50, per: [1] },
      ];
      let sawRated = false;
      let sawTie = false;
      for (const { users, items, per } of cases) {
        const shape = { users, items };
        const perUser = Array.from({ length: users }, (_, u) => per[u % per.length]);
        const pairs = raggedPairs(rng, perUser, items);
        // A grid of 8 values: ties everywhere.
        const scores = Float32Array.from({ length: users * items }, () => rng.int(8) / 2 - 2);
        const trainU: number[] = [];
        const trainI: number[] = [];
        for (let u = 0; u < users; u++) for (let i = 0; i < items; i++) if (rng.uniform() < 0.25) (trainU.push(u), trainI.push(i));
        const rated = ratedMask(trainU, trainI, shape);
        const want = rankRef(scores, pairs.users, pairs.items, rated, shape);
        const got = await gpuRanks(scores, pairs.users, pairs.items, rated, shape, variant);
        expect([...got], `${variant} ${users}x${items}`).toEqual([...want]);
        const isRated = (k: number): boolean => ((rated[pairs.users[k] * Math.ceil(items / 32) + (pairs.items[k] >>> 5)] >>> (pairs.items[k] & 31)) & 1) === 1;
        sawRated ||= want.some((_, k) => isRated(k));
        sawTie ||= want.some((r, k) => !isRated(k) && r % 1 !== 0);
      }
      // Held-out items rated in training too, and unrated ones in ties: both branches ran.
      expect([sawRated, sawTie]).toEqual([true, true]);
    });
  }

  it('builds the layout afresh on every run, for whatever pairs are bound', async () => {
    // An evaluation step replays its dispatches every epoch, and one kernel may be bound to
    // several inputs: the layout's counts must start from zero every time. Three runs into
    // three fresh outputs, the second with other pairs.
    const rng = new Rng(3);
    const shape = { users: 20, items: 33 };
    const perUser = Array.from({ length: shape.users }, (_, u) => u % 7);
    const a = raggedPairs(rng, perUser, shape.items);
    const b = raggedPairs(rng, [...perUser].reverse(), shape.items);
    const scores = Float32Array.from({ length: shape.users * shape.items }, () => rng.int(6));
    const rated = ratedMask([1, 2, 3], [4, 5, 32], shape);
    const n = a.users.length;
    const outs = await t.run(async (scope) => {
      const k = await Rank.create(t.gpu, { ...shape, pairs: n }, {}, scope);
      const common = { scores: scope.upload('scores', scores), rated: scope.upload('rated', rated) };
      const bufs = [a, b, a].map((x, i) => ({ ...common, users: scope.upload(`users${i}`, x.users), items: scope.upload(`items${i}`, x.items), ranks: scope.create(`ranks${i}`, n * 4) }));
      return { dispatches: bufs.flatMap((x) => k.bind(x)), outputs: bufs.map((x): [GPUBuffer, number] => [x.ranks, n]) };
    });
    const wantA = [...rankRef(scores, a.users, a.items, rated, shape)];
    expect(outs.map((o) => [...o])).toEqual([wantA, [...rankRef(scores, b.users, b.items, rated, shape)], wantA]);
  });

  it('sg4 gives pair\'s ranks for infinite, NaN and signed-zero scores', async () => {
    if (await unavailable('sg4')) return;
    // sg4 stands -∞ in for rated items, the last mask word's tail and NaN scores, and counts
    // pairs scoring -∞ or NaN apart. (rankRef puts rated items before -∞, and NaN anywhere
    // makes its ranks differ from pair's: not compared here; no model scores that way.)
    const rng = new Rng(5);
    const shape = { users: 9, items: 45 };
    const values = [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, -0, 0, 1, -1, NaN];
    const scores = Float32Array.from({ length: shape.users * shape.items }, () => values[rng.int(values.length)]);
    const trainU: number[] = [];
    const trainI: number[] = [];
    for (let u = 0; u < shape.users; u++) for (let i = 0; i < shape.items; i++) if (rng.uniform() < 0.3) (trainU.push(u), trainI.push(i));
    const rated = ratedMask(trainU, trainI, shape);
    const pairs = raggedPairs(rng, [1, 3, 4, 5, 9, 6, 2, 7, 4], shape.items);
    const pair = await gpuRanks(scores, pairs.users, pairs.items, rated, shape, 'pair');
    const sg4 = await gpuRanks(scores, pairs.users, pairs.items, rated, shape, 'sg4');
    expect(new Uint32Array(sg4.buffer)).toEqual(new Uint32Array(pair.buffer));
    // Some unrated held-out items score each of -∞, +∞ and NaN.
    const unratedAt = (k: number): boolean => ((rated[pairs.users[k] * 2 + (pairs.items[k] >>> 5)] >>> (pairs.items[k] & 31)) & 1) === 0;
    const held = [...pairs.users.keys()].filter(unratedAt).map((k) => scores[pairs.users[k] * shape.items + pairs.items[k]]);
    for (const v of [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, NaN]) expect(held.some((h) => Object.is(h, v))).toBe(true);
  });

  it('averages reciprocal ranks per user, then over users', () => {
    // User 1: ranks 1 and 4 -> (1 + .25) / 2; user 2: rank 2 -> .5.
    expect(meanReciprocalRank([1, 2, 1], [1, 2, 4])).toBeCloseTo((0.625 + 0.5) / 2, 12);
  });
});
