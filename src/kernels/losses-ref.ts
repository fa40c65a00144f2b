// Float64 references for the fused losses in shaders/losses.wgsl: per-element (or per-row)
// losses and gradients, both already times `scale` (and the weight), as the GPU writes them.

export interface LossAndGrad {
  loss: Float64Array;
  grad: Float64Array;
}

export type RankingKind = 'cs330' | 'bpr';

export function sigmoidRef(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export function softplusRef(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** Sigmoid + binary cross-entropy from logits; `mask[i] === 0` or `weights[i] === 0` drops element i, `weights` scale it. */
export function bceWithLogitsRef(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  scale: number,
  opts: { weights?: ArrayLike<number>; mask?: ArrayLike<number> } = {},
): LossAndGrad {
  const n = logits.length;
  const loss = new Float64Array(n);
  const grad = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if ((opts.mask && opts.mask[i] === 0) || (opts.weights && opts.weights[i] === 0)) continue;
    const x = logits[i];
    const y = labels[i];
    const k = scale * (opts.weights ? opts.weights[i] : 1);
    loss[i] = (Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)))) * k;
    // sigmoid(x) - y, as 1 - y - sigmoid(-x) for x >= 0: float64 would round 1 - 1e-35 to 1 too.
    grad[i] = (x >= 0 ? 1 - y - sigmoidRef(-x) : sigmoidRef(x) - y) * k;
  }
  return { loss, grad };
}

/**
 * BCE(y, p) with p = σ(a) σ(b), and its gradients w.r.t. a and b; `weights[i] === 0` drops
 * element i. Plain float64: log p = log σ(a) + log σ(b) from softplus; 1 - p is log1p(-p) for p <= 1/2
 * and otherwise the sum of two positive terms σ(-a) + σ(a) σ(-b), which keeps its digits where
 * 1 - σ(a) σ(b) would round to 0 (the kernel's f32 works in log space instead);
 * d loss / da = σ(-a) ((1 - y) p / (1 - p) - y). Logits beyond ±700 overflow float64's exp.
 */
export function bceOnProductRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  labels: ArrayLike<number>,
  scale: number,
  weights?: ArrayLike<number>,
): { loss: Float64Array; gradA: Float64Array; gradB: Float64Array } {
  const n = a.length;
  const loss = new Float64Array(n);
  const gradA = new Float64Array(n);
  const gradB = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (weights && weights[i] === 0) continue;
    const y = labels[i];
    const p = sigmoidRef(a[i]) * sigmoidRef(b[i]);
    const q = sigmoidRef(-a[i]) + sigmoidRef(a[i]) * sigmoidRef(-b[i]);
    // log σ(x) = -softplus(-x): log(σ(30)) would round 1 - 9e-14 first.
    const logP = -softplusRef(-a[i]) - softplusRef(-b[i]);
    const logQ = p <= 0.5 ? Math.log1p(-p) : Math.log(q);
    const k = scale * (weights ? weights[i] : 1);
    loss[i] = (-y * logP - (1 - y) * logQ) * k;
    gradA[i] = sigmoidRef(-a[i]) * ((1 - y) * (p / q) - y) * k;
    gradB[i] = sigmoidRef(-b[i]) * ((1 - y) * (p / q) - y) * k;
  }
  return { loss, gradA, gradB };
}

/** Pairwise ranking loss of d = pos - neg: 'cs330' is 1 - sigmoid(d), 'bpr' is -log sigmoid(d). */
export function rankingRef(
  kind: RankingKind,
  pos: ArrayLike<number>,
  neg: ArrayLike<number>,
  scale: number,
): { loss: Float64Array; gradPos: Float64Array; gradNeg: Float64Array } {
  const n = pos.length;
  const loss = new Float64Array(n);
  const gradPos = new Float64Array(n);
  const gradNeg = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = pos[i] - neg[i];
    // 1 - sigmoid(d) = sigmoid(-d), which keeps the digits of a tiny loss.
    const l = kind === 'cs330' ? sigmoidRef(-d) : softplusRef(-d);
    const g = kind === 'cs330' ? -sigmoidRef(d) * sigmoidRef(-d) : -sigmoidRef(-d);
    loss[i] = l * scale;
    gradPos[i] = g * scale;
    gradNeg[i] = -g * scale;
  }
  return { loss, gradPos, gradNeg };
}

/** (pred - target)^2 and its gradient w.r.t. pred; `mask[i] === 0` or `weights[i] === 0` drops element i, `weights` scale it. */
export function mseRef(
  pred: ArrayLike<number>,
  target: ArrayLike<number>,
  scale: number,
  opts: { weights?: ArrayLike<number>; mask?: ArrayLike<number> } = {},
): LossAndGrad {
  const n = pred.length;
  const loss = new Float64Array(n);
  const grad = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if ((opts.mask && opts.mask[i] === 0) || (opts.weights && opts.weights[i] === 0)) continue;
    const e = pred[i] - target[i];
    const k = scale * (opts.weights ? opts.weights[i] : 1);
    loss[i] = e * e * k;
    grad[i] = 2 * e * k;
  }
  return { loss, grad };
}

export interface SoftmaxCrossEntropyRef extends LossAndGrad {
  /** 1 where the row's first maximal logit is its label (and its weight is not 0), else 0. */
  correct: Float64Array;
}

/**
 * Softmax cross-entropy of logits [rows, cols] with one class label per row. Rows whose
 * label is not a class (>= cols) score 0, as the GPU kernel's guard does.
 */
export function softmaxCrossEntropyRef(
  logits: ArrayLike<number>,
  labels: ArrayLike<number>,
  cols: number,
  scale: number,
  weights?: ArrayLike<number>,
): SoftmaxCrossEntropyRef {
  const rows = labels.length;
  const loss = new Float64Array(rows);
  const grad = new Float64Array(rows * cols);
  const correct = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    if (!(label >= 0 && label < cols)) continue;
    const base = r * cols;
    let m = -Infinity;
    let arg = 0;
    for (let j = 0; j < cols; j++) {
      if (logits[base + j] > m) {
        m = logits[base + j];
        arg = j;
      }
    }
    // t leaves out the argmax's e^0 = 1, so log1p(t) keeps a tiny loss's digits.
    let t = 0;
    for (let j = 0; j < cols; j++) if (j !== arg) t += Math.exp(logits[base + j] - m);
    const s = 1 + t;
    const w = weights ? weights[r] : 1;
    const k = scale * w;
    loss[r] = (m - logits[base + label] + Math.log1p(t)) * k;
    for (let j = 0; j < cols; j++) {
      const y = Math.exp(logits[base + j] - m) / s;
      // y - 1 at the label is -t / s when the label is the argmax, without cancellation.
      grad[base + j] = (j !== label ? y : j === arg ? -t / s : y - 1) * k;
    }
    correct[r] = arg === label && w !== 0 ? 1 : 0;
  }
  return { loss, grad, correct };
}
