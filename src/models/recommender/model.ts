// The multi-task recommender as graphs (CS330 homework 0): a factorization head scoring
// u·q + a_u + b_i, trained with the course's ranking loss mean(1 - σ(pos - neg)) against one
// uniform negative item per rating, and a regression head MLP([u, q, u⊙q]) → rating trained
// with MSE, on shared or separate embedding tables. Three graphs share the same weights by
// name: the training step, the same step for the epoch's smaller last batch, and evaluation.
import { gradients } from '../../graph/autodiff.ts';
import { Graph } from '../../graph/graph.ts';
import { Metrics } from '../../graph/metrics.ts';
import { sumGradients } from '../../graph/ops/basic.ts';
import { denseMseLoss, foldInputBiasGrad } from '../../graph/ops/dense-mse.ts';
import { pairFeatures, scale } from '../../graph/ops/elementwise.ts';
import { embedding } from '../../graph/ops/embedding.ts';
import { mfRankingLoss, mseLoss } from '../../graph/ops/loss.ts';
import { dense, matmul } from '../../graph/ops/matmul.ts';
import { heldOutRanks } from '../../graph/ops/rank.ts';
import type { Tensor } from '../../graph/tensor.ts';
import { maskWords } from '../../kernels/rank.ts';
import { AdamOptimizer } from '../../optim/adam.ts';
import type { Rng } from '../../random.ts';
import type { RecommenderConfig } from './config.ts';

export interface Tables {
  users: number;
  items: number;
}

/** Parameter names and initial values; every graph declares the same ones. */
export type ParamInit = Map<string, { shape: number[]; data: Float32Array }>;

/**
 * Initial weights as PyTorch's reference makes them: embeddings normal(0, 1/dim), biases of
 * the factorization head zero, Linear layers uniform(±1/√fan_in) for weights and biases.
 * Linear weights are stored [in, out].
 */
export function initialWeights(c: RecommenderConfig, t: Tables, rng: Rng): ParamInit {
  const p: ParamInit = new Map();
  const d = c.embeddingDim;
  const normal = (n: number, std: number): Float32Array => Float32Array.from({ length: n }, () => std * rng.normal());
  const uniform = (n: number, bound: number): Float32Array => Float32Array.from({ length: n }, () => bound * (2 * rng.uniform() - 1));
  for (const head of c.sharedEmbeddings ? [''] : ['factorization.', 'regression.']) {
    p.set(`${head}user_embeddings`, { shape: [t.users, d], data: normal(t.users * d, 1 / d) });
    p.set(`${head}item_embeddings`, { shape: [t.items, d], data: normal(t.items * d, 1 / d) });
  }
  p.set('user_biases', { shape: [t.users, 1], data: new Float32Array(t.users) });
  p.set('item_biases', { shape: [t.items, 1], data: new Float32Array(t.items) });
  const widths = [...c.layerSizes, 1];
  for (let l = 0; l + 1 < widths.length; l++) {
    const bound = 1 / Math.sqrt(widths[l]);
    p.set(`mlp.${l}.weight`, { shape: [widths[l], widths[l + 1]], data: uniform(widths[l] * widths[l + 1], bound) });
    p.set(`mlp.${l}.bias`, { shape: [widths[l + 1]], data: uniform(widths[l + 1], bound) });
  }
  return p;
}

class Weights {
  readonly t = new Map<string, Tensor>();
  constructor(g: Graph, init: ParamInit) {
    for (const [name, { shape, data }] of init) this.t.set(name, g.param(name, shape, data));
  }
  get(name: string): Tensor {
    const t = this.t.get(name);
    if (!t) throw new Error(`no weight "${name}"`);
    return t;
  }
  table(kind: 'user' | 'item', head: 'factorization' | 'regression', shared: boolean): Tensor {
    return this.get(`${shared ? '' : `${head}.`}${kind}_embeddings`);
  }
}

/**
 * The regression head's hidden layers on gathered rows: [u, q, u⊙q] through the ReLU layers.
 * `lastRelu: false` leaves the last hidden layer's pre-activation (a fused loss applies it).
 */
function hiddenLayers(g: Graph, c: RecommenderConfig, w: Weights, u: Tensor, q: Tensor, lastRelu = true): Tensor {
  let x = pairFeatures(g, u, q);
  const hidden = c.layerSizes.length - 1;
  for (let l = 0; l < hidden; l++) x = dense(g, x, w.get(`mlp.${l}.weight`), w.get(`mlp.${l}.bias`), lastRelu || l + 1 < hidden ? 'relu' : 'none');
  return x;
}

/** The regression head on gathered rows: MLP([u, q, u⊙q]) → [n, 1]. */
function regressionHead(g: Graph, c: RecommenderConfig, w: Weights, u: Tensor, q: Tensor): Tensor {
  const last = c.layerSizes.length - 1;
  const x = dense(g, hiddenLayers(g, c, w, u, q), w.get(`mlp.${last}.weight`), w.get(`mlp.${last}.bias`), c.clipPredictedRating ? 'sigmoid' : 'none');
  return c.clipPredictedRating ? scale(g, x, 5) : x;
}

/**
 * The regression loss terms: the last hidden layer's ReLU, the output layer and the MSE fused
 * into one op (two dispatches), or, with a clipped rating (sigmoid · 5 between them), the head
 * then the loss.
 */
