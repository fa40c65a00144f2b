// Uncertainty weighting's per-task kernel and the seed scaling of a loss's gradient against
// the float64 reference, in Node and Chromium.
import { describe, expect, it } from 'vitest';
import { ScaleBySeed, UncertaintyTask, uncertaintyRef } from '../src/kernels/uncertainty-weighting.ts';
import { expectClose } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

describe('uncertainty weighting', () => {
  it('writes each task its term exp(-s) L + s, 1 - exp(-s) L and exp(-s), and scales a gradient by a seed', async () => {
    const losses = [0.7, 2.5, 0.01];
    const logVars = Float32Array.from([0, -1.3, 2.2]);
    const T = losses.length;
    const outs = await t.run(async (scope) => {
      const lv = scope.upload('s', logVars);
      const terms = scope.create('terms', T * 4);
      const grad = scope.create('grad', T * 4);
      const factors = losses.map((_, i) => scope.create(`f${i}`, 4));
      const dispatches = [];
      for (let i = 0; i < T; i++) {
        const k = await UncertaintyTask.create(t.gpu, { tasks: T, task: i }, scope);
        dispatches.push(k.bind({ taskLoss: scope.upload(`l${i}`, Float32Array.of(losses[i])), logVars: lv, terms, gradLogVars: grad, factor: factors[i] }));
      }
      const scaled = scope.create('scaled', 5 * 4);
      const s = await ScaleBySeed.create(t.gpu, { n: 5 }, scope);
      dispatches.push(s.bind({ grad: scope.upload('g', Float32Array.from([1, -2, 3, 0, 0.5])), weight: factors[1], out: scaled }));
      return { dispatches, outputs: [[terms, T], [grad, T], ...factors.map((f): [GPUBuffer, number] => [f, 1]), [scaled, 5]] };
    });
    const ref = uncertaintyRef(losses.map(Math.fround), logVars);
    const tol = { atol: 1e-7, rtol: 1e-6 };
    expectClose(outs[0], ref.terms, tol, 'terms');
    expectClose(outs[1], ref.gradLogVars, tol, 'd/ds');
    expectClose(outs.slice(2, 2 + T).map((f) => f[0]), ref.factors, tol, 'factors');
    expectClose(outs[2 + T], [1, -2, 3, 0, 0.5].map((v) => v * ref.factors[1]), tol, 'scaled gradient');
  });

  it('names a task outside the tasks', async () => {
    await expect(UncertaintyTask.create(t.gpu, { tasks: 2, task: 2 })).rejects.toThrow(/uncertainty_task: task 2 is not one of 2 tasks/);
  });
});
