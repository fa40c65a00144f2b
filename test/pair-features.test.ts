// [u, q, u ⊙ q] and its backward against float64 references.
import { describe, it } from 'vitest';
import { PairFeatures, pairFeaturesRef } from '../src/kernels/pair-features.ts';
import { Rng } from '../src/random.ts';
import { expectClose } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

describe('pair_features', () => {
  it('builds [u, q, u·q] and sends each gradient back to u and q', async () => {
    const rng = new Rng(9);
    const s = { rows: 70, dim: 5 };
    const f = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
    const [u, q, dx] = [f(s.rows * s.dim), f(s.rows * s.dim), f(3 * s.rows * s.dim)];
    const [x, du, dq] = await t.run(async (scope) => {
      const k = await PairFeatures.create(t.gpu, s, scope);
      const b = { u: scope.upload('u', u), q: scope.upload('q', q), x: scope.create('x', 3 * s.rows * s.dim * 4), dx: scope.upload('dx', dx) };
      const o = { du: scope.create('du', s.rows * s.dim * 4), dq: scope.create('dq', s.rows * s.dim * 4) };
      return { dispatches: [k.forward(b), k.backward({ ...b, ...o })], outputs: [[b.x, 3 * s.rows * s.dim], [o.du, s.rows * s.dim], [o.dq, s.rows * s.dim]] };
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
});