function regressionLoss(g: Graph, c: RecommenderConfig, w: Weights, u: Tensor, q: Tensor, ratings: Tensor, weight: number): Tensor {
  if (c.clipPredictedRating) return mseLoss(g, regressionHead(g, c, w, u, q), ratings, weight);
  const last = c.layerSizes.length - 1;
  const inputRelu = last > 0; // with no hidden layer the output layer reads [u, q, u⊙q] itself
  return denseMseLoss(g, hiddenLayers(g, c, w, u, q, !inputRelu), w.get(`mlp.${last}.weight`), w.get(`mlp.${last}.bias`), ratings, weight, { inputRelu });
}

export const METRICS = ['factorization', 'regression'] as const;

export interface TrainGraph {
  g: Graph;
  optimizer: AdamOptimizer;
  metrics: Metrics;
  /** Inputs: users [B], items [2B] (positives then negatives), positives [B] (separate tables only), ratings [B]. */
  batch: number;
}

/**
 * One training step for batches of `batch` ratings. Metrics hold the weighted loss terms'
 * per-step sums; a head whose weight is 0 is still computed (for its metric, unweighted) but
 * seeds no gradient, so it trains nothing.
 */
export function trainGraph(c: RecommenderConfig, t: Tables, init: ParamInit, batch: number, o: { deferSteps?: number } = {}): TrainGraph {
  const g = new Graph();
  const w = new Weights(g, init);
  const shared = c.sharedEmbeddings;
  const users = g.input('users', [batch], 'u32');
  const items = g.input('items', [2 * batch], 'u32');
  const ratings = g.input('ratings', [batch], 'f32');
  const positives = shared ? null : g.input('positives', [batch], 'u32');

  const uF = embedding(g, w.table('user', 'factorization', shared), users);
  const qAll = embedding(g, w.table('item', 'factorization', shared), items);
  const wF = c.factorizationWeight;
  // The biases are read from their tables by index inside the loss (no gathers).
  const lossF = mfRankingLoss(g, uF, qAll, w.get('user_biases'), users, w.get('item_biases'), items, wF > 0 ? wF : 1);

  const uR = shared ? uF : embedding(g, w.table('user', 'regression', false), users);
  // Shared tables: the regression head reads the positives, qAll's leading rows, in place.
  const qR = shared ? qAll : embedding(g, w.table('item', 'regression', false), positives as Tensor);
  const wR = c.regressionWeight;
  const lossR = regressionLoss(g, c, w, uR, qR, ratings, wR > 0 ? wR : 1);

  const metrics = new Metrics(g, METRICS);
  metrics.add(g, 'factorization', lossF);
  metrics.add(g, 'regression', lossR);
  const seeds = [...(wF > 0 ? [lossF] : []), ...(wR > 0 ? [lossR] : [])];
  const params = [...w.t.values()];
  const grads = gradients(g, seeds, params, sumGradients);
  foldInputBiasGrad(g);
  const sparse = new Map<Tensor, Tensor>();
  if (c.sparseAdam) {
    for (const head of ['factorization', 'regression'] as const) {
      sparse.set(w.table('user', head, shared), users);
      sparse.set(w.table('item', head, shared), head === 'regression' && positives ? positives : items);
    }
    sparse.set(w.get('user_biases'), users);
    sparse.set(w.get('item_biases'), items);
  }
  // Tables a head with weight 0 never touches get no gradient; Adam skips them, as PyTorch does.
  // Dense Adam moves every row each step; with deferSteps the untouched rows' moves wait until
  // they are read (the same bits; the caller flushes at least every deferSteps steps).
  const defer = !c.sparseAdam && o.deferSteps ? { deferTables: { cap: o.deferSteps } } : {};
  const optimizer = new AdamOptimizer(g, grads, { lr: c.lr, ...(c.sparseAdam ? { sparse } : {}), ...defer });
  return { g, optimizer, metrics, batch };
}

export interface EvalGraph {
  g: Graph;
  ranks: Tensor;
  predictions: Tensor;
}

/**
 * Evaluation over the `pairs` held-out ratings: every item's factorization score for every
 * user (one product U·Qᵀ + b; a user's own bias shifts the whole row and cannot change a
 * rank), the held-out items' ranks, and the regression head's predictions.
 * Inputs: users [pairs], items [pairs], rated [users · ⌈items/32⌉] (the training mask).
 */
export function evalGraph(c: RecommenderConfig, t: Tables, init: ParamInit, pairs: number): EvalGraph {
  const g = new Graph();
  const w = new Weights(g, init);
  const shared = c.sharedEmbeddings;
  const users = g.input('users', [pairs], 'u32');
  const items = g.input('items', [pairs], 'u32');
  const rated = g.input('rated', [t.users * maskWords(t.items)], 'u32');
  const scores = matmul(g, w.table('user', 'factorization', shared), w.table('item', 'factorization', shared), { transB: true, bias: w.get('item_biases') });
  const ranks = g.keep(heldOutRanks(g, scores, users, items, rated));
  const u = embedding(g, w.table('user', 'regression', shared), users);
  const q = embedding(g, w.table('item', 'regression', shared), items);
  const predictions = g.keep(regressionHead(g, c, w, u, q));
  return { g, ranks, predictions };
}
