// The divergence watch inside an epoch (src/experiments/watch.ts): the metric sums are looked at
// every 64 steps without settling the optimizer's deferred rows, so a run at a learning rate of
// 1e9 stops by step 128 of its first epoch of 140, not at the epoch's end, and a healthy run trains
// to the same bytes whether it is watched or not. Node and Chromium.
import { describe, expect, it } from 'vitest';
import { trainLoop } from '../src/experiments/loop.ts';
import { experiment } from '../src/experiments/registry.ts';
import type { Trainer } from '../src/experiments/types.ts';
import { WATCH_EVERY } from '../src/experiments/watch.ts';
import { useGpu } from './support/gpu.ts';
import { syntheticRatings } from './support/ratings.ts';

const t = useGpu();
const ex = experiment('recommender');


const DATA = { rows: syntheticRatings(350), titles: null };
const config = (lr: number): object => ({ ...ex.defaults, embeddingDim: 8, layerSizes: [24, 16], batchSize: 2, testFraction: 0.2, lr, seed: 5, epochs: 2 });

async function withTrainer<T>(c: object, fn: (tr: Trainer) => Promise<T>): Promise<T> {
  const tr = await ex.create(t.gpu, DATA, c);
  try {
    return await fn(tr);
  } finally {
    tr.destroy();
  }
}

describe('the divergence watch', () => {
  it('stops a diverging epoch within two looks, naming the step in the epoch', async () => {
    expect(WATCH_EVERY).toBe(64);
    await withTrainer(config(1e9), async (tr) => {
      expect(tr.stepsIn(1)).toBe(140);
      let steps = 0;
      const run = trainLoop(ex, tr, config(1e9), { resumed: false, onStep: () => void steps++, onEvaluation: () => {} });
      await expect(run).rejects.toThrow(/^training diverged by step 128 of epoch 1: training\/Factorization Loss became NaN; .* are no longer finite; lower --lr \(1000000000; the default is 0\.001\)$/);
      expect(steps).toBe(128);
    });
  });

  it('changes nothing a healthy run trains: the same checkpoint as epochs trained without a watch', async () => {
    const watched = await withTrainer(config(0.01), async (tr) => {
      await trainLoop(ex, tr, config(0.01), { resumed: false, onEvaluation: () => {} });
      return tr.checkpoint();
    });
    const plain = await withTrainer(config(0.01), async (tr) => {
      await tr.train(1);
      await tr.evaluate();
      await tr.train(1);
      await tr.evaluate();
      return tr.checkpoint();
    });
    expect(watched).toEqual(plain);
  });
});
