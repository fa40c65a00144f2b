// MMoE (Ma et al., KDD 2018) on census-shaped rows written as a TF.js user would, with tfjs-core
// ops only; the same math as shadertrain's multitask `--model mmoe`. The experts' layer and the
// gates' layer each read [one-hot categorical fields, continuous columns] as a dense layer would;
// the one-hot product is the sum of one weight row per field (tf.gather, whose gradient TF.js
// makes a dense unsortedSegmentSum over the whole table). ReLU experts; one softmax gate per task
// mixes them; each task's tower is Linear → ReLU → Linear to one logit; the loss is each task's
// BCE with logits averaged over the rows that have its label, summed over tasks; Adam. One fixed
// batch (synthetic and seeded, or the caller's rows), so a benchmark times the training step alone.
import { Rng } from '../../src/random.ts';
import { acquireTfjsWebGpu, minimizeStep, readGradients, tf } from './backend.ts';

export interface MmoeConfig {
  /** Rows per field's vocabulary (its unknown row included); the fields share one packed table per layer. */
  vocab: readonly number[];
  /** Continuous (standardized) columns. */
  continuous: number;
  experts: number;
  expertUnits: number;
  towerUnits: number;
  tasks: number;
  batch: number;
  lr: number;
  seed: number;
}

/**
 * Census-Income (KDD)'s 33 categorical columns (their distinct values plus an unknown row each:
 * 536 one-hot inputs) and its 7 continuous ones; the MMoE paper's 8 experts of 16 units, towers of
 * 8, two tasks (income, marital), batch 1024, Adam at 1e-3.
 */
export const CENSUS_MMOE: MmoeConfig = {
  vocab: [9, 52, 47, 17, 3, 7, 24, 15, 5, 10, 2, 3, 6, 8, 6, 6, 51, 38, 8, 10, 9, 10, 3, 4, 5, 43, 43, 43, 5, 3, 3, 3, 2].map((n) => n + 1),
  continuous: 7,
  experts: 8,
  expertUnits: 16,
  towerUnits: 8,
  tasks: 2,
  batch: 1024,
  lr: 1e-3,
  seed: 1,
};

/** One batch of rows, as the multi-task table holds them (src/data/tabular.ts). */
export interface MmoeRows {
  /** [batch × fields]: each value's index in its field's vocabulary. */
  categorical: ArrayLike<number>;
  /** [batch × continuous]. */
  continuous: ArrayLike<number>;
  /** [batch × tasks]: 0/1, NaN where a row has no label for the task. */
  labels: ArrayLike<number>;
}

/** Initial parameters and the fixed batch, as host arrays: what the TF.js model starts from. */
export interface MmoeHost {
  cfg: MmoeConfig;
  /**
   * Row-major, x·W layout. Experts `E_cat` [Σ vocab, E·U], `E_cont` [C, E·U], `E_b` [E·U]; gates
   * `G_cat` [Σ vocab, T·E], `G_cont` [C, T·E], `G_b` [T·E]; task t's tower `t{t}_W1` [U, towerUnits],
   * `t{t}_b1`, `t{t}_W2` [towerUnits, 1], `t{t}_b2` [1].
   */
  params: Record<string, Float32Array>;
  /** [batch × fields] rows of the packed tables (field offset + index). */
  rows: Int32Array;
  continuous: Float32Array;
  /** [tasks × batch]: labels with missing ones as 0, and 1/0 weights marking the present ones. */
  labels: Float32Array;
  weights: Float32Array;
}

export interface TfjsMmoe {
  /** One training step (forward, loss, backward, Adam); resolves with the loss read back (before this step's update). */
  step(): Promise<number>;
  /** The loss's gradient for every parameter (keys as in the host arrays) at the current values, nothing updated: for checks. */
  gradients(): Promise<Record<string, Float32Array>>;
  /** Frees every tensor, the optimizer's state, and (with the last model) the backend. */
  dispose(): void;
  backendInfo: string;
  config: MmoeConfig;
}

