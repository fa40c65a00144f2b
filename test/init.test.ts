// Initialisers: bounds and spread as PyTorch defines them, and orthogonal_ as the unique QR
// factor with a positive R diagonal (checked against Gram-Schmidt of the same normal draws).
import { describe, expect, it } from 'vitest';
import { linearInit, orthogonal, thinQ, transpose, uniformInit, xavierUniform } from '../src/nn/init.ts';
import { Rng } from '../src/random.ts';

function stats(a: Float32Array): { min: number; max: number; mean: number; variance: number } {
  let min = Infinity;
  let max = -Infinity;
  let s = 0;
  for (const v of a) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    s += v;
  }
  const mean = s / a.length;
  let q = 0;
  for (const v of a) q += (v - mean) ** 2;
  return { min, max, mean, variance: q / a.length };
}

/** Classical Gram-Schmidt of A's columns (float64, twice for stability): Q with R's diagonal > 0. */
function gramSchmidt(a: Float64Array, m: number, n: number): Float64Array {
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) {
    const v = new Float64Array(m);
    for (let i = 0; i < m; i++) v[i] = a[i * n + j];
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let d = 0;
        for (let i = 0; i < m; i++) d += q[i * n + k] * v[i];
        for (let i = 0; i < m; i++) v[i] -= d * q[i * n + k];
      }
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < m; i++) q[i * n + j] = v[i] / norm;
  }
  return q;
}

/** max |MᵀM - I| over a row-major m×n matrix's columns. */
function orthoError(a: ArrayLike<number>, m: number, n: number, gain = 1): number {
  let worst = 0;
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < n; k++) {
      let d = 0;
      for (let i = 0; i < m; i++) d += a[i * n + j] * a[i * n + k];
      worst = Math.max(worst, Math.abs(d - (j === k ? gain * gain : 0)));
    }
  }
  return worst;
}

describe('uniform initialisers', () => {
  it('linearInit is uniform(±1/√fanIn), as nn.Linear', () => {
    const a = linearInit(new Rng(1), 64, 20_000);
    const s = stats(a);
    const bound = 1 / 8;
    expect(s.min).toBeGreaterThanOrEqual(-bound);
    expect(s.max).toBeLessThan(bound);
    expect(s.max).toBeGreaterThan(bound * 0.99); // fills the interval
    expect(Math.abs(s.mean)).toBeLessThan(0.01 * bound * 3);
    // Var of uniform(±b) is b²/3; 20k draws: about 1% relative spread.
    expect(s.variance / (bound * bound / 3)).toBeCloseTo(1, 1);
  });

  it('xavierUniform has the Glorot bound and fanIn·fanOut values', () => {
    const a = xavierUniform(new Rng(2), 784 + 5, 4 * 128);
    expect(a.length).toBe(789 * 512);
    const bound = Math.sqrt(6 / (789 + 512));
    const s = stats(a);
    expect(s.min).toBeGreaterThanOrEqual(-bound);
    expect(s.max).toBeLessThan(bound);
    expect(s.variance / (bound * bound / 3)).toBeCloseTo(1, 2);
    expect(stats(xavierUniform(new Rng(2), 10, 10, 2)).max).toBeLessThan(2 * Math.sqrt(6 / 20));
  });

  it('is reproducible from the seed and rejects bad sizes', () => {
    expect(Array.from(linearInit(new Rng(5), 3, 7))).toEqual(Array.from(linearInit(new Rng(5), 3, 7)));
    expect(Array.from(linearInit(new Rng(5), 3, 7))).not.toEqual(Array.from(linearInit(new Rng(6), 3, 7)));
    expect(() => linearInit(new Rng(1), 0, 3)).toThrow(/fanIn must be an integer >= 1, got 0/);
    expect(() => uniformInit(new Rng(1), -1, 3)).toThrow(/bound/);
  });
});

describe('orthogonal', () => {
  it('equals Gram-Schmidt of the same normal draws (a tall matrix: orthonormal columns)', () => {
    const [m, n] = [12, 5];
    const q = orthogonal(new Rng(7), m, n);
    const rng = new Rng(7);
    const a = Float64Array.from({ length: m * n }, () => rng.normal());
    const want = gramSchmidt(a, m, n);
    for (let i = 0; i < want.length; i++) expect(Math.abs(q[i] - want[i])).toBeLessThan(1e-6);
    expect(orthoError(q, m, n)).toBeLessThan(1e-6);
  });

  it('factors the transpose of a wide matrix (orthonormal rows), and scales by gain', () => {
    const [m, n] = [4, 16];
    const q = orthogonal(new Rng(8), m, n, 2);
    const rng = new Rng(8);
    const a = Float64Array.from({ length: m * n }, () => rng.normal());
    const at = Float64Array.from(transpose(a, m, n));
    const want = gramSchmidt(Float64Array.from({ length: m * n }, (_, i) => at[i]), n, m); // [n, m]
    // Float32 transpose of the draws costs ~1e-7; compare at 1e-5.
    for (let r = 0; r < m; r++) for (let c = 0; c < n; c++) expect(Math.abs(q[r * n + c] / 2 - want[c * m + r])).toBeLessThan(1e-5);
    expect(orthoError(transpose(q, m, n), n, m, 2)).toBeLessThan(1e-5);
  });

  it('gives an LSTM W_hh [H, 4H] with orthonormal rows once transposed from torch\'s [4H, H]', () => {
    const H = 32;
    const w = transpose(orthogonal(new Rng(9), 4 * H, H), 4 * H, H); // [H, 4H]
    expect(orthoError(transpose(w, H, 4 * H), 4 * H, H)).toBeLessThan(1e-5);
    // A square orthogonal matrix is orthogonal both ways.
    const s = orthogonal(new Rng(10), 9, 9);
    expect(orthoError(s, 9, 9)).toBeLessThan(1e-6);
    expect(orthoError(transpose(s, 9, 9), 9, 9)).toBeLessThan(1e-6);
  });

  it('thinQ makes R\'s diagonal positive', () => {
    const a = Float64Array.from([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8]); // [4, 3]
    const q = thinQ(a, 4, 3);
    for (let j = 0; j < 3; j++) {
      let d = 0;
      for (let i = 0; i < 4; i++) d += q[i * 3 + j] * a[i * 3 + j];
      expect(d).toBeGreaterThan(0); // R[j][j] = q_jᵀ a_j
    }
  });
});
