// The multi-task graph ops (masked per-element loss weights, MMoE's gate, ESMM's BCE on a
// product, column split, seeded dropout, uncertainty weighting) wired into small models: reverse mode through the kernels against central
// differences of the model's own GPU forward, in Node and Chromium.
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/graph/autodiff.ts';
import { CompiledStep } from '../src/graph/compile.ts';
import { Graph, type Tensor } from '../src/graph/graph.ts';
import { dropout } from '../src/graph/ops/dropout.ts';
import { splitColumns } from '../src/graph/ops/elementwise.ts';
import { gateMix } from '../src/graph/ops/gate-mix.ts';
import { bceOnProduct, bceWithLogits, mseLoss } from '../src/graph/ops/loss.ts';
import { dense } from '../src/graph/ops/matmul.ts';
import { uncertaintyLoss } from '../src/graph/ops/uncertainty.ts';
import { Rng } from '../src/random.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();
const [B, F, E, U] = [6, 4, 3, 2];

/** Per-element weights 1/(labels present) where present, 0 where missing: the host's masked mean. */
function presentWeights(present: boolean[]): Float32Array {
  const count = present.filter(Boolean).length;
  return Float32Array.from(present, (p) => (p ? 1 / count : 0));
}

function mmoe() {
  const rng = new Rng(17);
  const u = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * s);
  const g = new Graph();
  const We = g.param('We', [F, E * U], u(F * E * U, 0.8));
  const be = g.param('be', [E * U], u(E * U, 0.2));
  const Wg1 = g.param('Wg1', [F, E], u(F * E, 1));
  const Wg2 = g.param('Wg2', [F, E], u(F * E, 1));
  const Wt1 = g.param('Wt1', [U, 1], u(U, 1));
  const Wt2 = g.param('Wt2', [U, 1], u(U, 1));
  const Wr = g.param('Wr', [U, 1], u(U, 1));
  const x = g.input('x', [B, F], 'f32');
  const click = g.input('click', [B, 1], 'f32');
  const both = g.input('both', [B, 1], 'f32');
  const target = g.input('target', [B, 1], 'f32');
  const w1 = g.input('w1', [B], 'f32');
  const w2 = g.input('w2', [B], 'f32');
  const experts = dense(g, x, We, be, 'tanh');
  // Two gates read the same experts: their gradients into the experts add up.
  const mix1 = gateMix(g, dense(g, x, Wg1, undefined), experts);
  const mix2 = gateMix(g, dense(g, x, Wg2, undefined), experts);
  const ctr = dense(g, mix1, Wt1, undefined);
  const cvr = dense(g, mix2, Wt2, undefined);
  const losses = [
    bceWithLogits(g, ctr, click, { weights: w1, divisor: 1 }),
    bceOnProduct(g, ctr, cvr, both, { weight: 0.6 }),
    mseLoss(g, dense(g, mix2, Wr, undefined), target, 0.5, { weights: w2, divisor: 1 }),
  ].map((l) => g.keep(l));
  const params = [We, be, Wg1, Wg2, Wt1, Wt2, Wr];
  const grads = gradients(g, losses, params);
  for (const d of grads.values()) g.keep(d);
  const present1 = Array.from({ length: B }, (_, i) => i !== 2);
  const present2 = Array.from({ length: B }, (_, i) => i % 3 !== 0);
  const feed = {
    x: Float32Array.from({ length: B * F }, () => rng.normal()),
    // Missing labels hold NaN: weight 0 must keep them out of the loss and the gradients.
    click: Float32Array.from(present1, (p) => (p ? rng.int(2) : NaN)),
    both: Float32Array.from({ length: B }, () => rng.int(2)),
    target: Float32Array.from(present2, (p) => (p ? rng.normal() : NaN)),
    w1: presentWeights(present1),
    w2: presentWeights(present2),
  };
  return { g, params, grads, losses, feed };
}

