// The graph pass folding reverse mode's other contributions into pair_features_backward: the
// user rows' add and the item rows' pad_rows + add become the backward's one dispatch, with
// the bits of the adds, in whichever order reverse mode meets the two sums.
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/graph/autodiff.ts';
import { CompiledStep } from '../src/graph/compile.ts';
import { Graph, type Tensor } from '../src/graph/graph.ts';
import { add } from '../src/graph/ops/basic.ts';
import { mul, pairFeatures } from '../src/graph/ops/elementwise.ts';
import { embedding } from '../src/graph/ops/embedding.ts';
import { mseLoss } from '../src/graph/ops/loss.ts';
import { optimize } from '../src/graph/passes.ts';
import { mseRef } from '../src/kernels/losses.ts';
import { pairFeaturesBackwardRef, pairFeaturesRef } from '../src/kernels/pair-features.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();
// 40 x 33 = 1,320 elements: more than a workgroup's share on software adapters, and rows that
// do not start on 16-byte boundaries.
const [B, W, USERS, ITEMS] = [40, 33, 30, 50];

const uniform = (rng: Rng, n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
const opNames = (g: Graph): string[] => g.nodes.map((n) => n.op.name);
const count = (g: Graph, op: string): number => opNames(g).filter((n) => n === op).length;

/**
 * Gathered users u [B] and items q [qRows] (pair_features reads q's first B rows), a loss on
 * x = [u, q, u ⊙ q], one on u and one on all of q. `userLossFirst` puts u's loss before
 * pair_features in the graph, so reverse mode sums the item rows first (and the pair gradient
 * is then the first addend of the user rows' sum, not the second).
 */
function build(fuse: boolean, qRows: number, userLossFirst: boolean) {
  const rng = new Rng(qRows + Number(userLossFirst));
  const g = new Graph();
  const initU = uniform(rng, USERS * W);
  const initQ = uniform(rng, ITEMS * W);
  const U = g.param('U', [USERS, W], initU);
  const Q = g.param('Q', [ITEMS, W], initQ);
  const u = embedding(g, U, g.input('uidx', [B], 'u32'));
  const q = embedding(g, Q, g.input('qidx', [qRows], 'u32'));
  const userLoss = (): Tensor => mseLoss(g, u, g.input('tu', [B, W], 'f32'), 0.4);
  const losses = userLossFirst ? [userLoss()] : [];
  const x = g.keep(pairFeatures(g, u, q));
  losses.push(mseLoss(g, x, g.input('tx', [B, 3 * W], 'f32'), 0.3));
  if (!userLossFirst) losses.push(userLoss());
  losses.push(mseLoss(g, q, g.input('tq', [qRows, W], 'f32'), 0.6));
  const grads = gradients(g, losses, [U, Q, u, q]);
  const feed = {
    uidx: Uint32Array.from({ length: B }, () => rng.int(USERS)),
    qidx: Uint32Array.from({ length: qRows }, () => rng.int(ITEMS)),
    tu: uniform(rng, B * W),
    tx: uniform(rng, B * 3 * W),
    tq: uniform(rng, qRows * W),
  };
  const kept = { du: grads.get(u)!, dq: grads.get(q)!, dU: grads.get(U)!, dQ: grads.get(Q)! };
  for (const v of Object.values(kept)) g.keep(v);
  if (fuse) expect(optimize(g).get('gradient sum into pair_features_backward'), 'folds').toBe(2);
  return { g, x, ...kept, feed, initU, initQ };
}

describe('pair_features_backward adding the other gradients', () => {
  for (const qRows of [2 * B, B]) {
    for (const userLossFirst of [false, true]) {
      it(`q ${qRows} rows, ${userLossFirst ? 'item rows summed first' : 'user rows summed first'}: the bits of add, in one dispatch`, async () => {
        const plain = build(false, qRows, userLossFirst);
        const fused = build(true, qRows, userLossFirst);
        for (const gone of ['add', 'add_rows', 'pad_rows']) expect(opNames(fused.g)).not.toContain(gone);
        expect(count(plain.g, 'add')).toBe(2);
        expect(count(plain.g, 'pad_rows')).toBe(qRows > B ? 1 : 0);
        // The sums are the backward node's own outputs.
        const back = fused.g.nodes.filter((n) => n.op.name === 'pair_features_backward');
        expect(back).toHaveLength(1);
        expect(back[0].outputs).toEqual([fused.du, fused.dq]);
        expect(fused.dq.shape).toEqual([qRows, W]);
        expect(fused.g.nodes.length).toBe(plain.g.nodes.length - 2 - (qRows > B ? 1 : 0));
        expect(fused.g.tensors.length).toBe(plain.g.tensors.length - 2 - (qRows > B ? 1 : 0));
        const a = await CompiledStep.create(t.gpu, plain.g, { passes: [] });
        const b = await CompiledStep.create(t.gpu, fused.g);
        try {
          // Two adds, and pad_rows' zero fill and copy, gone.
          expect(b.dispatchCount).toBe(a.dispatchCount - 2 - (qRows > B ? 2 : 0));
          a.feed(plain.feed);
          b.feed(fused.feed);
          a.run();
          b.run();
          for (const k of ['du', 'dq', 'dU', 'dQ'] as const) {
            expectSameBits((await b.read(t.ring, fused[k])) as Float32Array, (await a.read(t.ring, plain[k])) as Float32Array, k);
          }
          // And the row sums against float64: the pair features' backward plus the two losses' gradients.
          const rowsOf = (init: Float32Array, idx: Uint32Array): Float64Array => Float64Array.from({ length: idx.length * W }, (_, i) => init[idx[Math.floor(i / W)] * W + (i % W)]);
          const u = rowsOf(fused.initU, fused.feed.uidx);
          const q = rowsOf(fused.initQ, fused.feed.qidx);
          const x = pairFeaturesRef(u, q, { rows: B, dim: W });
          const dx = mseRef(x, fused.feed.tx, 0.3 / x.length).grad;
          const ref = pairFeaturesBackwardRef(u, q, dx, { rows: B, dim: W, qRows }, { u: mseRef(u, fused.feed.tu, 0.4 / u.length).grad, q: mseRef(q, fused.feed.tq, 0.6 / q.length).grad });
          const tol = { atol: 1e-9, rtol: 1e-5 };
          expectClose((await b.read(t.ring, fused.du)) as Float32Array, ref.du, tol, 'du vs float64');
          expectClose((await b.read(t.ring, fused.dq)) as Float32Array, ref.dq, tol, 'dq vs float64');
        } finally {
          a.destroy();
          b.destroy();
        }
      });
    }
  }

  /** pair_features' own gradients, before anything is summed with them, and `others` more of u's (made first in the graph). */
  function pairGrads(qRows: number, others = 1) {
    const g = new Graph();
    const u = g.param('u', [4, 3], new Float32Array(12));
    const q = g.param('q', [qRows, 3], new Float32Array(qRows * 3));
    const more = Array.from({ length: others }, (_, i) => mseLoss(g, u, g.input(`t${i}`, [4, 3], 'f32')));
    const grads = gradients(g, [mseLoss(g, pairFeatures(g, u, q), g.input('tx', [4, 9], 'f32'))], [u, q]);
    return { g, u, q, du: grads.get(u)!, dq: grads.get(q)!, others: more.map((l) => gradients(g, [l], [u]).get(u)!) };
  }

  it('folds one sum and leaves the other output as it was (the graph stays valid)', async () => {
    const { g, du, dq, others } = pairGrads(8);
    expect(dq.producer?.op.name).toBe('pad_rows');
    const du2 = others[0];
    const sum = add(g, du2, du);
    expect(optimize(g).get('gradient sum into pair_features_backward')).toBe(1);
    const back = sum.producer!;
    expect(back.op.name).toBe('pair_features_backward');
    expect(back.outputs[0]).toBe(sum);
    expect(back.inputs[3]).toBe(du2);
    // dq is still the padded tensor, read by nothing, its block still this node's.
    expect(dq.producer?.inputs[0].producer).toBe(back);
    expect(g.nodes.indexOf(back)).toBeGreaterThan(g.nodes.indexOf(du2.producer!));
    g.keep(sum);
    g.keep(dq);
    const step = await CompiledStep.create(t.gpu, g);
    step.destroy();
  });

  it('keeps add when the gradient is kept, read, already summed, or its addend comes later', () => {
    for (const how of ['kept', 'read'] as const) {
      const { g, du, others } = pairGrads(8);
      if (how === 'kept') g.keep(du);
      else mseLoss(g, du, g.input('read', [4, 3], 'f32'));
      const sum = add(g, du, others[0]);
      optimize(g);
      expect(sum.producer?.op.name).toBe('add');
    }
    {
      // A third contribution: the first folds, the second is added.
      const { g, du, others } = pairGrads(4, 2);
      const once = add(g, du, others[0]);
      const twice = add(g, once, others[1]);
      optimize(g);
      expect(once.producer?.op.name).toBe('pair_features_backward');
      expect(twice.producer?.op.name).toBe('add');
    }
    {
      // An addend made after the backward node (by mul_backward: mul comes first in the graph,
      // so reverse mode meets it after pair_features).
      const g = new Graph();
      const [u, q, w] = ['u', 'q', 'w'].map((name) => g.param(name, [4, 3], new Float32Array(12)));
      const lm = mseLoss(g, mul(g, u, w), g.input('tm', [4, 3], 'f32'));
      const lx = mseLoss(g, pairFeatures(g, u, q), g.input('tx', [4, 9], 'f32'));
      gradients(g, [lm, lx], [u, q, w]);
      optimize(g);
      expect(count(g, 'add')).toBe(1);
      expect(g.nodes.find((n) => n.op.name === 'pair_features_backward')?.inputs).toHaveLength(3);
    }
    {
      // pair_features(u, u) sums its own two outputs: one cannot be the other's addend.
      const g = new Graph();
      const u = g.param('u', [4, 3], new Float32Array(12));
      gradients(g, [mseLoss(g, pairFeatures(g, u, u), g.input('tx', [4, 9], 'f32'))], [u]);
      optimize(g);
      expect(count(g, 'add')).toBe(1);
      expect(g.nodes.find((n) => n.op.name === 'pair_features_backward')?.inputs).toHaveLength(3);
    }
  });
});
