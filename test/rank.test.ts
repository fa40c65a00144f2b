// Held-out ranks for MRR: the GPU kernel against the course's procedure done literally.
import { describe, expect, it } from 'vitest';
import { Rank, meanReciprocalRank, rankRef, ratedMask } from '../src/kernels/rank.ts';
import { Rng } from '../src/random.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

async function gpuRanks(scores: Float32Array, users: Uint32Array, items: Uint32Array, rated: Uint32Array, shape: { users: number; items: number }): Promise<Float32Array> {
  const [ranks] = await t.run(async (scope) => {
    const k = await Rank.create(t.gpu, { ...shape, pairs: users.length }, scope);
    const out = scope.create('ranks', users.length * 4);
    const d = k.bind({ scores: scope.upload('scores', scores), users: scope.upload('users', users), items: scope.upload('items', items), rated: scope.upload('rated', rated), ranks: out });
    return { dispatches: [d], outputs: [[out, users.length]] };
  });
  return ranks;
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

  it('averages reciprocal ranks per user, then over users', () => {
    // User 1: ranks 1 and 4 -> (1 + .25) / 2; user 2: rank 2 -> .5.
    expect(meanReciprocalRank([1, 2, 1], [1, 2, 4])).toBeCloseTo((0.625 + 0.5) / 2, 12);
  });
});