/** PyTorch nn.Linear's init: uniform in ±1/√fan_in (for the one-hot layers, fan_in = Σ vocab + continuous). */
function uniform(rng: Rng, n: number, fanIn: number): Float32Array {
  const bound = 1 / Math.sqrt(fanIn);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.uniform() * 2 - 1) * bound;
  return a;
}

/** Seeded census-like rows: uniform categorical values, standard normal columns, labels with about a third positive. */
function syntheticRows(rng: Rng, cfg: MmoeConfig): MmoeRows {
  const { batch: B, vocab, continuous: C, tasks: T } = cfg;
  const categorical = new Int32Array(B * vocab.length);
  for (let r = 0; r < B; r++) for (let f = 0; f < vocab.length; f++) categorical[r * vocab.length + f] = rng.int(vocab[f]);
  const continuous = Float32Array.from({ length: B * C }, () => rng.normal());
  const labels = Float32Array.from({ length: B * T }, () => (rng.uniform() < 1 / 3 ? 1 : 0));
  return { categorical, continuous, labels };
}

export function mmoeHost(overrides: Partial<MmoeConfig> = {}, batch?: MmoeRows): MmoeHost {
  const cfg: MmoeConfig = { ...CENSUS_MMOE, ...overrides };
  for (const k of ['continuous', 'experts', 'expertUnits', 'towerUnits', 'tasks', 'batch'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < (k === 'continuous' ? 0 : 1)) throw new Error(`MMoE config: ${k} must be a whole number >= ${k === 'continuous' ? 0 : 1}, got ${cfg[k]}.`);
  }
  if (cfg.vocab.length === 0 || !cfg.vocab.every((v) => Number.isInteger(v) && v >= 1)) throw new Error(`MMoE config: vocab must list each field's size (whole numbers >= 1), got [${cfg.vocab.join(', ')}].`);
  const { vocab, continuous: C, experts: E, expertUnits: U, towerUnits: H, tasks: T, batch: B } = cfg;
  const F = vocab.length;
  const V = vocab.reduce((a, b) => a + b, 0);
  const rng = new Rng(cfg.seed);
  const params: Record<string, Float32Array> = {
    E_cat: uniform(rng, V * E * U, V + C),
    E_cont: uniform(rng, C * E * U, V + C),
    E_b: uniform(rng, E * U, V + C),
    G_cat: uniform(rng, V * T * E, V + C),
    G_cont: uniform(rng, C * T * E, V + C),
    G_b: uniform(rng, T * E, V + C),
  };
  for (let t = 0; t < T; t++) {
    params[`t${t}_W1`] = uniform(rng, U * H, U);
    params[`t${t}_b1`] = uniform(rng, H, U);
    params[`t${t}_W2`] = uniform(rng, H, H);
    params[`t${t}_b2`] = uniform(rng, 1, H);
  }
  const data = batch ?? syntheticRows(rng, cfg);
  const want = { categorical: B * F, continuous: B * C, labels: B * T };
  for (const [k, n] of Object.entries(want)) {
    const got = data[k as keyof MmoeRows].length;
    if (got !== n) throw new Error(`MMoE batch: ${k} holds ${got} values, but batch ${B} needs ${n}; pass [batch × ${k === 'labels' ? 'tasks' : k === 'categorical' ? 'fields' : 'columns'}] values.`);
  }
  const offsets = vocab.map((_, f) => vocab.slice(0, f).reduce((a, b) => a + b, 0));
  const rows = new Int32Array(B * F);
  for (let r = 0; r < B; r++) {
    for (let f = 0; f < F; f++) {
      const v = data.categorical[r * F + f];
      if (!(Number.isInteger(v) && v >= 0 && v < vocab[f])) throw new Error(`MMoE batch: row ${r} field ${f} holds ${v}, outside the field's ${vocab[f]} values.`);
      rows[r * F + f] = offsets[f] + v;
    }
  }
  const labels = new Float32Array(T * B);
  const weights = new Float32Array(T * B);
  for (let r = 0; r < B; r++) {
    for (let t = 0; t < T; t++) {
      const y = data.labels[r * T + t];
      if (Number.isNaN(y)) continue;
      labels[t * B + r] = y;
      weights[t * B + r] = 1;
    }
  }
  return { cfg, params, rows, continuous: Float32Array.from(data.continuous), labels, weights };
}

