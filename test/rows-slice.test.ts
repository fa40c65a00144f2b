// slice_rows (one block of consecutive rows) and its gradient, the graph pass
// that adds a slice's gradient straight into another gradient's rows (add_rows) instead of
// zero-padding it and adding the full matrices (same bits, fewer dispatches), and
// pair_features reading a taller q's leading rows in place (no slice at all), its backward then
// adding the other gradients itself (see pair-features-accumulate.test.ts).
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/graph/autodiff.ts';
import { CompiledStep } from '../src/graph/compile.ts';
import { Graph, GraphError } from '../src/graph/graph.ts';
import { embedding } from '../src/graph/ops/embedding.ts';
import { pairFeatures } from '../src/graph/ops/elementwise.ts';
import { mseLoss } from '../src/graph/ops/loss.ts';
import { sliceRows } from '../src/graph/ops/rows.ts';
import { optimize } from '../src/graph/passes.ts';
import { add } from '../src/graph/ops/basic.ts';
import { mseRef } from '../src/kernels/losses.ts';
import { RECOMMENDER_DEFAULTS } from '../src/models/recommender/config.ts';
import { Recommender, recommenderAdam, trainGraph } from '../src/models/recommender/model.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();
// Over 1024 elements (a workgroup's share on software adapters), and a width whose rows do not
// start on 256-byte boundaries.
const [ROWS, W, ITEMS] = [70, 33, 40];

function uniform(rng: Rng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1);
}

const opNames = (g: Graph): string[] => g.nodes.map((n) => n.op.name);

describe('slice_rows', () => {
  for (const [start, count] of [
    [0, 30],
    [25, 30],
    [40, 30],
  ]) {
    it(`rows [${start}, ${start + count}): forward copies them, backward pads the gradient with zeros`, async () => {
      const rng = new Rng(start + 1);
      const x = uniform(rng, ROWS * W);
      const target = uniform(rng, count * W);
      const weight = 0.6;
      const g = new Graph();
      const X = g.param('X', [ROWS, W], x);
      const s = sliceRows(g, X, start, count);
      expect(s.shape).toEqual([count, W]);
      const loss = mseLoss(g, s, g.input('target', [count, W], 'f32'), weight);
      const grads = gradients(g, [loss], [X, s]);
      const dX = g.keep(grads.get(X)!);
      const dS = g.keep(grads.get(s)!);
      g.keep(s);
      const step = await CompiledStep.create(t.gpu, g);
      try {
        step.feed({ target });
        step.run();
        const got = (await step.read(t.ring, s)) as Float32Array;
        expectSameBits(got, x.subarray(start * W, (start + count) * W), 'slice');
        const ds = (await step.read(t.ring, dS)) as Float32Array;
        const dx = (await step.read(t.ring, dX)) as Float32Array;
        // float64 reference: the MSE gradient at the block's rows, zero elsewhere.
        const ref = new Float64Array(ROWS * W);
        ref.set(mseRef(got, target, weight / (count * W)).grad, start * W);
        expectClose(dx, ref, { atol: 1e-9, rtol: 1e-5 }, 'dX');
        const padded = new Float32Array(ROWS * W);
        padded.set(ds, start * W);
        expectSameBits(dx, padded, 'dX vs the padded slice gradient');
      } finally {
        step.destroy();
      }
    });
  }

  it('rejects blocks outside the tensor', () => {
    const g = new Graph();
    const X = g.param('X', [4, 2], new Float32Array(8));
    expect(() => sliceRows(g, X, 3, 2)).toThrow(GraphError);
    expect(() => sliceRows(g, X, -1, 2)).toThrow(GraphError);
    expect(() => sliceRows(g, X, 0, 0)).toThrow(GraphError);
    expect(sliceRows(g, X, 2, 2).shape).toEqual([2, 2]);
  });
});

/**
 * A table's gathered rows q feed a loss on all of them and one on a slice: q's gradient sums
 * the full one and the slice's padded one. `sliceFirst` puts the slice's loss first in the
 * graph, so reverse mode meets its gradient second (the padded addend is then `b`, not `a`).
 */
