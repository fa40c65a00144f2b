// Layer initialisation: PyTorch's defaults (bounds and spread), the named alternatives on the
// stored [in, out] layout, and determinism (same seed, same values; zeros draw nothing).
import { describe, expect, it } from 'vitest';
import { Embedding, FieldEmbeddings } from '../src/nn/embedding.ts';
import { init } from '../src/nn/init.ts';
import { Linear, MLP } from '../src/nn/linear.ts';
import { LSTM } from '../src/nn/lstm.ts';
import { Rng } from '../src/random.ts';

function stats(a: ArrayLike<number>): { min: number; max: number; mean: number; variance: number } {
  let [min, max, s] = [Infinity, -Infinity, 0];
  for (let i = 0; i < a.length; i++) {
    min = Math.min(min, a[i]);
    max = Math.max(max, a[i]);
    s += a[i];
  }
  const mean = s / a.length;
  let q = 0;
  for (let i = 0; i < a.length; i++) q += (a[i] - mean) ** 2;
  return { min, max, mean, variance: q / a.length };
}

/** Uniform(±bound): inside the bound, near it at both ends, variance bound²/3 within 5%. */
function expectUniform(a: Float32Array, bound: number): void {
  const s = stats(a);
  expect(s.min).toBeGreaterThanOrEqual(-bound);
  expect(s.max).toBeLessThanOrEqual(bound);
  expect(s.min).toBeLessThan(-0.98 * bound);
  expect(s.max).toBeGreaterThan(0.98 * bound);
  expect(Math.abs(s.mean)).toBeLessThan(0.02 * bound);
  expect(s.variance / (bound * bound / 3)).toBeCloseTo(1, 1);
}

describe('layer defaults as PyTorch', () => {
  it('Linear: weight [in, out] and bias, both uniform(±1/√in)', () => {
    const l = new Linear(new Rng(1), 64, 300);
    expect(l.weight.shape).toEqual([64, 300]);
    expect(l.bias?.shape).toEqual([300]);
    expectUniform(l.weight.data, 1 / 8);
    expect(Math.max(...l.bias!.data.map(Math.abs))).toBeLessThanOrEqual(1 / 8);
    expect(new Linear(new Rng(1), 4, 2, { bias: false }).bias).toBeNull();
  });

  it('MLP: one Linear per pair of widths, each with its own fan-in', () => {
    const m = new MLP(new Rng(2), [400, 100, 1]);
    expect(m.layers.map((l) => [l.inFeatures, l.outFeatures])).toEqual([
      [400, 100],
      [100, 1],
    ]);
    expectUniform(m.layers[0].weight.data, 1 / 20);
    expect(Math.max(...m.layers[1].weight.data.map(Math.abs))).toBeLessThanOrEqual(0.1);
    expect(() => new MLP(new Rng(2), [3])).toThrow(/an MLP needs at least an input and an output width/);
  });

  it('Embedding: normal(0, 1)', () => {
    const e = new Embedding(new Rng(3), 500, 40);
    const s = stats(e.table.data);
    expect(Math.abs(s.mean)).toBeLessThan(0.02);
    expect(s.variance).toBeCloseTo(1, 1);
  });

  it('LSTM: weights uniform(±1/√H), the bias the sum of two such draws (b_ih + b_hh)', () => {
    const H = 100;
    const l = new LSTM(new Rng(4), 30, H);
    expect([l.inputWeight.shape, l.recurrentWeight.shape, l.bias.shape]).toEqual([[30, 4 * H], [H, 4 * H], [4 * H]]);
    expectUniform(l.inputWeight.data, 0.1);
    expectUniform(l.recurrentWeight.data, 0.1);
    const b = stats(l.bias.data);
    expect(Math.max(-b.min, b.max)).toBeLessThanOrEqual(0.2);
    expect(b.variance / (2 * 0.01 / 3)).toBeGreaterThan(0.8);
    expect(b.variance / (2 * 0.01 / 3)).toBeLessThan(1.2);
  });
});

describe('named initialisers on the [in, out] layout', () => {
  it("orthogonal: PyTorch's [out, in] matrix has orthonormal rows or columns", () => {
    for (const [inF, outF] of [
      [6, 20],
      [20, 6],
    ]) {
      const w = init.orthogonal()(new Rng(5), [inF, outF]); // [in, out]
      // The smaller dimension's vectors are orthonormal: WᵀW = I (in ≥ out) or WWᵀ = I (in < out).
      const [n, len, at] = inF < outF ? [inF, outF, (v: number, k: number) => w[v * outF + k]] : [outF, inF, (v: number, k: number) => w[k * outF + v]];
      for (let a = 0; a < n; a++) {
        for (let b = 0; b < n; b++) {
          let d = 0;
          for (let k = 0; k < len; k++) d += at(a, k) * at(b, k);
          expect(d).toBeCloseTo(a === b ? 1 : 0, 5);
        }
      }
    }
    expect(() => init.orthogonal()(new Rng(5), [4])).toThrow(/orthogonal initialises a 2-D \[in, out\] weight, got shape \[4\]/);
  });

  it('xavier: uniform(±√(6 / (in + out))); normal: the given spread; zeros draw nothing', () => {
    expectUniform(init.xavier()(new Rng(6), [200, 100]), Math.sqrt(6 / 300));
    const n = stats(init.normal(0.25)(new Rng(7), [100, 100]));
    expect(Math.sqrt(n.variance)).toBeCloseTo(0.25, 2);
    const rng = new Rng(8);
    const before = Array.from(rng.state());
    expect(Array.from(init.zeros()(rng, [3, 2]))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(rng.state())).toEqual(before);
    const l = new Linear(new Rng(9), 3, 2, { init: init.zeros(), biasInit: init.normal(1) });
    expect(Array.from(l.weight.data)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(l.bias!.data)).toEqual(Array.from(init.normal(1)(new Rng(9), [2])));
  });
});

describe('determinism', () => {
  it('the same seed makes the same layers; another seed others', () => {
    const make = (seed: number): Float32Array[] => {
      const rng = new Rng(seed);
      const fields = new FieldEmbeddings(rng, [
        { name: 'a', vocabulary: 3 },
        { name: 'b', vocabulary: 4 },
      ], 2);
      return [...new MLP(rng, [3, 5, 2]).namedParameters().values(), ...new LSTM(rng, 2, 3).namedParameters().values(), ...fields.namedParameters().values()].map((p) => p.data);
    };
    const [a, b, c] = [make(10), make(10), make(11)];
    expect(a.map((x) => Array.from(x))).toEqual(b.map((x) => Array.from(x)));
    expect(a[0]).not.toEqual(c[0]);
  });

  it('packed field tables hold the separate tables one after another', () => {
    const fields = [
      { name: 'a', vocabulary: 3 },
      { name: 'b', vocabulary: 5 },
    ];
    const sep = new FieldEmbeddings(new Rng(12), fields, 4);
    const packed = new FieldEmbeddings(new Rng(12), fields, 4, { tables: 'packed' });
    expect([...sep.namedParameters().keys()]).toEqual(['a', 'b']);
    expect([...packed.namedParameters().keys()]).toEqual(['table']);
    expect(packed.offsets).toEqual([0, 3]);
    expect(Array.from(packed.tables[0].table.data)).toEqual([...sep.tables[0].table.data, ...sep.tables[1].table.data]);
  });
});
