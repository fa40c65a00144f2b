// Categorical-field embeddings, every layout (a table per field, one packed table) with every
// combination (concatenated, summed), forward and the tables' gradients, against a float64
// one-hot reference: the sum is onehot(x)·P and the concatenation is P's row per field, for
// P the tables one after another. Node and Chromium.
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/graph/autodiff.ts';
import { CompiledStep } from '../src/graph/compile.ts';
import { Graph, type Tensor } from '../src/graph/graph.ts';
import { mseLoss } from '../src/graph/ops/loss.ts';
import { FieldEmbeddings, rowSparse, type FieldEmbeddingOptions } from '../src/nn/embedding.ts';
import { Rng } from '../src/random.ts';
import { expectClose } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

const FIELDS = [
  { name: 'age', vocabulary: 5 },
  { name: 'occupation', vocabulary: 3 },
  { name: 'zip', vocabulary: 7 },
  { name: 'sex', vocabulary: 2 },
];
const F = FIELDS.length;
const DIM = 4;
const ROWS = 6;
const OFFSETS = [0, 5, 8, 15];
const VOCAB = 17;

/** Row r's values, row-major [ROWS, F]; the first column repeats a value so rows share a table row. */
function batch(rng: Rng): Uint32Array {
  const x = new Uint32Array(ROWS * F);
  for (let r = 0; r < ROWS; r++) for (let f = 0; f < F; f++) x[r * F + f] = f === 0 && r % 2 ? 4 : rng.int(FIELDS[f].vocabulary);
  return x;
}

/** The float64 one-hot model: output, and dP for a loss whose gradient is (out - target). */
function reference(P: Float32Array, x: Uint32Array, target: Float32Array, combine: 'concat' | 'sum'): { out: Float64Array; dP: Float64Array } {
  const width = combine === 'sum' ? DIM : F * DIM;
  const onehot = new Float64Array(ROWS * VOCAB);
  for (let r = 0; r < ROWS; r++) for (let f = 0; f < F; f++) onehot[r * VOCAB + OFFSETS[f] + x[r * F + f]] = 1;
  const out = new Float64Array(ROWS * width);
  const dP = new Float64Array(VOCAB * DIM);
  for (let r = 0; r < ROWS; r++) {
    for (let f = 0; f < F; f++) {
      const at = combine === 'sum' ? 0 : f * DIM;
      // onehot(x)·P restricted to field f's columns: exactly one 1.
      for (let v = OFFSETS[f]; v < OFFSETS[f] + FIELDS[f].vocabulary; v++) {
        for (let k = 0; k < DIM; k++) out[r * width + at + k] += onehot[r * VOCAB + v] * P[v * DIM + k];
      }
    }
    for (let f = 0; f < F; f++) {
      const at = combine === 'sum' ? 0 : f * DIM;
      const v = OFFSETS[f] + x[r * F + f];
      for (let k = 0; k < DIM; k++) dP[v * DIM + k] += out[r * width + at + k] - target[r * width + at + k];
    }
  }
  return { out, dP };
}

async function check(o: Required<Pick<FieldEmbeddingOptions, 'tables' | 'combine'>>): Promise<void> {
  const rng = new Rng(21);
  const m = new FieldEmbeddings(new Rng(20), FIELDS, DIM, o);
  // The same seed draws the packed table as the separate tables one after another.
  const P = Float32Array.from(m.tables.flatMap((e) => Array.from(e.table.data)));
  const g = new Graph();
  const params = m.declare(g, 'fields');
  expect([...params.keys()]).toEqual(o.tables === 'packed' ? ['fields.table'] : FIELDS.map((f) => `fields.${f.name}`));
  const idx = g.input('x', [ROWS, F], 'u32');
  const out = m.forward(g, idx);
  const width = o.combine === 'sum' ? DIM : F * DIM;
  expect(out.shape).toEqual([ROWS, width]);
  const target = g.input('target', [ROWS, width], 'f32');
  // weight size/2: the loss's gradient is out - target.
  const loss = mseLoss(g, out, target, (ROWS * width) / 2);
  const tables = [...params.values()];
  const grads = gradients(g, [loss], tables);
  for (const x of [out, ...grads.values()]) g.keep(x);
  const sparse = rowSparse(g, m);
  expect([...sparse.keys()]).toEqual(tables);
  expect([...sparse.values()].map((i) => i.name)).toEqual(o.tables === 'packed' ? ['x.packed'] : FIELDS.map((f) => `x.${f.name}`));
  const x = batch(rng);
  const tgt = Float32Array.from({ length: ROWS * width }, () => rng.normal());
  const step = await CompiledStep.create(t.gpu, g);
  try {
    step.feed({ x, target: tgt });
    step.run();
    const ref = reference(P, x, tgt, o.combine);
    // Gathers copy; sums add up to four terms.
    expectClose((await step.read(t.ring, out)) as Float32Array, ref.out, o.combine === 'sum' ? { atol: 1e-6, rtol: 1e-6 } : { atol: 0, rtol: 0 }, 'out');
    const dP = (await Promise.all(tables.map(async (p) => Array.from((await step.read(t.ring, grads.get(p) as Tensor)) as Float32Array)))).flat();
    expectClose(dP, ref.dP, { atol: 1e-5, rtol: 1e-5 }, 'dP');
    x[1 * F + 1] = 3;
    expect(() => step.feed({ x, target: tgt })).toThrow(/field "occupation" has value 3 at row 1, outside its vocabulary of 3: feed values below it/);
  } finally {
    step.destroy();
  }
}

describe('field embeddings against the one-hot product', () => {
  it('a table per field, concatenated', () => check({ tables: 'separate', combine: 'concat' }));
  it('a table per field, summed', () => check({ tables: 'separate', combine: 'sum' }));
  it('one packed table, concatenated', () => check({ tables: 'packed', combine: 'concat' }));
  it('one packed table, summed (an embedding bag per row)', () => check({ tables: 'packed', combine: 'sum' }));

  it('refuses indices of the wrong shape and fields without a name or vocabulary', () => {
    const m = new FieldEmbeddings(new Rng(1), FIELDS, DIM);
    const g = new Graph();
    m.declare(g);
    expect(() => m.forward(g, g.input('x', [ROWS, 3], 'u32'))).toThrow(/the indices x\[6x3\] \[6, 3\] must be a u32 input \[rows, 4\] fed by the host/);
    expect(() => new FieldEmbeddings(new Rng(1), [{ name: 'a', vocabulary: 0 }], DIM)).toThrow(/field "a": its vocabulary must be an integer >= 1, got 0/);
    expect(() => new FieldEmbeddings(new Rng(1), [{ name: '', vocabulary: 2 }], DIM)).toThrow(/every field needs a name/);
    expect(() => new FieldEmbeddings(new Rng(1), [], DIM)).toThrow(/at least one field/);
  });
});