function twoHeads(fuse: boolean, start: number, count: number, sliceFirst: boolean) {
  const rng = new Rng(11);
  const g = new Graph();
  const init = uniform(rng, ITEMS * W);
  const Q = g.param('Q', [ITEMS, W], init);
  const q = embedding(g, Q, g.input('idx', [ROWS], 'u32'));
  const sliced = (): ReturnType<typeof mseLoss> => mseLoss(g, sliceRows(g, q, start, count), g.input('tslice', [count, W], 'f32'), 0.3);
  const whole = (): ReturnType<typeof mseLoss> => mseLoss(g, q, g.input('tfull', [ROWS, W], 'f32'), 0.7);
  const losses = sliceFirst ? [sliced(), whole()] : [whole(), sliced()];
  const grads = gradients(g, losses, [Q, q]);
  const dq = g.keep(grads.get(q)!);
  const dQ = g.keep(grads.get(Q)!);
  if (fuse) expect(optimize(g).get('padded gradient sum as add_rows'), 'add_rows fired').toBe(1);
  const feed = {
    idx: Uint32Array.from({ length: ROWS }, () => rng.int(ITEMS)),
    tslice: uniform(rng, count * W),
    tfull: uniform(rng, ROWS * W),
  };
  return { g, dq, dQ, feed, init };
}

describe('the padded gradient sum pass', () => {
  for (const [start, count, sliceFirst] of [
    [0, 35, false],
    [0, 35, true],
    [20, 35, false],
    [35, 35, true],
    [0, ROWS, false],
  ] as const) {
    it(`adds the slice [${start}, ${start + count}) gradient into the rows of the other (${sliceFirst ? 'slice first' : 'slice last'}) with the bits of add`, async () => {
      const plain = twoHeads(false, start, count, sliceFirst);
      const fused = twoHeads(true, start, count, sliceFirst);
      expect(opNames(plain.g)).toContain('pad_rows');
      expect(opNames(fused.g)).not.toContain('pad_rows');
      expect(opNames(fused.g)).not.toContain('add');
      expect(opNames(fused.g).filter((n) => n === 'add_rows')).toHaveLength(1);
      expect(fused.g.nodes.length).toBe(plain.g.nodes.length - 1);
      expect(fused.g.tensors.length).toBe(plain.g.tensors.length - 1);
      const a = await CompiledStep.create(t.gpu, plain.g, { passes: [] });
      const b = await CompiledStep.create(t.gpu, fused.g);
      try {
        // pad_rows (zero fill unless the block is everything, copy) and add, vs add_rows (two
        // dispatches, or the add alone when the block is everything).
        expect(b.dispatchCount).toBe(a.dispatchCount - 1);
        a.feed(plain.feed);
        b.feed(fused.feed);
        a.run();
        b.run();
        const dqA = (await a.read(t.ring, plain.dq)) as Float32Array;
        const dqB = (await b.read(t.ring, fused.dq)) as Float32Array;
        expectSameBits(dqB, dqA, 'dq');
        expectSameBits((await b.read(t.ring, fused.dQ)) as Float32Array, (await a.read(t.ring, plain.dQ)) as Float32Array, 'dQ');
        // And both against float64: the whole head's gradient plus the slice's at its rows.
        const q = Float64Array.from({ length: ROWS * W }, (_, i) => plain.init[plain.feed.idx[Math.floor(i / W)] * W + (i % W)]);
        const ref = mseRef(q, plain.feed.tfull, 0.7 / (ROWS * W)).grad;
        const part = mseRef(q.subarray(start * W, (start + count) * W), plain.feed.tslice, 0.3 / (count * W)).grad;
        part.forEach((v, i) => (ref[start * W + i] += v));
        expectClose(dqB, ref, { atol: 1e-9, rtol: 1e-5 }, 'dq vs float64');
      } finally {
        a.destroy();
        b.destroy();
      }
    });
  }

  it('keeps add when the padded gradient is kept or read by another op', () => {
    for (const how of ['kept', 'read'] as const) {
      const g = new Graph();
      const X = g.param('X', [6, 2], new Float32Array(12));
      const loss = mseLoss(g, sliceRows(g, X, 2, 3), g.input('target', [3, 2], 'f32'));
      const padded = gradients(g, [loss], [X]).get(X)!;
      expect(padded.producer?.op.name).toBe('pad_rows');
      if (how === 'kept') g.keep(padded);
      else mseLoss(g, padded, g.input('other', [6, 2], 'f32'));
      const other = mseLoss(g, X, g.input('t2', [6, 2], 'f32'));
      const full = gradients(g, [other], [X]).get(X)!;
      const sum = add(g, padded, full);
      optimize(g);
      expect(sum.producer?.op.name).toBe('add');
      expect(opNames(g)).toContain('pad_rows');
    }
  });

  it('sums plain gradients with add', () => {
    const g = new Graph();
    const X = g.param('X', [6, 2], new Float32Array(12));
    const d1 = gradients(g, [mseLoss(g, X, g.input('t1', [6, 2], 'f32'))], [X]).get(X)!;
    const d2 = gradients(g, [mseLoss(g, X, g.input('t2', [6, 2], 'f32'))], [X]).get(X)!;
    const sum = add(g, d1, d2);
    optimize(g);
    expect(sum.producer?.op.name).toBe('add');
  });
});

