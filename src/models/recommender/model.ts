// The multi-task recommender as graphs (CS330 homework 0): a factorization head scoring
// u·q + a_u + b_i, trained with the course's ranking loss mean(1 - σ(pos - neg)) against one
// uniform negative item per rating, and a regression head MLP([u, q, u⊙q]) → rating trained
// with MSE, on shared or separate embedding tables. Three graphs share the same weights by
// name: the training step, the same step for the epoch's smaller last batch, and evaluation.
import { gradients } from '../../graph/autodiff.ts';
import { Graph, type Tensor } from '../../graph/graph.ts';
import { Metrics } from '../../graph/metrics.ts';
import { pairFeatures, scale } from '../../graph/ops/elementwise.ts';
import { mfRankingLoss, mseLoss } from '../../graph/ops/loss.ts';
import { matmul } from '../../graph/ops/matmul.ts';
import { heldOutRanks } from '../../graph/ops/rank.ts';
import { maskWords } from '../../kernels/rank.ts';
import { Embedding, rowSparse } from '../../nn/embedding.ts';
import { init } from '../../nn/init.ts';
import { MLP } from '../../nn/linear.ts';
import { Module } from '../../nn/module.ts';
import { AdamOptimizer } from '../../optim/adam.ts';
import type { Rng } from '../../random.ts';
import type { RecommenderConfig } from './config.ts';

export interface Tables {
  users: number;
  items: number;
}

/** A user table and an item table, initialised normal(0, 1/dim) as the course's reference does. */
export class UserItemTables extends Module {
  readonly users: Embedding;
  readonly items: Embedding;

  constructor(rng: Rng, t: Tables, dim: number) {
    super();
    const o = { init: init.normal(1 / dim) };
    this.users = this.module('user_embeddings', new Embedding(rng, t.users, dim, o));
    this.items = this.module('item_embeddings', new Embedding(rng, t.items, dim, o));
  }
}

/**
 * The model, its initial weights drawn in the reference's order: the tables (shared, or the
 * factorization head's then the regression head's), zero bias tables of the factorization
 * head, then the regression MLP's Linear layers (PyTorch's default init).
 */
export class Recommender extends Module {
  readonly factorization: UserItemTables;
  readonly regression: UserItemTables;
  readonly userBiases: Embedding;
  readonly itemBiases: Embedding;
  /** [u, q, u⊙q] → layerSizes… → 1, ReLU between; sigmoid last with a clipped rating. */
  readonly mlp: MLP;

  constructor(
    readonly config: RecommenderConfig,
    readonly tables: Tables,
    rng: Rng,
  ) {
    super();
    const d = config.embeddingDim;
    if (config.sharedEmbeddings) {
      // One pair of tables at the top level: `user_embeddings`, `item_embeddings`.
      this.factorization = this.regression = this.module('', new UserItemTables(rng, tables, d));
    } else {
      this.factorization = this.module('factorization', new UserItemTables(rng, tables, d));
      this.regression = this.module('regression', new UserItemTables(rng, tables, d));
    }
    this.userBiases = this.module('user_biases', new Embedding(rng, tables.users, 1, { init: init.zeros() }));
    this.itemBiases = this.module('item_biases', new Embedding(rng, tables.items, 1, { init: init.zeros() }));
    this.mlp = this.module('mlp', new MLP(rng, [...config.layerSizes, 1], { lastActivation: config.clipPredictedRating ? 'sigmoid' : 'none' }));
  }

  /** The regression head on gathered rows: MLP([u, q, u⊙q]) → [n, 1] (q's leading rows when it has more). */
  predict(g: Graph, u: Tensor, q: Tensor): Tensor {
    const y = this.mlp.forward(g, pairFeatures(g, u, q));
    return this.config.clipPredictedRating ? scale(g, y, 5) : y;
  }
}

export const METRICS = ['factorization', 'regression'] as const;

export interface TrainGraph {
  g: Graph;
  metrics: Metrics;
  /** Inputs: users [B], items [2B] (positives then negatives), positives [B] (separate tables only), ratings [B]. */
  batch: number;
}

/**
 * One training step for batches of `batch` ratings, its updates attached to `optimizer`.
 * Metrics read the unweighted losses' per-step means; a head whose weight is 0 is still
 * computed (for its metric) but seeds no gradient, so it trains nothing.
 */
