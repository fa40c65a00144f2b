// Host-side binary and regression metrics: exact AUC against an all-pairs float64 reference on
// data with many ties, scikit-learn's documented values, the curves' shapes and end points,
// missing labels, edge cases, and speed on a large evaluation split.
import { describe, expect, it } from 'vitest';
import { accuracy, auc, logLoss, logLossFromLogits, prCurve, rocCurve } from '../src/metrics/binary.ts';
import { mse } from '../src/metrics/regression.ts';
import { Rng } from '../src/random.ts';

/** AUC by definition: every (positive, negative) pair, 1 when the positive scores higher, 1/2 on a tie. */
function aucPairs(scores: ArrayLike<number>, labels: ArrayLike<number>, weights?: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      const w = (weights ? weights[i] : 1) * (weights ? weights[j] : 1);
      den += w;
      num += w * (scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0);
    }
  }
  return num / den;
}

/** Scores on a coarse grid (many ties) that lean towards the positives, some labels missing. */
function tiedData(rng: Rng, n: number, levels: number): { scores: Float32Array; labels: Float32Array } {
  const scores = new Float32Array(n);
  const labels = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const y = rng.uniform() < 0.3 ? 1 : 0;
    labels[i] = rng.uniform() < 0.1 ? NaN : y;
    scores[i] = Math.min(levels - 1, Math.floor(rng.uniform() * levels * 0.7 + y * levels * 0.3)) / levels;
  }
  return { scores, labels };
}

const sk = { labels: [0, 0, 1, 1], scores: [0.1, 0.4, 0.35, 0.8] };

describe('auc', () => {
  it("matches scikit-learn's documented value and the obvious cases", () => {
    expect(auc(sk.scores, sk.labels)).toBe(0.75);
    expect(auc([1, 2, 3, 4], [0, 0, 1, 1])).toBe(1);
    expect(auc([4, 3, 2, 1], [0, 0, 1, 1])).toBe(0);
    expect(auc([5, 5, 5, 5, 5], [0, 1, 0, 1, 1])).toBe(0.5);
    // One tie between a positive and a negative: 3 of 4 pairs won, one tied.
    expect(auc([0.1, 0.5, 0.5, 0.9], [0, 0, 1, 1])).toBe(0.875);
  });

  it('equals the all-pairs reference on random data with many ties', () => {
    const rng = new Rng(17);
    for (const [n, levels] of [[50, 3], [400, 7], [1500, 20], [1000, 1000]]) {
      const { scores, labels } = tiedData(rng, n, levels);
      const got = auc(scores, labels);
      expect(got).toBeCloseTo(aucPairs(scores, labels), 14);
      expect(got).toBeGreaterThan(0.5);
    }
  });

  it('weights a pair by the product of its rows’ weights; whole weights equal repeated rows', () => {
    const rng = new Rng(5);
    const { scores, labels } = tiedData(rng, 600, 9);
    const weights = Float32Array.from(scores, () => rng.int(4));
    expect(auc(scores, labels, weights)).toBeCloseTo(aucPairs(scores, labels, weights), 14);
    const rs: number[] = [];
    const rl: number[] = [];
    weights.forEach((w, i) => {
      for (let k = 0; k < w; k++) (rs.push(scores[i]), rl.push(labels[i]));
    });
    expect(auc(scores, labels, weights)).toBeCloseTo(auc(rs, rl), 14);
  });

  it('skips missing (NaN) labels, and is NaN with one class or a NaN score', () => {
    expect(auc([0.1, 0.9, 0.2, 0.8, 0.5], [0, NaN, 1, 1, NaN])).toBe(auc([0.1, 0.2, 0.8], [0, 1, 1]));
    expect(auc([0.1, 0.9, 0.2], [0, NaN, 1])).toBe(1);
    // A NaN score on an unlabelled row does not matter.
    expect(auc([0.1, NaN, 0.2], [0, NaN, 1])).toBe(1);
    expect(auc([0.1, 0.2], [1, 1])).toBeNaN();
    expect(auc([0.1, 0.2], [NaN, 0])).toBeNaN();
    expect(auc([], [])).toBeNaN();
    expect(auc([0.1, NaN], [0, 1])).toBeNaN();
    expect(auc([-Infinity, Infinity, Infinity], [0, 1, 0])).toBe(0.75);
  });

  it('names the bad input', () => {
    expect(() => auc([0.1, 0.2], [0, 2])).toThrow(/auc: label 2 at index 1 is not 0, 1 or NaN/);
    expect(() => auc([0.1, 0.2], [0, -1])).toThrow(/label -1 at index 1/);
    expect(() => auc([0.1], [0, 1])).toThrow(/auc: 1 scores for 2 labels/);
    expect(() => auc([0.1, 0.2], [0, 1], [1])).toThrow(/1 weights for 2 labels/);
    expect(() => auc([0.1, 0.2], [0, 1], [1, -1])).toThrow(/weight -1 at index 1/);
  });

  it('ranks 100k scores (time it with npm run bench; tests carry no time limits)', () => {
    const rng = new Rng(3);
    const n = 100_000;
    const scores = new Float32Array(n);
    const labels = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = rng.uniform() < 0.06 ? 1 : 0;
      scores[i] = Math.fround(rng.uniform() + labels[i] * 0.5);
    }
    let best = Infinity;
    let value = 0;
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      value = auc(scores, labels);
      best = Math.min(best, performance.now() - t);
    }
    expect(value).toBeGreaterThan(0.8);
    console.log(`auc of 100k scores: best of 3 ${best.toFixed(1)} ms`);
  });
});

