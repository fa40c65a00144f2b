// The one-hot dense layer (categorical fields as weight rows, plus continuous columns) against a
// float64 Linear over the explicit [one-hot, continuous] vector: forward with each activation,
// and the gradients of every parameter through the activate op. Fields only, columns only, and
// both. Node and Chromium.
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/graph/autodiff.ts';
import { CompiledStep } from '../src/graph/compile.ts';
import { Graph, type Tensor } from '../src/graph/graph.ts';
import { mseLoss } from '../src/graph/ops/loss.ts';
import type { Activation } from '../src/kernels/matmul-ref.ts';
import { OneHotLinear } from '../src/nn/one-hot.ts';
import { Rng } from '../src/random.ts';
import { expectClose } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

const ROWS = 7;
const WIDTH = 5;

interface Case {
  fields: { name: string; vocabulary: number }[];
  continuous: number;
  activation: Activation;
}

/** The layer's weight as the one-hot Linear's [Σ vocab + continuous, width], its bias, from the named parameters. */
function denseWeights(c: Case, w: Map<string, Float32Array>): { W: Float32Array; b: Float32Array } {
  const V = c.fields.reduce((n, f) => n + f.vocabulary, 0);
  const W = new Float32Array((V + c.continuous) * WIDTH);
  if (V) W.set(w.get('l.fields.table') as Float32Array, 0);
  if (c.continuous) W.set(w.get('l.continuous.weight') as Float32Array, V * WIDTH);
  const b = (c.continuous ? w.get('l.continuous.bias') : w.get('l.bias')) as Float32Array;
  return { W, b };
}

const act = (z: number, a: Activation): number => (a === 'relu' ? Math.max(z, 0) : a === 'sigmoid' ? 1 / (1 + Math.exp(-z)) : a === 'tanh' ? Math.tanh(z) : z);
const dact = (y: number, a: Activation): number => (a === 'relu' ? (y > 0 ? 1 : 0) : a === 'sigmoid' ? y * (1 - y) : a === 'tanh' ? 1 - y * y : 1);

async function check(c: Case): Promise<void> {
  const rng = new Rng(3);
  const layer = new OneHotLinear(new Rng(4), c.fields, c.continuous, WIDTH);
  const g = new Graph();
  const params = layer.declare(g, 'l');
  const F = c.fields.length;
  const cat = F ? g.input('cat', [ROWS, F], 'u32') : null;
  const cont = c.continuous ? g.input('cont', [ROWS, c.continuous], 'f32') : null;
  const y = g.keep(layer.forward(g, cat, cont, c.activation));
  const target = g.input('target', [ROWS, WIDTH], 'f32');
  // weight size/2: the loss's gradient is y - target.
  const loss = mseLoss(g, y, target, (ROWS * WIDTH) / 2);
  const grads = gradients(g, [loss], [...params.values()]);
  for (const d of grads.values()) g.keep(d);
  const x = Uint32Array.from({ length: ROWS * F }, (_, i) => rng.int(c.fields[i % F].vocabulary));
  const xc = Float32Array.from({ length: ROWS * c.continuous }, () => rng.normal());
  const tgt = Float32Array.from({ length: ROWS * WIDTH }, () => rng.normal());
  const step = await CompiledStep.create(t.gpu, g);
  try {
    step.feed({ ...(F ? { cat: x } : {}), ...(c.continuous ? { cont: xc } : {}), target: tgt });
    step.run();
    const w = new Map<string, Float32Array>();
    for (const [name, p] of params) w.set(name, (await step.read(t.ring, p)) as Float32Array);
    const { W, b } = denseWeights(c, w);
    const V = c.fields.reduce((n, f) => n + f.vocabulary, 0);
    const inW = V + c.continuous;
    // The explicit input vector, and the float64 forward and backward of act(v·W + b).
    const v = new Float64Array(ROWS * inW);
    const offsets = c.fields.map((_, f) => c.fields.slice(0, f).reduce((n, g2) => n + g2.vocabulary, 0));
    for (let r = 0; r < ROWS; r++) {
      for (let f = 0; f < F; f++) v[r * inW + offsets[f] + x[r * F + f]] = 1;
      for (let k = 0; k < c.continuous; k++) v[r * inW + V + k] = xc[r * c.continuous + k];
    }
    const out = new Float64Array(ROWS * WIDTH);
    const dW = new Float64Array(inW * WIDTH);
    const db = new Float64Array(WIDTH);
    for (let r = 0; r < ROWS; r++) {
      for (let o = 0; o < WIDTH; o++) {
        let z = b[o];
        for (let i = 0; i < inW; i++) z += v[r * inW + i] * W[i * WIDTH + o];
        out[r * WIDTH + o] = act(z, c.activation);
        const dz = (out[r * WIDTH + o] - tgt[r * WIDTH + o]) * dact(out[r * WIDTH + o], c.activation);
        db[o] += dz;
        for (let i = 0; i < inW; i++) dW[i * WIDTH + o] += v[r * inW + i] * dz;
      }
    }
    expectClose((await step.read(t.ring, y)) as Float32Array, out, { atol: 1e-5, rtol: 1e-5 }, 'forward');
    const got = new Map<string, Float32Array>();
    for (const [name, p] of params) got.set(name, (await step.read(t.ring, grads.get(p) as Tensor)) as Float32Array);
    const G = denseWeights(c, got);
    expectClose(G.W, dW, { atol: 1e-5, rtol: 1e-4 }, 'dW');
    expectClose(G.b, db, { atol: 1e-5, rtol: 1e-4 }, 'db');
  } finally {
    step.destroy();
  }
}

const FIELDS = [
  { name: 'a', vocabulary: 4 },
  { name: 'b', vocabulary: 3 },
  { name: 'c', vocabulary: 6 },
];

describe('one-hot dense layer against the explicit one-hot Linear', () => {
  it('fields and continuous columns, relu (the activate op)', () => check({ fields: FIELDS, continuous: 3, activation: 'relu' }));
  it('fields and continuous columns, sigmoid', () => check({ fields: FIELDS, continuous: 2, activation: 'sigmoid' }));
  it('fields only: the bias rides in the embedding bag', () => check({ fields: FIELDS, continuous: 0, activation: 'relu' }));
  it('continuous columns only: a plain dense layer', () => check({ fields: [], continuous: 4, activation: 'tanh' }));
  it('fields only, no activation', () => check({ fields: FIELDS, continuous: 0, activation: 'none' }));

  it('draws PyTorch\'s one-hot Linear init: uniform ±1/√(Σ vocabulary + columns)', () => {
    const layer = new OneHotLinear(new Rng(1), FIELDS, 3, 64);
    const bound = 1 / Math.sqrt(13 + 3);
    const all = [...(layer.fields?.tables[0].table.data ?? []), ...(layer.continuous?.weight.data ?? [])];
    expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...all.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(() => new OneHotLinear(new Rng(1), [], 0, 4)).toThrow(/at least one categorical field or continuous column/);
  });
});