/** pair_features on q's leading rows, read in place or through a slice, beside a loss on all of q. */
function pairHeads(inPlace: boolean, count: number) {
  const rng = new Rng(5);
  const g = new Graph();
  const initQ = uniform(rng, ITEMS * W);
  const initU = uniform(rng, ITEMS * W);
  const Q = g.param('Q', [ITEMS, W], initQ);
  const U = g.param('U', [ITEMS, W], initU);
  const q = embedding(g, Q, g.input('idx', [ROWS], 'u32'));
  const u = embedding(g, U, g.input('uidx', [count], 'u32'));
  const x = g.keep(pairFeatures(g, u, inPlace ? q : sliceRows(g, q, 0, count)));
  const losses = [mseLoss(g, q, g.input('tfull', [ROWS, W], 'f32'), 0.7), mseLoss(g, x, g.input('tx', [count, 3 * W], 'f32'), 0.3)];
  const grads = gradients(g, losses, [Q, U]);
  optimize(g);
  const feed = {
    idx: Uint32Array.from({ length: ROWS }, () => rng.int(ITEMS)),
    uidx: Uint32Array.from({ length: count }, () => rng.int(ITEMS)),
    tfull: uniform(rng, ROWS * W),
    tx: uniform(rng, count * 3 * W),
  };
  return { g, x, dQ: g.keep(grads.get(Q)!), dU: g.keep(grads.get(U)!), feed };
}

describe('pair_features on the leading rows of a taller q', () => {
  for (const count of [35, ROWS]) {
    it(`reads q's first ${count} of ${ROWS} rows in place, with the bits of slicing them first`, async () => {
      const sliced = pairHeads(false, count);
      const inPlace = pairHeads(true, count);
      expect(opNames(inPlace.g)).not.toContain('slice_rows');
      expect(opNames(inPlace.g)).not.toContain('pad_rows');
      // In place, pair_features_backward also adds the other loss's gradient into all of q's
      // rows; through a shorter slice its dq is padded and added by add_rows.
      expect(opNames(inPlace.g)).not.toContain('add_rows');
      expect(inPlace.g.nodes.length).toBe(sliced.g.nodes.length - (count < ROWS ? 2 : 1));
      const a = await CompiledStep.create(t.gpu, sliced.g);
      const b = await CompiledStep.create(t.gpu, inPlace.g);
      try {
        a.feed(sliced.feed);
        b.feed(inPlace.feed);
        a.run();
        b.run();
        for (const k of ['x', 'dQ', 'dU'] as const) {
          expectSameBits((await b.read(t.ring, inPlace[k])) as Float32Array, (await a.read(t.ring, sliced[k])) as Float32Array, k);
        }
      } finally {
        a.destroy();
        b.destroy();
      }
    });
  }

  it('refuses a q with fewer rows or another width', () => {
    const g = new Graph();
    const u = g.input('u', [4, 3], 'f32');
    expect(() => pairFeatures(g, u, g.input('q1', [3, 3], 'f32'))).toThrow(GraphError);
    expect(() => pairFeatures(g, u, g.input('q2', [6, 2], 'f32'))).toThrow(GraphError);
    expect(pairFeatures(g, u, g.input('q3', [6, 3], 'f32')).shape).toEqual([4, 9]);
  });
});

describe('the recommender step on shared tables', () => {
  it('reads the positives in place, and pair_features_backward adds both heads\' gradients itself', () => {
    const c = { ...RECOMMENDER_DEFAULTS, embeddingDim: 4, layerSizes: [12, 5], factorizationWeight: 0.7, regressionWeight: 0.3, sharedEmbeddings: true };
    const tables = { users: 6, items: 9 };
    const { g } = trainGraph(new Recommender(c, tables, new Rng(1)), 5, recommenderAdam(c, 2));
    optimize(g);
    const names = opNames(g);
    expect(names).not.toContain('slice_rows');
    for (const gone of ['split_rows', 'concat_rows', 'pad_rows', 'add', 'add_rows']) expect(names).not.toContain(gone);
    const back = g.nodes.filter((n) => n.op.name === 'pair_features_backward');
    expect(back).toHaveLength(1);
    // dx, u, q, then the factorization loss's user and item row gradients.
    expect(back[0].inputs.slice(3).map((t) => t.producer?.op.name)).toEqual(['mf_ranking_loss', 'mf_ranking_loss']);
    expect(back[0].outputs.map((o) => o.shape)).toEqual([
      [5, 4],
      [10, 4],
    ]);
  });
});
