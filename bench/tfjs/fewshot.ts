// The few-shot classifier (CS330 homework 1: a memory-augmented network made of two LSTMs)
// written as a TF.js user without tfjs-layers would: the recurrence unrolled in tfjs-core ops
// (matMul, split, sigmoid/tanh), Adam from tf.train. One fixed batch of episodes, drawn once
// from a seeded generator, so a benchmark times the training step alone.
import { Rng } from '../../src/random.ts';
import { acquireTfjsWebGpu, minimizeStep, readGradients, tf } from './backend.ts';

export const IMAGE_SIZE = 784;
/** Share of ones in the synthetic binary images (about Omniglot's ink coverage). */
export const INK = 0.09;

export interface FewshotConfig {
  /** N: classes per episode (the second LSTM's width: its hidden states are the logits). */
  numClasses: number;
  /** K: support examples per class; the sequence is (K+1)·N long, the last N the queries. */
  numShot: number;
  batch: number;
  /** The first LSTM's width (128 in the homework). */
  hidden: number;
  seed?: number;
}

export interface FewshotHost {
  cfg: Required<FewshotConfig>;
  /** [B, T, 784 + N]: image then label, the label zero on the last N (query) positions. */
  input: Float32Array;
  /** [B, N, N]: the query positions' one-hot classes. */
  target: Float32Array;
  /**
   * W_ih [in, 4H], W_hh [H, 4H], b [4H] per layer (x·W, gates i, f, g, o in that order as in
   * PyTorch). One bias per layer: PyTorch's b_ih + b_hh, both zero at init.
   */
  params: Record<'Wih1' | 'Whh1' | 'b1' | 'Wih2' | 'Whh2' | 'b2', Float32Array>;
}

export interface TfjsFewshot {
  /** One training step (forward, loss, backward, Adam); resolves with the loss read back (before this step's update). */
  step(): Promise<number>;
  /** The loss's gradient for every parameter (keys as in the host arrays) at the current values, nothing updated: for checks. */
  gradients(): Promise<Record<string, Float32Array>>;
  /** Frees every tensor, the optimizer's state, and (with the last model) the backend. */
  dispose(): void;
  backendInfo: string;
  config: Required<FewshotConfig>;
}

function uniform(rng: Rng, n: number, bound: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.uniform() * 2 - 1) * bound;
  return a;
}

/** Xavier-uniform for a [fanIn, fanOut] matrix (the bound is symmetric in the two). */
function xavier(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  return uniform(rng, fanIn * fanOut, Math.sqrt(6 / (fanIn + fanOut)));
}

