// The fused factorization head + ranking loss: GPU against the float64 reference, and the
// reference's gradients against central differences of its own loss.
import { describe, expect, it } from 'vitest';
import { mfRanking, mfRankingIndexed, mfRankingRef } from '../src/kernels/mf-ranking.ts';
import { Kernel } from '../src/kernels/spec.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();
const SHAPE = { n: 37, dim: 6 };
const SCALE = 0.7 / SHAPE.n;

function inputs(seed: number) {
  const rng = new Rng(seed);
  const f = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
  return { u: f(SHAPE.n * SHAPE.dim), q: f(2 * SHAPE.n * SHAPE.dim), a: f(SHAPE.n), b: f(2 * SHAPE.n) };
}

describe('mf_ranking', () => {
  it('matches the float64 reference: loss terms and every gradient', async () => {
    const x = inputs(1);
    const { n, dim } = SHAPE;
    const outs = await t.run(async (scope) => {
      const k = await Kernel.create(t.gpu, mfRanking(t.gpu, SHAPE), scope);
      const o = { loss: scope.create('loss', n * 4), du: scope.create('du', n * dim * 4), dq: scope.create('dq', 2 * n * dim * 4), da: scope.create('da', n * 4), db: scope.create('db', 2 * n * 4) };
      const d = k.bind({ scale: scope.upload('s', new Float32Array([SCALE])), u: scope.upload('u', x.u), q: scope.upload('q', x.q), a: scope.upload('a', x.a), b: scope.upload('b', x.b), ...o });
      return { dispatches: [d], outputs: [[o.loss, n], [o.du, n * dim], [o.dq, 2 * n * dim], [o.da, n], [o.db, 2 * n]] };
    });
    const ref = mfRankingRef(x.u, x.q, x.a, x.b, SHAPE, SCALE);
    const tol = { atol: 1e-7, rtol: 1e-5 };
    expectClose(outs[0], ref.loss, tol, 'loss');
    expectClose(outs[1], ref.du, tol, 'du');
    expectClose(outs[2], ref.dq, tol, 'dq');
    expect([...outs[3]]).toEqual(new Array(n).fill(0));
    expectClose(outs[4], ref.db, tol, 'db');
  });

  it('reads the bias tables at the batch\'s indices with the bits of gathering them first', async () => {
    const x = inputs(3);
    const { n, dim } = SHAPE;
    const rng = new Rng(4);
    const [USERS, ITEMS] = [11, 23];
    const aT = Float32Array.from({ length: USERS }, () => rng.normal());
    const bT = Float32Array.from({ length: ITEMS }, () => rng.normal());
    // Repeated ids, as batches have.
    const users = Uint32Array.from({ length: n }, () => rng.int(USERS));
    const items = Uint32Array.from({ length: 2 * n }, () => rng.int(ITEMS));
    const gathered = { a: Float32Array.from(users, (i) => aT[i]), b: Float32Array.from(items, (i) => bT[i]) };
    const run = (indexed: boolean) =>
      t.run(async (scope) => {
        const o = { loss: scope.create('loss', n * 4), du: scope.create('du', n * dim * 4), dq: scope.create('dq', 2 * n * dim * 4), db: scope.create('db', 2 * n * 4) };
        const common = { u: scope.upload('u', x.u), q: scope.upload('q', x.q), ...o };
        const d = indexed
          ? (await Kernel.create(t.gpu, mfRankingIndexed(t.gpu, SHAPE, SCALE), scope)).bind({
              ...common,
              a: scope.upload('aT', aT),
              b: scope.upload('bT', bT),
              user_idx: scope.upload('users', users),
              item_idx: scope.upload('items', items),
            })
          : (await Kernel.create(t.gpu, mfRanking(t.gpu, SHAPE), scope)).bind({
              ...common,
              scale: scope.upload('s', new Float32Array([SCALE])),
              a: scope.upload('a', gathered.a),
              b: scope.upload('b', gathered.b),
              da: scope.create('da', n * 4),
            });
        return { dispatches: [d], outputs: [[o.loss, n], [o.du, n * dim], [o.dq, 2 * n * dim], [o.db, 2 * n]] };
      });
    const [plain, indexed] = [await run(false), await run(true)];
    indexed.forEach((out, i) => expectSameBits(out, plain[i], `output ${i}`));
    await t.run(async (scope) => {
      const k = await Kernel.create(t.gpu, mfRankingIndexed(t.gpu, SHAPE, SCALE), scope);
      const buf = (w: number): GPUBuffer => scope.create('x', w * 4);
      const o = { u: buf(n * dim), q: buf(2 * n * dim), a: buf(USERS), b: buf(ITEMS), loss: buf(n), du: buf(n * dim), dq: buf(2 * n * dim), db: buf(2 * n) };
      expect(() => k.bind({ ...o, scale: buf(1), da: buf(n) } as never)).toThrow(/mf_ranking: scale is not a binding of mf_ranking_indexed/);
      expect(() => k.bind(o as never)).toThrow(/mf_ranking: user_idx is not bound/);
      expect(() => k.bind({ ...o, user_idx: buf(n), item_idx: buf(n) })).toThrow(/mf_ranking: item_idx has \d+ bytes but shape 37 ratings of dim 6 needs/);
      return { dispatches: [], outputs: [] };
    });
  });

  it('has reference gradients equal to central differences of its loss', () => {
    const x = inputs(2);
    const toF64 = (v: Float32Array): Float64Array => Float64Array.from(v);
    const v = { u: toF64(x.u), q: toF64(x.q), a: toF64(x.a), b: toF64(x.b) };
    const total = (): number => mfRankingRef(v.u, v.q, v.a, v.b, SHAPE, SCALE).loss.reduce((s, l) => s + l, 0);
    const grads = mfRankingRef(v.u, v.q, v.a, v.b, SHAPE, SCALE);
    const h = 1e-6;
    for (const [name, arr, g] of [['u', v.u, grads.du], ['q', v.q, grads.dq], ['a', v.a, grads.da], ['b', v.b, grads.db]] as const) {
      for (const i of [0, 5, arr.length - 1]) {
        const keep = arr[i];
        arr[i] = keep + h;
        const up = total();
        arr[i] = keep - h;
        const down = total();
        arr[i] = keep;
        expect((up - down) / (2 * h), `${name}[${i}]`).toBeCloseTo(g[i], 7);
      }
    }
  });
});
