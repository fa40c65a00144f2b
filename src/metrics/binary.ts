// Binary-classification metrics on the host, over a whole evaluation split: exact ROC AUC, the
// ROC and precision-recall curves, average precision, log loss and accuracy. Inputs are the
// model's outputs read back once per evaluation (any ArrayLike: Float32Array, number[]); every
// sum is float64. A NaN label is a missing label (the multi-task table writes NaN where a row
// has none) and the row is skipped; a label other than 0, 1 or NaN is an error. A NaN score or
// probability on a labelled row makes the metric NaN, so a diverged model is reported, not hidden.

/** Rows with equal scores, grouped: the unit of every ranking metric (ties are one ROC point). */
interface TieGroups {
  /** The distinct scores, descending. */
  scores: Float64Array;
  /** Positive and negative weight (row count when unweighted) at each score. */
  pos: Float64Array;
  neg: Float64Array;
  /** Totals over all groups. */
  positives: number;
  negatives: number;
}

function checkLengths(what: string, a: ArrayLike<number>, b: ArrayLike<number>, aName: string, bName: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: ${a.length} ${aName} for ${b.length} labels; pass one ${aName.replace(/s$/, '')} per label.`);
}

function checkLabel(what: string, label: number, i: number): void {
  if (label !== 0 && label !== 1) throw new RangeError(`${what}: label ${label} at index ${i} is not 0, 1 or NaN (missing); map the labels to 0/1 first.`);
}

/** One class's distinct scores, ascending, and the weight at each. */
interface Runs {
  scores: Float64Array;
  weight: Float64Array;
}

/**
 * Sorts one class's scores with the typed array's own numeric sort (several times faster than
 * sorting row indices with a comparator) and collapses equal scores into runs; weighted rows then
 * find their run by binary search.
 */
function runsOf(values: Float64Array, weights: Float64Array | null): Runs {
  const keys = values.slice().sort();
  const scores = new Float64Array(keys.length);
  const weight = new Float64Array(keys.length);
  let r = -1;
  for (let k = 0; k < keys.length; k++) {
    if (r < 0 || keys[k] !== scores[r]) scores[++r] = keys[k];
    weight[r]++;
  }
  const out = { scores: scores.subarray(0, r + 1), weight: weight.subarray(0, r + 1) };
  if (weights) {
    out.weight.fill(0);
    for (let i = 0; i < values.length; i++) {
      let lo = 0;
      let hi = r;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (out.scores[mid] < values[i]) lo = mid + 1;
        else hi = mid;
      }
      out.weight[lo] += weights[i];
    }
  }
  return out;
}

/**
 * The labelled rows' tie groups, descending by score: each class sorted once, then merged.
 * Returns null when a labelled row's score is NaN. Rows of weight 0 are dropped (they move no
 * point of any curve).
 */
function tieGroups(what: string, scores: ArrayLike<number>, labels: ArrayLike<number>, weights?: ArrayLike<number>): TieGroups | null {
  checkLengths(what, scores, labels, 'scores', 'labels');
  if (weights) checkLengths(what, weights, labels, 'weights', 'labels');
  const n = labels.length;
  const value = [new Float64Array(n), new Float64Array(n)];
  const weight = weights ? [new Float64Array(n), new Float64Array(n)] : null;
  const count = [0, 0];
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (Number.isNaN(y)) continue;
    checkLabel(what, y, i);
    const w = weights ? weights[i] : 1;
    if (!(w >= 0) || w === Infinity) throw new RangeError(`${what}: weight ${w} at index ${i} is not a finite number >= 0; pass finite non-negative weights.`);
    if (w === 0) continue;
    const s = scores[i];
    if (Number.isNaN(s)) return null;
    if (weight) weight[y][count[y]] = w;
    value[y][count[y]++] = s;
  }
  const [neg, pos] = [0, 1].map((c) => runsOf(value[c].subarray(0, count[c]), weight ? weight[c].subarray(0, count[c]) : null));
  const size = pos.scores.length + neg.scores.length;
  const out: TieGroups = { scores: new Float64Array(size), pos: new Float64Array(size), neg: new Float64Array(size), positives: 0, negatives: 0 };
  // Merge from the top of both classes' runs; an equal score in both is one group.
  let p = pos.scores.length - 1;
  let q = neg.scores.length - 1;
  let g = 0;
  while (p >= 0 || q >= 0) {
    const sp = p >= 0 ? pos.scores[p] : -Infinity;
    const sq = q >= 0 ? neg.scores[q] : -Infinity;
    const top = p >= 0 && (q < 0 || sp >= sq) ? sp : sq;
    out.scores[g] = top;
    if (p >= 0 && sp === top) {
      out.pos[g] = pos.weight[p--];
      out.positives += out.pos[g];
    }
    if (q >= 0 && sq === top) {
      out.neg[g] = neg.weight[q--];
      out.negatives += out.neg[g];
    }
    g++;
  }
  out.scores = out.scores.subarray(0, g);
  out.pos = out.pos.subarray(0, g);
  out.neg = out.neg.subarray(0, g);
  return out;
}

/**
 * Exact area under the ROC curve: the Mann–Whitney U statistic over (positive, negative) pairs,
 * a pair counting 1 when the positive scores higher and 1/2 when they tie — the same value as the
 * rank-sum formula with average ranks for ties. O(n log n): one sort, then one pass over the tie
 * groups. With weights, a pair counts the product of its rows' weights.
 *
 * Returns NaN when the labelled rows hold only one class (AUC is undefined there; a per-epoch log
 * shows NaN instead of the run failing), or when a labelled row's score is NaN.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>, weights?: ArrayLike<number>): number {
  const t = tieGroups('auc', scores, labels, weights);
  if (!t || t.positives === 0 || t.negatives === 0) return NaN;
  // Walking from the highest score down: every negative below a positive's group is a pair it
  // wins; the negatives in its own group are ties.
  let u = 0;
  let negAbove = 0;
  for (let j = 0; j < t.scores.length; j++) {
    u += t.pos[j] * (t.negatives - negAbove - t.neg[j] * 0.5);
    negAbove += t.neg[j];
  }
  return u / (t.positives * t.negatives);
}

export interface CurveOptions {
  /** Sample weights, one per row (default 1). */
  weights?: ArrayLike<number>;
  /**
   * Thin the curve to at most this many points (>= 2) for a chart: points closer than an even
   * share of the curve's length to the last one kept are dropped; the first and last points stay.
   */
  maxPoints?: number;
}

export interface RocCurve {
  /** False and true positive rates, from (0, 0) to (1, 1), one point per distinct score. */
  fpr: Float64Array;
  tpr: Float64Array;
  /** The score at and above which rows count as positive; +Infinity for the (0, 0) point. */
  thresholds: Float64Array;
}

export interface PrCurve {
  /** Recall rising from 0 and precision, one point per distinct score after the (0, 1) start. */
  recall: Float64Array;
  precision: Float64Array;
  /** The score at and above which rows count as positive; +Infinity for the (0, 1) start. */
  thresholds: Float64Array;
  /** Σ (R_k − R_{k−1}) P_k over the full curve (scikit-learn's definition: no interpolation). NaN without positives. */
  averagePrecision: number;
}

/** Keeps the first and last point and those at least an even share of the path length from the previous one kept. */
function thin(x: Float64Array, y: Float64Array, maxPoints: number | undefined): Uint32Array | null {
  const n = x.length;
  if (maxPoints === undefined || n <= maxPoints) return null;
  if (!(Number.isInteger(maxPoints) && maxPoints >= 2)) throw new RangeError(`curve maxPoints ${maxPoints} is not a whole number >= 2; ask for at least the two end points.`);
  let length = 0;
  for (let i = 1; i < n; i++) length += Math.sqrt((x[i] - x[i - 1]) ** 2 + (y[i] - y[i - 1]) ** 2);
  // Each kept point is at least `step` (straight line) from the previous one and so at least as
  // far along the path: at most length/step + 1 of them, plus the last point.
  const step = maxPoints > 2 ? length / (maxPoints - 2) : Infinity;
  const keep: number[] = [0];
  for (let i = 1; i < n - 1; i++) {
    const k = keep[keep.length - 1];
    if (Math.sqrt((x[i] - x[k]) ** 2 + (y[i] - y[k]) ** 2) >= step) keep.push(i);
  }
  keep.push(n - 1);
  return Uint32Array.from(keep);
}

function pick(a: Float64Array, idx: Uint32Array | null): Float64Array {
  return idx ? Float64Array.from(idx, (i) => a[i]) : a;
}

function curveGroups(what: string, scores: ArrayLike<number>, labels: ArrayLike<number>, weights?: ArrayLike<number>): TieGroups {
  const t = tieGroups(what, scores, labels, weights);
  if (!t) throw new RangeError(`${what}: a labelled row's score is NaN; the model's outputs are not numbers (did training diverge?).`);
  return t;
}

/**
 * The ROC curve: one point per distinct score (ties collapse into one point), after (0, 0).
 * Throws when a labelled row's score is NaN. A class that is absent makes its rate NaN.
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>, options: CurveOptions = {}): RocCurve {
  const t = curveGroups('rocCurve', scores, labels, options.weights);
  const n = t.scores.length + 1;
  const fpr = new Float64Array(n);
  const tpr = new Float64Array(n);
  const thresholds = new Float64Array(n);
  thresholds[0] = Infinity;
  let tp = 0;
  let fp = 0;
  for (let j = 0; j < t.scores.length; j++) {
    tp += t.pos[j];
    fp += t.neg[j];
    fpr[j + 1] = fp / t.negatives;
    tpr[j + 1] = tp / t.positives;
    thresholds[j + 1] = t.scores[j];
  }
  if (t.negatives === 0) fpr.fill(NaN);
  if (t.positives === 0) tpr.fill(NaN);
  const keep = thin(fpr, tpr, options.maxPoints);
  return { fpr: pick(fpr, keep), tpr: pick(tpr, keep), thresholds: pick(thresholds, keep) };
}

/**
 * The precision-recall curve, one point per distinct score after the conventional (recall 0,
 * precision 1) start, and the average precision of the full (unthinned) curve. Throws when a
 * labelled row's score is NaN. Without positives, recall and average precision are NaN.
 */
export function prCurve(scores: ArrayLike<number>, labels: ArrayLike<number>, options: CurveOptions = {}): PrCurve {
  const t = curveGroups('prCurve', scores, labels, options.weights);
  const n = t.scores.length + 1;
  const recall = new Float64Array(n);
  const precision = new Float64Array(n);
  const thresholds = new Float64Array(n);
  precision[0] = 1;
  thresholds[0] = Infinity;
  let tp = 0;
  let fp = 0;
  let ap = 0;
  for (let j = 0; j < t.scores.length; j++) {
    tp += t.pos[j];
    fp += t.neg[j];
    recall[j + 1] = tp / t.positives;
    precision[j + 1] = tp / (tp + fp);
    thresholds[j + 1] = t.scores[j];
    ap += (t.pos[j] / t.positives) * precision[j + 1];
  }
  if (t.positives === 0) {
    recall.fill(NaN);
    ap = NaN;
  }
  const keep = thin(recall, precision, options.maxPoints);
  return { recall: pick(recall, keep), precision: pick(precision, keep), thresholds: pick(thresholds, keep), averagePrecision: ap };
}

/**
 * Mean binary cross-entropy of probabilities over the labelled rows. Probabilities are clamped to
 * [eps, 1 − eps] (eps 1e-7 by default, about float32's epsilon) so that a confident wrong answer
 * costs −log(eps) ≈ 16.1 instead of Infinity. NaN when no row is labelled.
 */
export function logLoss(probs: ArrayLike<number>, labels: ArrayLike<number>, eps = 1e-7): number {
  checkLengths('logLoss', probs, labels, 'probabilities', 'labels');
  let sum = 0;
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (Number.isNaN(y)) continue;
    checkLabel('logLoss', y, i);
    const p = Math.min(Math.max(probs[i], eps), 1 - eps);
    sum -= y === 1 ? Math.log(p) : Math.log1p(-p);
    count++;
  }
  return count ? sum / count : NaN;
}

/**
 * Mean binary cross-entropy of logits over the labelled rows, exact for any logit:
 * softplus(z) − y·z, written so that neither exp overflows. NaN when no row is labelled.
 */
export function logLossFromLogits(logits: ArrayLike<number>, labels: ArrayLike<number>): number {
  checkLengths('logLossFromLogits', logits, labels, 'logits', 'labels');
  let sum = 0;
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (Number.isNaN(y)) continue;
    checkLabel('logLossFromLogits', y, i);
    const z = logits[i];
    sum += Math.max(z, 0) - y * z + Math.log1p(Math.exp(-Math.abs(z)));
    count++;
  }
  return count ? sum / count : NaN;
}

/**
 * Fraction of labelled rows whose prediction (score > threshold) equals the label. Pass
 * probabilities with the default 0.5, or logits with threshold 0. NaN when no row is labelled.
 */
export function accuracy(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold = 0.5): number {
  checkLengths('accuracy', scores, labels, 'scores', 'labels');
  let right = 0;
  let count = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (Number.isNaN(y)) continue;
    checkLabel('accuracy', y, i);
    const s = scores[i];
    if (Number.isNaN(s)) return NaN;
    if (s > threshold === (y === 1)) right++;
    count++;
  }
  return count ? right / count : NaN;
}