describe('rocCurve', () => {
  it("matches scikit-learn's documented curve", () => {
    const r = rocCurve(sk.scores, sk.labels);
    expect([...r.fpr]).toEqual([0, 0, 0.5, 0.5, 1]);
    expect([...r.tpr]).toEqual([0, 0.5, 0.5, 1, 1]);
    expect([...r.thresholds]).toEqual([Infinity, 0.8, 0.4, 0.35, 0.1]);
  });

  it('collapses ties into one point, and its trapezoids sum to the AUC', () => {
    const { scores, labels } = tiedData(new Rng(9), 2000, 12);
    const r = rocCurve(scores, labels);
    expect(r.thresholds.length).toBe(new Set(scores).size + 1);
    let area = 0;
    for (let i = 1; i < r.fpr.length; i++) {
      expect(r.fpr[i]).toBeGreaterThanOrEqual(r.fpr[i - 1]);
      expect(r.tpr[i]).toBeGreaterThanOrEqual(r.tpr[i - 1]);
      expect(r.thresholds[i]).toBeLessThan(r.thresholds[i - 1]);
      area += ((r.fpr[i] - r.fpr[i - 1]) * (r.tpr[i] + r.tpr[i - 1])) / 2;
    }
    expect([r.fpr[r.fpr.length - 1], r.tpr[r.tpr.length - 1]]).toEqual([1, 1]);
    expect(area).toBeCloseTo(auc(scores, labels), 12);
  });

  it('thins to at most maxPoints, keeping both end points and the shape', () => {
    const rng = new Rng(11);
    const n = 20_000;
    const scores = Float64Array.from({ length: n }, () => rng.uniform());
    const labels = Float64Array.from(scores, (s) => (rng.uniform() < s * s ? 1 : 0));
    const full = rocCurve(scores, labels);
    for (const maxPoints of [2, 3, 50, 200]) {
      const r = rocCurve(scores, labels, { maxPoints });
      expect(r.fpr.length).toBeLessThanOrEqual(maxPoints);
      expect(r.fpr.length).toBe(r.tpr.length);
      expect(r.fpr.length).toBe(r.thresholds.length);
      expect([r.fpr[0], r.tpr[0], r.thresholds[0]]).toEqual([0, 0, Infinity]);
      expect([r.fpr.at(-1), r.tpr.at(-1), r.thresholds.at(-1)]).toEqual([1, 1, full.thresholds.at(-1)]);
      // Every kept point is a point of the full curve.
      const at = new Map([...full.thresholds].map((t, i) => [t, i]));
      for (let i = 0; i < r.fpr.length; i++) {
        const j = at.get(r.thresholds[i]) as number;
        expect([r.fpr[i], r.tpr[i]]).toEqual([full.fpr[j], full.tpr[j]]);
      }
    }
    expect(rocCurve(scores, labels, { maxPoints: 200 }).fpr.length).toBeGreaterThan(100);
    expect(rocCurve([0.1, 0.2], [0, 1], { maxPoints: 10 }).fpr.length).toBe(3);
    expect(() => rocCurve(scores, labels, { maxPoints: 1 })).toThrow(/maxPoints 1 is not a whole number >= 2/);
  });

  it('throws on a NaN score, and gives NaN rates for an absent class', () => {
    expect(() => rocCurve([NaN, 0.2], [0, 1])).toThrow(/rocCurve: a labelled row's score is NaN/);
    const r = rocCurve([0.1, 0.2], [1, 1]);
    expect([...r.tpr]).toEqual([0, 0.5, 1]);
    expect(r.fpr.every(Number.isNaN)).toBe(true);
  });
});

describe('prCurve', () => {
  it("matches scikit-learn's documented curve and average precision", () => {
    const p = prCurve(sk.scores, sk.labels);
    expect([...p.recall]).toEqual([0, 0.5, 0.5, 1, 1]);
    expect([...p.precision]).toEqual([1, 1, 0.5, 2 / 3, 0.5]);
    expect([...p.thresholds]).toEqual([Infinity, 0.8, 0.4, 0.35, 0.1]);
    expect(p.averagePrecision).toBeCloseTo(0.8333333333333333, 15);
  });

  it('counts a tie group once, and agrees with a reference average precision', () => {
    // Ties: the group at 0.5 holds one positive and one negative; precision after it is 2/3.
    const p = prCurve([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]);
    expect([...p.recall]).toEqual([0, 0.5, 1, 1]);
    expect([...p.precision]).toEqual([1, 1, 2 / 3, 0.5]);
    expect(p.averagePrecision).toBeCloseTo(0.5 + 0.5 * (2 / 3), 15);

    const { scores, labels } = tiedData(new Rng(21), 800, 15);
    // Reference: for each distinct threshold, precision and recall by counting every row.
    const ts = [...new Set(scores)].sort((a, b) => b - a);
    const positives = [...labels].filter((y) => y === 1).length;
    let ap = 0;
    let last = 0;
    for (const t of ts) {
      let tp = 0;
      let fp = 0;
      labels.forEach((y, i) => {
        if (scores[i] >= t && y === 1) tp++;
        if (scores[i] >= t && y === 0) fp++;
      });
      ap += (tp / positives - last) * (tp + fp ? tp / (tp + fp) : 1);
      last = tp / positives;
    }
    expect(prCurve(scores, labels).averagePrecision).toBeCloseTo(ap, 12);
    const thinned = prCurve(scores, labels, { maxPoints: 5 });
    expect(thinned.recall.length).toBeLessThanOrEqual(5);
    expect(thinned.averagePrecision).toBe(prCurve(scores, labels).averagePrecision);
    expect([thinned.recall[0], thinned.precision[0]]).toEqual([0, 1]);
    expect(thinned.recall.at(-1)).toBe(1);
  });

  it('is NaN without positives', () => {
    const p = prCurve([0.1, 0.2], [0, 0]);
    expect(p.averagePrecision).toBeNaN();
    expect([...p.precision]).toEqual([1, 0, 0]);
  });
});

describe('logLoss, accuracy and mse', () => {
  it("match scikit-learn's documented log loss, and logits give the same", () => {
    // sklearn: log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]) = 0.21616...
    const probs = [0.9, 0.1, 0.2, 0.65];
    const y = [1, 0, 0, 1];
    expect(logLoss(probs, y)).toBeCloseTo(0.21616187468057912, 14);
    const logits = probs.map((p) => Math.log(p / (1 - p)));
    expect(logLossFromLogits(logits, y)).toBeCloseTo(0.21616187468057912, 14);
  });

  it('clamps probabilities, stays finite for huge logits, and skips missing labels', () => {
    expect(logLoss([0, 1], [1, 0])).toBeCloseTo(-Math.log(1e-7), 9);
    expect(logLoss([0, 1], [0, 1])).toBeCloseTo(-Math.log1p(-1e-7), 12);
    expect(logLoss([0], [1], 1e-3)).toBeCloseTo(-Math.log(1e-3), 12);
    expect(logLossFromLogits([1000, -1000], [1, 0])).toBe(0);
    expect(logLossFromLogits([-1000, 1000], [1, 0])).toBe(1000);
    expect(logLoss([0.9, 0.5, 0.1], [1, NaN, 0])).toBeCloseTo(-Math.log(0.9), 14);
    expect(logLoss([0.5], [NaN])).toBeNaN();
    expect(logLoss([NaN], [1])).toBeNaN();
    expect(() => logLoss([0.5], [0.5])).toThrow(/logLoss: label 0.5 at index 0/);
    expect(() => logLossFromLogits([0.5, 1], [1])).toThrow(/2 logits for 1 labels/);
  });

  it('accuracy thresholds probabilities or logits, and skips missing labels', () => {
    expect(accuracy([0.9, 0.4, 0.6, 0.5], [1, 0, 0, 0])).toBe(0.75);
    expect(accuracy([2, -1, 0.5, 0], [1, 0, 0, 0], 0)).toBe(0.75);
    expect(accuracy([0.9, 0.1, 0.9], [1, NaN, 0])).toBe(0.5);
    expect(accuracy([0.9], [NaN])).toBeNaN();
    expect(accuracy([NaN, 0.9], [0, 1])).toBeNaN();
    expect(() => accuracy([0.9], [3])).toThrow(/accuracy: label 3 at index 0/);
  });

  it('mse skips missing targets', () => {
    expect(mse([1, 2, 3], [1.5, NaN, 1])).toBeCloseTo((0.25 + 4) / 2, 15);
    expect(mse(new Float32Array([1]), new Float32Array([NaN]))).toBeNaN();
    expect(mse([NaN], [1])).toBeNaN();
    expect(() => mse([1], [1, 2])).toThrow(/mse: 1 predictions for 2 targets/);
  });
});
