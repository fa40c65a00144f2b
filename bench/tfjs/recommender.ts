// The multi-task recommender (CS330 homework 0) written as a TF.js user would, with tfjs-core
// ops only: embeddings through tf.gather (whose gradient TF.js makes a dense
// unsortedSegmentSum), dense Adam over every table. One fixed batch, drawn once from a seeded
// generator, so a benchmark times the training step alone.
import { Rng } from '../../src/random.ts';
import { acquireTfjsWebGpu, minimizeStep, readGradients, tf } from './backend.ts';

export interface RecommenderConfig {
  users: number;
  items: number;
  dim: number;
  hidden: number;
  batch: number;
  /** One user table and one item table for both heads (else a second pair for the regression head). */
  shared: boolean;
  seed: number;
}

/** MovieLens 100K's id ranges (ids start at 1, row 0 unused, as in the homework). */
export const RECOMMENDER_DEFAULTS: RecommenderConfig = { users: 944, items: 1683, dim: 32, hidden: 64, batch: 256, shared: true, seed: 1 };

/** Initial parameters and the fixed batch, as host arrays: what the TF.js model starts from. */
export interface RecommenderHost {
  cfg: RecommenderConfig;
  /** Row-major; `U2`/`Q2` only when not shared. W1 is [3·dim, hidden], W2 [hidden, 1] (x·W). */
  params: Record<string, Float32Array>;
  users: Int32Array;
  positives: Int32Array;
  negatives: Int32Array;
  ratings: Float32Array;
}

export interface TfjsRecommender {
  /** One training step (forward, loss, backward, Adam); resolves with the loss read back (before this step's update). */
  step(): Promise<number>;
  /** The loss's gradient for every parameter (keys as in the host arrays) at the current values, nothing updated: for checks. */
  gradients(): Promise<Record<string, Float32Array>>;
  /** Frees every tensor, the optimizer's state, and (with the last model) the backend. */
  dispose(): void;
  backendInfo: string;
  config: RecommenderConfig;
}

export const FACTORIZATION_WEIGHT = 0.99;
export const REGRESSION_WEIGHT = 0.01;

function normals(rng: Rng, n: number, std: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
  return a;
}

/** PyTorch nn.Linear's default init: weights and biases uniform in ±1/sqrt(fan_in). */
function linearInit(rng: Rng, n: number, fanIn: number): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.uniform() * 2 - 1) * bound;
  return a;
}

/** Ids in [1, range): MovieLens ids start at 1 and the tables keep row 0 (as in the homework). */
function ids(rng: Rng, n: number, range: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = range > 1 ? 1 + rng.int(range - 1) : 0;
  return a;
}