export function fewshotHost(config: FewshotConfig): FewshotHost {
  const cfg: Required<FewshotConfig> = { seed: 1, ...config };
  for (const k of ['numClasses', 'numShot', 'batch', 'hidden'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new Error(`few-shot config: ${k} must be a positive integer, got ${cfg[k]}`);
  }
  const { numClasses: N, numShot: K, batch: B, hidden: H } = cfg;
  const T = (K + 1) * N;
  const I = IMAGE_SIZE + N;
  const rng = new Rng(cfg.seed);
  const input = new Float32Array(B * T * I);
  const target = new Float32Array(B * N * N);
  for (let b = 0; b < B; b++) {
    // Support: shot k of class n at position k·N + n; queries: the classes in a shuffled order.
    const queryOrder = rng.shuffle(Array.from({ length: N }, (_, n) => n));
    for (let t = 0; t < T; t++) {
      const row = (b * T + t) * I;
      for (let p = 0; p < IMAGE_SIZE; p++) input[row + p] = rng.uniform() < INK ? 1 : 0;
      if (t < K * N) input[row + IMAGE_SIZE + (t % N)] = 1;
      else target[(b * N + (t - K * N)) * N + queryOrder[t - K * N]] = 1;
    }
  }
  // Homework 1: Xavier-uniform input weights, zero biases; recurrent weights keep PyTorch's
  // default, uniform in ±1/sqrt(hidden).
  const params = {
    Wih1: xavier(rng, I, 4 * H),
    Whh1: uniform(rng, H * 4 * H, 1 / Math.sqrt(H)),
    b1: new Float32Array(4 * H),
    Wih2: xavier(rng, H, 4 * N),
    Whh2: uniform(rng, N * 4 * N, 1 / Math.sqrt(N)),
    b2: new Float32Array(4 * N),
  };
  return { cfg, input, target, params };
}

/**
 * One LSTM layer over x [B, T, in], zero initial state; returns every hidden state [B, T, H].
 * The input projection of all steps is one matmul; the recurrence is unrolled step by step.
 */
export function lstmLayer(x: tf.Tensor3D, wih: tf.Tensor2D, whh: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor3D {
  const [B, T, I] = x.shape;
  const H = whh.shape[0];
  const projected = tf.reshape(tf.add(tf.matMul(tf.reshape(x, [B * T, I]), wih), bias), [B, T, 4 * H]);
  const steps = tf.unstack(projected, 1); // T × [B, 4H]
  let h: tf.Tensor2D = tf.zeros([B, H]);
  let c: tf.Tensor2D = tf.zeros([B, H]);
  const out: tf.Tensor2D[] = [];
  for (let t = 0; t < T; t++) {
    const gates = tf.add(steps[t], tf.matMul(h, whh));
    const [i, f, g, o] = tf.split(gates, 4, 1);
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
    h = tf.mul(tf.sigmoid(o), tf.tanh(c));
    out.push(h);
  }
  return tf.stack(out, 1) as tf.Tensor3D;
}

let instances = 0;

export async function createTfjsFewshot(config: FewshotConfig): Promise<TfjsFewshot> {
  const host = fewshotHost(config);
  const c = host.cfg;
  const { numClasses: N, numShot: K, batch: B, hidden: H } = c;
  const T = (K + 1) * N;
  const I = IMAGE_SIZE + N;
  const backend = await acquireTfjsWebGpu();
  const prefix = `fewshot${++instances}_`;
  const vars: tf.Variable[] = [];
  let optimizer: tf.AdamOptimizer | null = null;
  const inputs: tf.Tensor[] = [];
  const dispose = (): void => {
    optimizer?.dispose();
    optimizer = null;
    for (const t of [...vars, ...inputs]) t.dispose();
    vars.length = 0;
    inputs.length = 0;
    backend.release();
  };
  try {
    const shapes = { Wih1: [I, 4 * H], Whh1: [H, 4 * H], b1: [4 * H], Wih2: [H, 4 * N], Whh2: [N, 4 * N], b2: [4 * N] } as const;
    const v = <R extends tf.Rank>(name: keyof typeof shapes): tf.Variable<R> => {
      const init = tf.tensor(host.params[name], [...shapes[name]]);
      const variable = tf.variable(init, true, `${prefix}${name}`) as tf.Variable<R>;
      init.dispose(); // the variable holds its own reference to the data
      vars.push(variable);
      return variable;
    };
    const [wih1, whh1, wih2, whh2] = [v<tf.Rank.R2>('Wih1'), v<tf.Rank.R2>('Whh1'), v<tf.Rank.R2>('Wih2'), v<tf.Rank.R2>('Whh2')];
    const [b1, b2] = [v<tf.Rank.R1>('b1'), v<tf.Rank.R1>('b2')];
    const x = tf.tensor3d(host.input, [B, T, I]);
    const target = tf.tensor3d(host.target, [B, N, N]);
    inputs.push(x, target);
    const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8); // PyTorch's epsilon
    optimizer = opt;

    const loss = (): tf.Scalar => {
      const h1 = lstmLayer(x, wih1, whh1, b1);
      const logits = lstmLayer(h1, wih2, whh2, b2); // [B, T, N]
      const query = tf.slice(logits, [0, K * N, 0], [B, N, N]);
      // Mean over the B·N queries of the softmax cross-entropy, as PyTorch's F.cross_entropy.
      return tf.losses.softmaxCrossEntropy(target, query) as tf.Scalar;
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