function shapeOf(name: string, cfg: MmoeConfig): number[] {
  const { continuous: C, experts: E, expertUnits: U, towerUnits: H, tasks: T } = cfg;
  const V = cfg.vocab.reduce((a, b) => a + b, 0);
  const tower: Record<string, number[]> = { W1: [U, H], b1: [H], W2: [H, 1], b2: [1] };
  const shapes: Record<string, number[]> = { E_cat: [V, E * U], E_cont: [C, E * U], E_b: [E * U], G_cat: [V, T * E], G_cont: [C, T * E], G_b: [T * E] };
  return shapes[name] ?? tower[name.slice(name.indexOf('_') + 1)];
}

// TF.js variable names are global to its engine: each model instance gets its own prefix.
let instances = 0;

/** The TF.js MMoE on TF.js's WebGPU backend (on shadertrain's adapter); `batch` defaults to seeded synthetic rows. */
export async function createTfjsMmoe(config: Partial<MmoeConfig> = {}, batch?: MmoeRows): Promise<TfjsMmoe> {
  const host = mmoeHost(config, batch);
  const c = host.cfg;
  const backend = await acquireTfjsWebGpu();
  const prefix = `mmoe${++instances}_`;
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
      const init = tf.tensor(data, shapeOf(name, c));
      vars[name] = tf.variable(init, true, `${prefix}${name}`);
      init.dispose(); // the variable holds its own reference to the data
    }
    const { batch: B, experts: E, expertUnits: U, tasks: T, continuous: C } = c;
    const F = c.vocab.length;
    const rows = tf.tensor1d(host.rows, 'int32');
    const xc = tf.tensor2d(host.continuous, [B, C]);
    const ys = Array.from({ length: T }, (_, t) => tf.tensor1d(host.labels.subarray(t * B, (t + 1) * B)));
    const ws = Array.from({ length: T }, (_, t) => tf.tensor1d(host.weights.subarray(t * B, (t + 1) * B)));
    inputs.push(rows, xc, ...ys, ...ws);
    // PyTorch's Adam epsilon (TF.js's default would be 1e-7).
    const opt = tf.train.adam(c.lr, 0.9, 0.999, 1e-8);
    optimizer = opt;

    /** [one-hot fields, continuous]·W + b: the fields' rows summed, plus the columns' product. */
    const oneHot = (cat: tf.Variable, cont: tf.Variable, b: tf.Variable, width: number): tf.Tensor2D => {
      const fields = tf.sum(tf.reshape(tf.gather(cat, rows), [B, F, width]), 1);
      return tf.add(C > 0 ? tf.add(fields, tf.matMul(xc, cont)) : fields, b);
    };

    const loss = (): tf.Scalar => {
      const experts = tf.reshape(tf.relu(oneHot(vars.E_cat, vars.E_cont, vars.E_b, E * U)), [B, E, U]);
      const gates = tf.softmax(tf.reshape(oneHot(vars.G_cat, vars.G_cont, vars.G_b, T * E), [B, T, E]));
      // [B, T, E]·[B, E, U]: each task's gate-weighted sum of the experts.
      const mixed = tf.unstack(tf.matMul(gates, experts), 1) as tf.Tensor2D[];
      const losses = mixed.map((m, t) => {
        const h = tf.relu(tf.add(tf.matMul(m, vars[`t${t}_W1`] as tf.Tensor2D), vars[`t${t}_b1`]));
        const logit = tf.reshape(tf.add(tf.matMul(h, vars[`t${t}_W2`] as tf.Tensor2D), vars[`t${t}_b2`]), [B]);
        // Mean over the rows with the task's label (weights 1), as shadertrain's masked BCE.
        return tf.losses.sigmoidCrossEntropy(ys[t], logit, ws[t], 0, tf.Reduction.SUM_BY_NONZERO_WEIGHTS);
      });
      return tf.addN(losses) as tf.Scalar;
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