export function recommenderHost(overrides: Partial<RecommenderConfig> = {}): RecommenderHost {
  const cfg = { ...RECOMMENDER_DEFAULTS, ...overrides };
  for (const k of ['users', 'items', 'dim', 'hidden', 'batch'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new Error(`recommender config: ${k} must be a positive integer, got ${cfg[k]}`);
  }
  const { users, items, dim, hidden, batch } = cfg;
  const rng = new Rng(cfg.seed);
  // Homework 0's ScaledEmbedding: normal(0, 1/dim); its ZeroEmbedding for the biases.
  const params: Record<string, Float32Array> = {
    U: normals(rng, users * dim, 1 / dim),
    Q: normals(rng, items * dim, 1 / dim),
    A: new Float32Array(users),
    B: new Float32Array(items),
  };
  if (!cfg.shared) {
    params.U2 = normals(rng, users * dim, 1 / dim);
    params.Q2 = normals(rng, items * dim, 1 / dim);
  }
  params.W1 = linearInit(rng, 3 * dim * hidden, 3 * dim);
  params.b1 = linearInit(rng, hidden, 3 * dim);
  params.W2 = linearInit(rng, hidden, hidden);
  params.b2 = linearInit(rng, 1, hidden);
  const ratings = new Float32Array(batch);
  for (let i = 0; i < batch; i++) ratings[i] = 1 + rng.int(5);
  return { cfg, params, users: ids(rng, batch, users), positives: ids(rng, batch, items), negatives: ids(rng, batch, items), ratings };
}

function shapeOf(name: string, cfg: RecommenderConfig): [number, number] {
  const { users, items, dim, hidden } = cfg;
  const shapes: Record<string, [number, number]> = {
    U: [users, dim], U2: [users, dim], Q: [items, dim], Q2: [items, dim], A: [users, 1], B: [items, 1],
    W1: [3 * dim, hidden], b1: [1, hidden], W2: [hidden, 1], b2: [1, 1],
  };
  return shapes[name];
}

// TF.js variable names are global to its engine: each model instance gets its own prefix.
let instances = 0;

export async function createTfjsRecommender(cfg: Partial<RecommenderConfig> = {}): Promise<TfjsRecommender> {
  const host = recommenderHost(cfg);
  const c = host.cfg;
  const backend = await acquireTfjsWebGpu();
  const prefix = `rec${++instances}_`;
  const vars: Record<string, tf.Variable> = {};
  let optimizer: tf.AdamOptimizer | null = null;
  const inputs: tf.Tensor[] = [];
  const dispose = (): void => {
    optimizer?.dispose();
    optimizer = null;
    for (const t of [...Object.values(vars), ...inputs]) t.dispose();
    inputs.length = 0;
    for (const k of Object.keys(vars)) delete vars[k];
    backend.release();
  };
  try {
    for (const [name, data] of Object.entries(host.params)) {
      const init = tf.tensor2d(data, shapeOf(name, c));
      vars[name] = tf.variable(init, true, `${prefix}${name}`);
      init.dispose(); // the variable holds its own reference to the data
    }
    const B = c.batch;
    const users = tf.tensor1d(host.users, 'int32');
    const pos = tf.tensor1d(host.positives, 'int32');
    const neg = tf.tensor1d(host.negatives, 'int32');
    const ratings = tf.tensor1d(host.ratings);
    inputs.push(users, pos, neg, ratings);
    // PyTorch's Adam epsilon (TF.js's default would be 1e-7).
    const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
    optimizer = opt;
    const { U, Q, A, B: Bi, W1, b1, W2, b2 } = vars;
    const U2 = c.shared ? U : vars.U2;
    const Q2 = c.shared ? Q : vars.Q2;

    const loss = (): tf.Scalar => {
      const u = tf.gather(U, users);
      const qPos = tf.gather(Q, pos);
      const qNeg = tf.gather(Q, neg);
      const a = tf.reshape(tf.gather(A, users), [B]);
      const score = (q: tf.Tensor, item: tf.Tensor1D): tf.Tensor => tf.add(tf.add(tf.sum(tf.mul(u, q), 1), a), tf.reshape(tf.gather(Bi, item), [B]));
      // Factorization: mean(1 - sigmoid(s(u, pos) - s(u, neg))).
      const lf = tf.mean(tf.sub(1, tf.sigmoid(tf.sub(score(qPos, pos), score(qNeg, neg)))));
      // Regression: MLP on [u, q, u*q] -> rating.
      const ur = c.shared ? u : tf.gather(U2, users);
      const qr = c.shared ? qPos : tf.gather(Q2, pos);
      const x = tf.concat([ur, qr, tf.mul(ur, qr)], 1);
      const h = tf.relu(tf.add(tf.matMul(x, W1), b1));
      const pred = tf.reshape(tf.add(tf.matMul(h, W2), b2), [B]);
      const lr = tf.mean(tf.squaredDifference(ratings, pred));
      return tf.add(tf.mul(lf, FACTORIZATION_WEIGHT), tf.mul(lr, REGRESSION_WEIGHT)) as tf.Scalar;
    };

    return {
      backendInfo: backend.backendInfo,
      config: c,
      dispose,
      gradients: () => readGradients(loss, vars, prefix),
      step: minimizeStep(opt, loss, backend),
    };
  } catch (err) {
    dispose();
    throw err;
  }
}
