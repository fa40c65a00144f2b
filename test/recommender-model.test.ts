// The recommender's training step against a float64 reference of the PyTorch original
// (forward, backward, dense Adam), for shared and separate tables, with and without clipping.
import { describe, expect, it } from 'vitest';
import { CompiledStep } from '../src/graph/compile.ts';
import { RECOMMENDER_DEFAULTS, type RecommenderConfig } from '../src/models/recommender/config.ts';
import { Recommender, recommenderAdam, trainGraph } from '../src/models/recommender/model.ts';
import { Rng } from '../src/random.ts';
import { useGpu } from './support/gpu.ts';
import { refAdam, refGradients, type Params } from './support/recommender-ref.ts';

const t = useGpu();
const TABLES = { users: 6, items: 9 };
const B = 5;

async function compare(over: Partial<RecommenderConfig>): Promise<void> {
  const c: RecommenderConfig = { ...RECOMMENDER_DEFAULTS, embeddingDim: 4, layerSizes: [12, 5], lr: 0.01, factorizationWeight: 0.7, regressionWeight: 0.3, ...over };
  const rng = new Rng(3);
  const model = new Recommender(c, TABLES, rng);
  const init = model.namedParameters();
  // Larger than the course's init so every ReLU and sigmoid sees a spread of inputs.
  for (const v of init.values()) for (let i = 0; i < v.data.length; i++) v.data[i] = v.data[i] * 4 + 0.05 * rng.normal();
  const optimizer = recommenderAdam(c, 4);
  const tg = trainGraph(model, B, optimizer);
  const step = await CompiledStep.create(t.gpu, tg.g);
  // The trainer's optimizer: deferred table rows, flushed by each read.
  await optimizer.compileFlush(t.gpu, step);
  try {
    // The model writes mseLoss(dense()); the graph passes fuse them, unless the clip's sigmoid sits between.
    const ops = tg.g.nodes.map((n) => n.op.name);
    expect([ops.includes('dense_mse_loss'), ops.includes('mse_loss')], 'fused by the passes').toEqual(c.clipPredictedRating ? [false, true] : [true, false]);
    const p: Params = new Map([...init].map(([k, v]) => [k, Float64Array.from(v.data)]));
    const m: Params = new Map([...init].map(([k, v]) => [k, new Float64Array(v.data.length)]));
    const v: Params = new Map([...init].map(([k, v]) => [k, new Float64Array(v.data.length)]));
    for (let s = 1; s <= 3; s++) {
      const users = Uint32Array.from({ length: B }, () => rng.int(TABLES.users));
      const pos = Uint32Array.from({ length: B }, () => rng.int(TABLES.items));
      const neg = Uint32Array.from({ length: B }, () => rng.int(TABLES.items));
      const ratings = Float32Array.from({ length: B }, () => 1 + rng.int(5));
      const items = Uint32Array.from([...pos, ...neg]);
      step.feed(c.sharedEmbeddings ? { users, items, ratings } : { users, items, ratings, positives: pos });
      optimizer.prepare(step);
      step.run();
      const ref = refGradients(c, p, { users, pos, neg, ratings });
      refAdam(p, ref.grads, m, v, s, c.lr);
      const sums = await tg.metrics.read(step, t.ring, 1, s);
      expect(sums.factorization).toBeCloseTo(ref.lossF, 5);
      expect(sums.regression).toBeCloseTo(ref.lossR, 4);
    }
    for (const param of tg.g.params) {
      const got = (await step.read(t.ring, param)) as Float32Array;
      const want = p.get(param.name)!;
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      // Three Adam steps of lr 0.01 move a weight by up to 0.03; float32 rounding stays far below.
      expect(worst, param.name).toBeLessThan(2e-5);
    }
  } finally {
    optimizer.destroy();
    step.destroy();
  }
}

describe('recommender training step vs the float64 reference', () => {
  it('shared tables', () => compare({ sharedEmbeddings: true }));
  it('separate tables, clipped rating', () => compare({ sharedEmbeddings: false, clipPredictedRating: true }));
});