/** Shared layer, dropout, one head split into three columns (one unused), uncertainty-weighted losses. */
function weighted() {
  const rng = new Rng(23);
  const u = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * s);
  const g = new Graph();
  const W1 = g.param('W1', [F, 5], u(F * 5, 0.8));
  const W2 = g.param('W2', [5, 3], u(15, 0.8));
  const s = g.param('s', [2], Float32Array.from([0.3, -0.2]));
  const x = g.input('x', [B, F], 'f32');
  const seed = g.input('seed', [2], 'u32');
  const click = g.input('click', [B, 1], 'f32');
  const target = g.input('target', [B, 1], 'f32');
  const w1 = g.input('w1', [B], 'f32');
  const h = dropout(g, dense(g, x, W1, undefined, 'tanh'), 0.4, seed);
  const [a, b] = splitColumns(g, dense(g, h, W2, undefined), [1, 1, 1]);
  const total = uncertaintyLoss(g, [bceWithLogits(g, a, click, { weights: w1, divisor: 1 }), mseLoss(g, b, target)], s);
  const losses = [g.keep(total)];
  const params = [W1, W2, s];
  const grads = gradients(g, losses, params);
  for (const d of grads.values()) g.keep(d);
  const present = Array.from({ length: B }, (_, i) => i !== 4);
  const feed = {
    x: Float32Array.from({ length: B * F }, () => rng.normal()),
    seed: Uint32Array.from([7, 3]),
    click: Float32Array.from(present, (p) => (p ? rng.int(2) : NaN)),
    target: Float32Array.from({ length: B }, () => rng.normal()),
    w1: presentWeights(present),
  };
  return { g, params, grads, losses, feed };
}

interface Model {
  g: Graph;
  params: Tensor[];
  grads: Map<Tensor, Tensor>;
  losses: Tensor[];
  feed: Record<string, Float32Array | Uint32Array>;
}

async function checkGradients(m: Model): Promise<void> {
  const step = await CompiledStep.create(t.gpu, m.g);
  step.feed(m.feed);
  const total = async (): Promise<number> => {
    step.run();
    let s = 0;
    for (const l of m.losses) for (const v of (await step.read(t.ring, l)) as Float32Array) s += v;
    return s;
  };
  expect(Number.isFinite(await total())).toBe(true);
  const analytic = new Map<Tensor, Float32Array>();
  for (const p of m.params) analytic.set(p, (await step.read(t.ring, m.grads.get(p)!)) as Float32Array);
  const h = 3e-3;
  for (const p of m.params) {
    const base = Float32Array.from(m.g.init.get(p)!);
    for (const j of new Set([0, Math.floor(p.size / 2), p.size - 1])) {
      const at = (v: number): Promise<number> => {
        const x = Float32Array.from(base);
        x[j] = v;
        step.write(p, x);
        return total();
      };
      const fd = ((await at(base[j] + h)) - (await at(base[j] - h))) / (2 * h);
      step.write(p, base);
      const got = analytic.get(p)![j];
      expect(Number.isFinite(got), `d loss / d ${p.name}[${j}] is ${got}`).toBe(true);
      // f32 forward differences over 2h: about 1e-4 of noise; a wiring error is far larger.
      expect(Math.abs(fd - got), `d loss / d ${p.name}[${j}]: reverse mode ${got}, finite differences ${fd}`).toBeLessThan(3e-4 + 1e-2 * Math.abs(fd));
    }
  }
  step.destroy();
}

describe('multi-task graph ops', () => {
  it('reverse mode through two gates on shared experts, masked weighted BCE and MSE, and the BCE on a product matches finite differences', async () => {
    await checkGradients(mmoe());
  });

  it('reverse mode through seeded dropout, a column split with an unused block, and uncertainty weighting (into the log-variances too) matches finite differences', async () => {
    await checkGradients(weighted());
  });

  it('splits columns into blocks of the given widths', async () => {
    const g = new Graph();
    const x = g.input('x', [3, 6], 'f32');
    const blocks = splitColumns(g, x, [1, 3, 2]).map((b) => g.keep(b));
    const step = await CompiledStep.create(t.gpu, g);
    const data = Float32Array.from({ length: 18 }, (_, i) => i);
    step.feed({ x: data });
    step.run();
    const want = [[0, 6, 12], [1, 2, 3, 7, 8, 9, 13, 14, 15], [4, 5, 10, 11, 16, 17]];
    for (let i = 0; i < 3; i++) expect(Array.from((await step.read(t.ring, blocks[i])) as Float32Array)).toEqual(want[i]);
    step.destroy();
    expect(() => splitColumns(g, x, [2, 3])).toThrow(/split_columns: x.* must be 2-D with 5 columns/);
  });

  it('names a task loss passed to gradients() and to the uncertainty weighting both', () => {
    const g = new Graph();
    const w = g.param('w', [2, 1], Float32Array.from([1, 2]));
    const s = g.param('s', [1], Float32Array.from([0]));
    const l = mseLoss(g, dense(g, g.input('x', [3, 2], 'f32'), w, undefined), g.input('y', [3, 1], 'f32'));
    const total = uncertaintyLoss(g, [l], s);
    expect(() => gradients(g, [total, l], [w, s])).toThrow(/add:|seeded by/);
  });
});