export function trainGraph(m: Recommender, batch: number, optimizer: AdamOptimizer): TrainGraph {
  const c = m.config;
  const g = new Graph();
  const params = m.declare(g);
  const shared = c.sharedEmbeddings;
  const users = g.input('users', [batch], 'u32');
  const items = g.input('items', [2 * batch], 'u32');
  const ratings = g.input('ratings', [batch], 'f32');
  const positives = shared ? null : g.input('positives', [batch], 'u32');

  const uF = m.factorization.users.forward(g, users);
  const qAll = m.factorization.items.forward(g, items);
  // The loss weights, applied here only: a head with weight 0 still computes its loss with
  // weight 1 (for its metric) but seeds no gradient; the metrics divide the weights back out.
  const wF = c.factorizationWeight;
  const wR = c.regressionWeight;
  const [sF, sR] = [wF > 0 ? wF : 1, wR > 0 ? wR : 1];
  // The biases are read from their tables by index inside the loss (no gathers).
  const lossF = mfRankingLoss(g, uF, qAll, m.userBiases.readAt(g, users), users, m.itemBiases.readAt(g, items), items, sF);

  const uR = shared ? uF : m.regression.users.forward(g, users);
  // Shared tables: the regression head reads the positives, qAll's leading rows, in place.
  const qR = shared ? qAll : m.regression.items.forward(g, positives as Tensor);
  // Written plainly: the graph passes fuse the output layer, the MSE and the last hidden
  // layer's ReLU into one op (passes.ts, dense-mse.ts).
  const lossR = mseLoss(g, m.predict(g, uR, qR), ratings, sR);

  const metrics = new Metrics(g, METRICS);
  metrics.add(g, 'factorization', lossF, sF);
  metrics.add(g, 'regression', lossR, sR);
  const seeds = [...(wF > 0 ? [lossF] : []), ...(wR > 0 ? [lossR] : [])];
  const grads = gradients(g, seeds, [...params.values()]);
  // Tables a head with weight 0 never touches get no gradient; Adam skips them, as PyTorch does.
  optimizer.attach(g, grads, c.sparseAdam ? { sparse: rowSparse(g, m) } : {});
  return { g, metrics, batch };
}

/**
 * The one optimizer of every training step of `c` (full and last batch). Dense Adam moves every
 * row each step; with `deferSteps` the untouched rows' moves wait until they are read (the same
 * bits; at most deferSteps steps between flushes).
 */
export function recommenderAdam(c: RecommenderConfig, deferSteps: number): AdamOptimizer {
  return new AdamOptimizer({ lr: c.lr, ...(c.sparseAdam ? {} : { deferTables: { cap: deferSteps } }) });
}

export interface EvalGraph {
  g: Graph;
  /** [users, items]: every item's factorization score u·q + b_i for every user (without a_u, which cannot change a rank). */
  scores: Tensor;
  ranks: Tensor;
  predictions: Tensor;
}

/**
 * Evaluation over the `pairs` held-out ratings: every item's factorization score for every
 * user (one product U·Qᵀ + b; a user's own bias shifts the whole row and cannot change a
 * rank), the held-out items' ranks, and the regression head's predictions.
 * Inputs: users [pairs], items [pairs], rated [users · ⌈items/32⌉] (the training mask).
 */
export function evalGraph(m: Recommender, pairs: number): EvalGraph {
  const t = m.tables;
  const g = new Graph();
  m.declare(g);
  const users = g.input('users', [pairs], 'u32');
  const items = g.input('items', [pairs], 'u32');
  const rated = g.input('rated', [t.users * maskWords(t.items)], 'u32');
  // Kept so that prediction can read a user's row: the scores its top items are ranked by.
  const scores = g.keep(matmul(g, m.factorization.users.table.on(g), m.factorization.items.table.on(g), { transB: true, bias: m.itemBiases.table.on(g) }));
  const ranks = g.keep(heldOutRanks(g, scores, users, items, rated));
  const predictions = g.keep(m.predict(g, m.regression.users.forward(g, users), m.regression.items.forward(g, items)));
  return { g, scores, ranks, predictions };
}
