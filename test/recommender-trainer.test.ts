// The recommender's epochs on a small synthetic rating set: the last smaller batch, GPU ranks
// against the reference computed from the weights, same seed same bits, and resuming.
import { describe, expect, it } from 'vitest';
import { rankRef } from '../src/kernels/rank.ts';
import { ratedMask } from '../src/graph/rated-mask.ts';
import { meanReciprocalRank } from '../src/metrics/ranking.ts';
import { RECOMMENDER_DEFAULTS, type RecommenderConfig } from '../src/models/recommender/config.ts';
import { RecommenderTrainer } from '../src/models/recommender/trainer.ts';
import { useGpu } from './support/gpu.ts';
import { syntheticRatings } from './support/ratings.ts';

const t = useGpu();


/** One epoch trained, then evaluated: the epoch's training and test metrics. */
async function epoch(tr: RecommenderTrainer): Promise<Record<string, number>> {
  const train = await tr.train(1);
  const ev = await tr.evaluate();
  return { ...train.values, ...ev.values };
}

const CONFIG: RecommenderConfig = { ...RECOMMENDER_DEFAULTS, embeddingDim: 8, layerSizes: [24, 16], batchSize: 64, testFraction: 0.2, lr: 0.01, seed: 5 };
const DATA = syntheticRatings(350);

describe('RecommenderTrainer', () => {
  it('trains whole and partial batches, and its GPU MRR equals the reference from its weights', async () => {
    const tr = await RecommenderTrainer.create(t.gpu, DATA, CONFIG);
    try {
      expect(tr.split.train.length).toBe(280);
      expect(tr.stepsPerEpoch).toBe(5); // 4 × 64 + 24
      const first = await epoch(tr);
      let last = first;
      for (let e = 0; e < 5; e++) last = await epoch(tr);
      expect(tr.step).toBe(30);
      expect(tr.done).toBe(6);
      expect(last.trainMse).toBeLessThan(first.trainMse);
      expect(last.factorizationLoss).toBeLessThan(first.factorizationLoss);

      const w = await tr.weights();
      const U = w.get('user_embeddings')!;
      const Q = w.get('item_embeddings')!;
      const b = w.get('item_biases')!;
      const { users: nu, items: ni } = tr.tables;
      const d = CONFIG.embeddingDim;
      const scores = new Float64Array(nu * ni);
      for (let u = 0; u < nu; u++) for (let i = 0; i < ni; i++) {
        let s = b[i];
        for (let j = 0; j < d; j++) s += U[u * d + j] * Q[i * d + j];
        scores[u * ni + i] = s;
      }
      const pick = (a: Uint32Array, rows: Uint32Array): Uint32Array => Uint32Array.from(rows, (r) => a[r]);
      const rated = ratedMask(pick(DATA.users, tr.split.train), pick(DATA.items, tr.split.train), tr.tables);
      const tu = pick(DATA.users, tr.split.test);
      const want = meanReciprocalRank(tu, rankRef(scores, tu, pick(DATA.items, tr.split.test), rated, tr.tables));
      expect(last.mrr).toBeCloseTo(want, 6);
    } finally {
      tr.destroy();
    }
  });

  it('gives the same bits for the same seed, and a resumed run equals an uninterrupted one', async () => {
    const run = async (epochs: number, from?: Uint8Array): Promise<{ metrics: string[]; ckpt: Uint8Array }> => {
      const tr = await RecommenderTrainer.create(t.gpu, DATA, { ...CONFIG, sharedEmbeddings: false });
      try {
        if (from) tr.restore(from, 'test.safetensors');
        const metrics: string[] = [];
        for (let e = 0; e < epochs; e++) {
          metrics.push(JSON.stringify({ epoch: tr.done, ...(await epoch(tr)) }));
        }
        return { metrics, ckpt: await tr.checkpoint() };
      } finally {
        tr.destroy();
      }
    };
    const straight = await run(3);
    expect((await run(3)).metrics).toEqual(straight.metrics);
    const half = await run(1);
    const resumed = await run(2, half.ckpt);
    expect([...half.metrics, ...resumed.metrics]).toEqual(straight.metrics);
    expect(resumed.ckpt).toEqual(straight.ckpt);
  });

  it('refuses a checkpoint made with other settings, naming them', async () => {
    const a = await RecommenderTrainer.create(t.gpu, DATA, CONFIG);
    const bytes = await a.checkpoint();
    a.destroy();
    const b = await RecommenderTrainer.create(t.gpu, DATA, { ...CONFIG, lr: 0.02 });
    try {
      expect(() => b.restore(bytes, 'x.safetensors')).toThrow(/x\.safetensors was trained with other settings \(lr: 0\.01\)/);
    } finally {
      b.destroy();
    }
  });
});
