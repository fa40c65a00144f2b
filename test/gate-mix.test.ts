// MMoE's gate mixture (softmax over experts, weighted sum, backward) against float64
// references, and the references' gradients against central differences; Node and Chromium.
import { describe, expect, it } from 'vitest';
import { GateMix, GateMixBackward, gateMixBackwardRef, gateMixRef, type GateShape } from '../src/kernels/gate-mix.ts';
import { Rng } from '../src/random.ts';
import { expectClose } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

const normals = (rng: Rng, n: number, sd = 1): Float32Array => Float32Array.from({ length: n }, () => sd * rng.normal());

async function forward(s: GateShape, logits: Float32Array, experts: Float32Array): Promise<{ out: Float32Array; probs: Float32Array }> {
  const [out, probs] = await t.run(async (scope) => {
    const k = await GateMix.create(t.gpu, s, scope);
    const o = scope.create('out', s.rows * s.units * 4);
    const p = scope.create('probs', s.rows * s.experts * 4);
    return { dispatches: [k.bind({ logits: scope.upload('logits', logits), experts: scope.upload('experts', experts), out: o, probs: p })], outputs: [[o, s.rows * s.units], [p, s.rows * s.experts]] };
  });
  return { out, probs };
}

async function backward(s: GateShape, dOut: Float32Array, probs: Float32Array, experts: Float32Array): Promise<{ dLogits: Float32Array; dExperts: Float32Array }> {
  const [dLogits, dExperts] = await t.run(async (scope) => {
    const k = await GateMixBackward.create(t.gpu, s, scope);
    const gl = scope.create('dlogits', s.rows * s.experts * 4);
    const ge = scope.create('dexperts', s.rows * s.experts * s.units * 4);
    const dispatches = k.bind({ gradOut: scope.upload('d', dOut), probs: scope.upload('p', probs), experts: scope.upload('e', experts), gradLogits: gl, gradExperts: ge });
    return { dispatches, outputs: [[gl, s.rows * s.experts], [ge, s.rows * s.experts * s.units]] };
  });
  return { dLogits, dExperts };
}

// Sums of E (or E·U) f32 products and an exp: a few ulp of the terms' magnitude.
const tol = { atol: 2e-6, rtol: 1e-5 };

describe('gate_mix', () => {
  // MMoE's sizes (B 1024, E 8, U 16), more experts than units (each thread writes several
  // probabilities), one expert, and a row count that is not a multiple of 64.
  const shapes: GateShape[] = [
    { rows: 1024, experts: 8, units: 16 },
    { rows: 37, experts: 7, units: 2 },
    { rows: 5, experts: 1, units: 3 },
    { rows: 65, experts: 3, units: 1 },
  ];
  for (const s of shapes) {
    it(`matches the float64 reference forward and backward at ${JSON.stringify(s)}`, async () => {
      const rng = new Rng(s.rows + s.experts);
      const logits = normals(rng, s.rows * s.experts, 2);
      const experts = normals(rng, s.rows * s.experts * s.units);
      const dOut = normals(rng, s.rows * s.units);
      const got = await forward(s, logits, experts);
      const ref = gateMixRef(logits, experts, s);
      expectClose(got.out, ref.out, tol, 'out');
      expectClose(got.probs, ref.probs, tol, 'probs');
      const gotB = await backward(s, dOut, got.probs, experts);
      const refB = gateMixBackwardRef(dOut, got.probs, experts, s);
      expectClose(gotB.dLogits, refB.dLogits, tol, 'dLogits');
      expectClose(gotB.dExperts, refB.dExperts, tol, 'dExperts');
    });
  }

  it('stays finite and exact in its probabilities at logits of ±80 and 1e4 (the row max is subtracted)', async () => {
    const s = { rows: 3, experts: 4, units: 2 };
    const logits = Float32Array.from([80, -80, 79, 0, 1e4, 1e4, -1e4, 0, -1e4, -1e4, -1e4, -1e4 + 1]);
    const experts = normals(new Rng(3), 24);
    const got = await forward(s, logits, experts);
    const ref = gateMixRef(logits, experts, s);
    expect(got.out.every(Number.isFinite) && got.probs.every(Number.isFinite)).toBe(true);
    expectClose(got.probs, ref.probs, { atol: 1e-30, rtol: 1e-5 }, 'probs');
    expectClose(got.out, ref.out, tol, 'out');
  });

  it("has the backward of the forward (the references' central differences in float64)", () => {
    const s = { rows: 3, experts: 4, units: 5 };
    const rng = new Rng(4);
    const logits = Float64Array.from(normals(rng, 12, 2));
    const experts = Float64Array.from(normals(rng, 60));
    const dOut = normals(rng, 15);
    const f = (l: ArrayLike<number>, e: ArrayLike<number>): number => gateMixRef(l, e, s).out.reduce((acc, v, i) => acc + v * dOut[i], 0);
    const { dLogits, dExperts } = gateMixBackwardRef(dOut, gateMixRef(logits, experts, s).probs, experts, s);
    const h = 1e-5;
    const central = (x: Float64Array, j: number, at: (y: Float64Array) => number): number => {
      const plus = Float64Array.from(x);
      const minus = Float64Array.from(x);
      plus[j] += h;
      minus[j] -= h;
      return (at(plus) - at(minus)) / (2 * h);
    };
    for (let j = 0; j < logits.length; j++) expect(Math.abs(central(logits, j, (l) => f(l, experts)) - dLogits[j]), `dLogits[${j}]`).toBeLessThan(1e-8);
    for (let j = 0; j < experts.length; j += 7) expect(Math.abs(central(experts, j, (e) => f(logits, e)) - dExperts[j]), `dExperts[${j}]`).toBeLessThan(1e-8);
  });

  it('names shapes that do not fit', async () => {
    await expect(GateMix.create(t.gpu, { rows: 0, experts: 2, units: 2 })).rejects.toThrow(/gate_mix: rows must be an integer >= 1, got 0/);
    await expect(GateMixBackward.create(t.gpu, { rows: 2, experts: 2, units: 1.5 })).rejects.toThrow(/gate_mix_backward: units must be an integer >= 1/);
  });
});
