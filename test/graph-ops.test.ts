// Every graph op the models use, wired into one model whose gradients (reverse mode through
// the kernels) are checked against central differences of the model's own GPU forward.
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/graph/autodiff.ts';
import { CompiledStep } from '../src/graph/compile.ts';
import { Graph, type Tensor } from '../src/graph/graph.ts';
import { concat, mul, scale } from '../src/graph/ops/elementwise.ts';
import { embedding } from '../src/graph/ops/embedding.ts';
import { bceWithLogits, mseLoss, rankingLoss, softmaxCrossEntropy } from '../src/graph/ops/loss.ts';
import { dense } from '../src/graph/ops/matmul.ts';
import { rowDot } from '../src/graph/ops/rows.ts';
import { Rng } from '../src/random.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();
const [B, USERS, ITEMS, D, HID, C] = [6, 5, 7, 4, 5, 3];

function model() {
  const rng = new Rng(5);
  const u = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * s);
  const g = new Graph();
  const U = g.param('U', [USERS, D], u(USERS * D, 0.8));
  const Q = g.param('Q', [ITEMS, D], u(ITEMS * D, 0.8));
  const W1 = g.param('W1', [3 * D, HID], u(3 * D * HID, 0.5));
  const b1 = g.param('b1', [HID], u(HID, 0.2));
  const W2 = g.param('W2', [HID, 1], u(HID, 0.5));
  const Wc = g.param('Wc', [HID, C], u(HID * C, 0.5));
  const users = g.input('users', [B], 'u32');
  const pos = g.input('pos', [B], 'u32');
  const neg = g.input('neg', [B], 'u32');
  const rating = g.input('rating', [B, 1], 'f32');
  const click = g.input('click', [B, C], 'f32');
  const mask = g.input('mask', [B, C], 'f32');
  const label = g.input('label', [B], 'u32');
  const rowW = g.input('roww', [B], 'f32');
  const uu = embedding(g, U, users);
  const qp = embedding(g, Q, pos);
  const qn = embedding(g, Q, neg); // Q feeds three ops: its gradients must add up
  const rank1 = rankingLoss(g, rowDot(g, uu, qp), rowDot(g, uu, qn), 'cs330', 0.7);
  const rank2 = rankingLoss(g, rowDot(g, uu, qp), rowDot(g, uu, qn), 'bpr', 0.3);
  const h = dense(g, concat(g, [uu, qp, mul(g, uu, qp)]), W1, b1, 'tanh');
  const mse = mseLoss(g, scale(g, dense(g, h, W2, undefined, 'sigmoid'), 5), rating, 0.5);
  const bce = bceWithLogits(g, dense(g, h, Wc, undefined), click, { mask, weight: 0.8 });
  const ce = softmaxCrossEntropy(g, dense(g, h, Wc, undefined), label, { rowWeights: rowW, divisor: 4 }).loss;
  const losses = [rank1, rank2, mse, bce, ce].map((l) => g.keep(l));
  const params = [U, Q, W1, b1, W2, Wc];
  const grads = gradients(g, losses, params);
  for (const d of grads.values()) g.keep(d);
  const feed = {
    users: Uint32Array.from({ length: B }, () => rng.int(USERS)),
    pos: Uint32Array.from({ length: B }, () => rng.int(ITEMS)),
    neg: Uint32Array.from({ length: B }, () => rng.int(ITEMS)),
    rating: Float32Array.from({ length: B }, () => 1 + rng.int(5)),
    click: Float32Array.from({ length: B * C }, () => rng.int(2)),
    mask: Float32Array.from({ length: B * C }, () => (rng.uniform() < 0.7 ? 1 : 0)),
    label: Uint32Array.from({ length: B }, () => rng.int(C)),
    roww: Float32Array.from([1, 0, 1, 1, 0, 1]),
  };
  return { g, params, grads, losses, feed };
}

describe('graph ops together', () => {
  it('reverse mode through embedding, mul, concat, dense, scale, row dot and every loss matches finite differences', async () => {
    const m = model();
    const step = await CompiledStep.create(t.gpu, m.g);
    step.feed(m.feed);
    const total = async (): Promise<number> => {
      step.run();
      let s = 0;
      for (const l of m.losses) for (const v of (await step.read(t.ring, l)) as Float32Array) s += v;
      return s;
    };
    await total();
    const analytic = new Map<Tensor, Float32Array>();
    for (const p of m.params) analytic.set(p, (await step.read(t.ring, m.grads.get(p)!)) as Float32Array);
    const h = 3e-3;
    for (const p of m.params) {
      const base = Float32Array.from(m.g.init.get(p)!);
      // Rows of the tables that the batch gathers, and a spread of weights.
      const picks = p.name === 'U' ? [m.feed.users[0] * D, m.feed.users[1] * D + 3] : p.name === 'Q' ? [m.feed.pos[0] * D + 1, m.feed.neg[2] * D + 2] : [0, Math.floor(p.size / 2), p.size - 1];
      for (const j of picks) {
        const at = (v: number): Promise<number> => {
          const x = Float32Array.from(base);
          x[j] = v;
          step.write(p, x);
          return total();
        };
        const fd = ((await at(base[j] + h)) - (await at(base[j] - h))) / (2 * h);
        step.write(p, base);
        const got = analytic.get(p)![j];
        // f32 forward differences over 2h: about 1e-4 of noise; a wiring error (sign, factor, missing term) is far larger.
        expect(Math.abs(fd - got), `d loss / d ${p.name}[${j}]: reverse mode ${got}, finite differences ${fd}`).toBeLessThan(3e-4 + 1e-2 * Math.abs(fd));
      }
    }
    step.destroy();
  });
});
