// [u, q, u ⊙ q] and its backward against float64 references.
import { describe, expect, it } from 'vitest';
import { PairFeatures, PairFeaturesBackward, pairFeaturesBackwardRef, pairFeaturesRef } from '../src/kernels/pair-features.ts';
import { KernelError } from '../src/kernels/kernel.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

describe('pair_features', () => {
  // dim 5 and 70: rows narrower and wider than a workgroup (each thread walks its elements' (row, column) with a carry).
  it.each([5, 70])('builds [u, q, u·q] and sends each gradient back to u and q (dim %i)', async (dim) => {
    const rng = new Rng(9);
    const s = { rows: 70, dim };
    const f = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
    const [u, q, dx] = [f(s.rows * s.dim), f(s.rows * s.dim), f(3 * s.rows * s.dim)];
    const [x, du, dq] = await t.run(async (scope) => {
      const [k, kb] = [await PairFeatures.create(t.gpu, s, scope), await PairFeaturesBackward.create(t.gpu, s, {}, scope)];
      const b = { u: scope.upload('u', u), q: scope.upload('q', q), x: scope.create('x', 3 * s.rows * s.dim * 4), dx: scope.upload('dx', dx) };
      const o = { du: scope.create('du', s.rows * s.dim * 4), dq: scope.create('dq', s.rows * s.dim * 4) };
      return { dispatches: [k.bind(b), kb.bind({ ...b, ...o })], outputs: [[b.x, 3 * s.rows * s.dim], [o.du, s.rows * s.dim], [o.dq, s.rows * s.dim]] };
    });
    const tol = { atol: 1e-7, rtol: 1e-6 };
    expectClose(x, pairFeaturesRef(u, q, s), tol, 'x');
    const d = s.dim;
    const duRef = Float64Array.from(u, (_, t2) => {
      const [r, j] = [Math.floor(t2 / d), t2 % d];
      return dx[3 * r * d + j] + dx[3 * r * d + 2 * d + j] * q[t2];
    });
    const dqRef = Float64Array.from(q, (_, t2) => {
      const [r, j] = [Math.floor(t2 / d), t2 % d];
      return dx[3 * r * d + d + j] + dx[3 * r * d + 2 * d + j] * u[t2];
    });
    expectClose(du, duRef, tol, 'du');
    expectClose(dq, dqRef, tol, 'dq');
  });

  it('covers several workgroups of several elements per thread and a ragged tail', async () => {
    const rng = new Rng(10);
    // 97 x 32 = 3,104 elements: three workgroups of 64 threads x 16 and a ragged 32.
    const s = { rows: 97, dim: 32 };
    const n = s.rows * s.dim;
    const f = (k: number): Float32Array => Float32Array.from({ length: k }, () => rng.normal());
    const [u, q, dx] = [f(n), f(n), f(3 * n)];
    const [x, du, dq] = await t.run(async (scope) => {
      const [k, kb] = [await PairFeatures.create(t.gpu, s, scope), await PairFeaturesBackward.create(t.gpu, s, {}, scope)];
      const b = { u: scope.upload('u', u), q: scope.upload('q', q), x: scope.create('x', 3 * n * 4), dx: scope.upload('dx', dx) };
      const o = { du: scope.create('du', n * 4), dq: scope.create('dq', n * 4) };
      return { dispatches: [k.bind(b), kb.bind({ ...b, ...o })], outputs: [[b.x, 3 * n], [o.du, n], [o.dq, n]] };
    });
    // Copies and one correctly rounded product: 2^-24 relative. The gradients: a multiply
    // and an add (or one FMA) of N(0,1) values, well inside 1e-6.
    expectClose(x, pairFeaturesRef(u, q, s), { atol: 0, rtol: 2 ** -24 }, 'x');
    const d = s.dim;
    const at = (t2: number): number => 3 * Math.floor(t2 / d) * d + (t2 % d);
    expectClose(du, Float64Array.from(u, (_, t2) => dx[at(t2)] + dx[at(t2) + 2 * d] * q[t2]), { atol: 1e-6, rtol: 1e-6 }, 'du');
    expectClose(dq, Float64Array.from(q, (_, t2) => dx[at(t2) + d] + dx[at(t2) + 2 * d] * u[t2]), { atol: 1e-6, rtol: 1e-6 }, 'dq');
  });

  // The accumulating backward: reverse mode's other contributions added in the same pass, over
  // all of a taller q's rows. Each sum must have the bits of the plain backward's term then an
  // f32 add (what add / add_rows computed after it), and match float64.
  // q twice u's rows (the recommender's), under twice (a partial second copy), over (several), equal.
  for (const [rows, qRows, dim] of [
    [70, 140, 5],
    [20, 75, 7],
    [97, 160, 33],
    [64, 64, 32],
  ]) {
    for (const add of [{ u: true, q: true }, { u: true }, { q: true }]) {
      it(`adds ${Object.keys(add).join(' and ')} (u ${rows}x${dim}, q ${qRows}x${dim})`, async () => {
        const rng = new Rng(rows + qRows + dim);
        const s = { rows, dim, qRows };
        const [n, nq] = [rows * dim, qRows * dim];
        const f = (k: number): Float32Array => Float32Array.from({ length: k }, () => rng.normal());
        const [u, q, dx, addU, addQ] = [f(n), f(nq), f(3 * n), f(n), f(nq)];
        const [du, dq, duPlain, dqPlain] = await t.run(async (scope) => {
          const k = await PairFeaturesBackward.create(t.gpu, s, add, scope);
          const plain = await PairFeaturesBackward.create(t.gpu, { rows, dim }, {}, scope);
          const b = { u: scope.upload('u', u), q: scope.upload('q', q), dx: scope.upload('dx', dx) };
          const o = { du: scope.create('du', n * 4), dq: scope.create('dq', (add.q ? nq : n) * 4) };
          const p = { du: scope.create('du0', n * 4), dq: scope.create('dq0', n * 4) };
          const adds = { ...(add.u ? { addU: scope.upload('addU', addU) } : {}), ...(add.q ? { addQ: scope.upload('addQ', addQ) } : {}) };
          return {
            dispatches: [k.bind({ ...b, ...o, ...adds }), plain.bind({ ...b, ...p })],
            outputs: [[o.du, n], [o.dq, add.q ? nq : n], [p.du, n], [p.dq, n]],
          };
        });
        const ref = pairFeaturesBackwardRef(u, q, dx, s, { ...(add.u ? { u: addU } : {}), ...(add.q ? { q: addQ } : {}) });
        const tol = { atol: 1e-6, rtol: 1e-6 };
        expectClose(du, ref.du, tol, 'du');
        expectClose(dq, ref.dq, tol, 'dq');
        const sum = (a: Float32Array, b: Float32Array): Float32Array => Float32Array.from(a, (v, i) => v + b[i]);
        expectSameBits(du, add.u ? sum(addU, duPlain) : duPlain, 'du vs plain backward then add');
        const dqWant = add.q ? addQ.slice() : dqPlain;
        if (add.q) dqWant.set(sum(addQ.subarray(0, n), dqPlain));
        expectSameBits(dq, dqWant, 'dq vs plain backward then add_rows');
      });
    }
  }

  it('refuses addends it was not created for, and a written buffer bound twice', async () => {
    await t.run(async (scope) => {
      const s = { rows: 4, dim: 3, qRows: 8 };
      const k = await PairFeaturesBackward.create(t.gpu, s, { q: true }, scope);
      const buf = (w: number, name: string): GPUBuffer => scope.create(name, w * 4);
      const b = { u: buf(12, 'u'), q: buf(24, 'q'), dx: buf(36, 'dx'), du: buf(12, 'du'), dq: buf(24, 'dq') };
      expect(() => k.bind(b)).toThrow(KernelError);
      expect(() => k.bind({ ...b, addU: buf(12, 'au'), addQ: buf(24, 'aq') })).toThrow(KernelError);
      expect(() => k.bind({ ...b, addQ: b.dq })).toThrow(KernelError);
      expect(() => k.bind({ ...b, dq: buf(12, 'short'), addQ: buf(24, 'aq') })).toThrow(KernelError);
      expect(k.bind({ ...b, addQ: buf(24, 'aq') }).grid[0]).toBeGreaterThan(0);
      return { dispatches: [], outputs: [] };
    });
  });
});
