// An LSTM layer as graph ops: gradients of the whole sequence against the float64 layer
// reference (itself checked by finite differences in lstm.test.ts), and compiled = eager.
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/graph/autodiff.ts';
import { CompiledStep } from '../src/graph/compile.ts';
import { Graph } from '../src/graph/graph.ts';
import { mseLoss } from '../src/graph/ops/loss.ts';
import { lstm } from '../src/graph/ops/lstm.ts';
import { lstmLayerBackwardRef, lstmLayerForwardRef } from '../src/kernels/lstm-ref.ts';
import { AdamOptimizer } from '../src/optim/adam.ts';
import { Rng } from '../src/random.ts';
import { expectClose, expectSameBits } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();
const S = { steps: 4, batch: 3, input: 5, hidden: 6 };

function build(seed: number) {
  const rng = new Rng(seed);
  const u = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => (rng.uniform() * 2 - 1) * s);
  const H4 = 4 * S.hidden;
  const init = { x: u(S.steps * S.batch * S.input, 1), wIh: u(S.input * H4, 0.5), wHh: u(S.hidden * H4, 0.5), bias: u(H4, 0.2) };
  const g = new Graph();
  // x is a parameter here so that its gradient is checked too.
  const x = g.param('x', [S.steps * S.batch, S.input], init.x);
  const wih = g.param('W_ih', [S.input, H4], init.wIh);
  const whh = g.param('W_hh', [S.hidden, H4], init.wHh);
  const b = g.param('b', [H4], init.bias);
  const y = g.input('y', [S.steps * S.batch * S.hidden], 'f32');
  const h = g.keep(lstm(g, x, wih, whh, b, { steps: S.steps, batch: S.batch, hidden: S.hidden }));
  const loss = mseLoss(g, h, y);
  const params = [x, wih, whh, b];
  const grads = gradients(g, [loss], params);
  for (const d of grads.values()) g.keep(d);
  const target = u(S.steps * S.batch * S.hidden, 0.5);
  return { g, params, grads, h, init, target };
}

describe('lstm graph op', () => {
  it('matches the float64 layer reference, forward and every gradient', async () => {
    const m = build(1);
    const step = await CompiledStep.create(t.gpu, m.g);
    step.feed({ y: m.target });
    step.run();
    const shape = { ...S };
    const fwd = lstmLayerForwardRef(m.init.x, m.init, shape);
    // f32 through 4 recurrent steps: 1e-5 absolute, 1e-4 relative.
    const tol = { atol: 1e-5, rtol: 1e-4 };
    expectClose(await step.read(t.ring, m.h), fwd.h, tol, 'h');
    const n = fwd.h.length;
    const dh = Float64Array.from(fwd.h, (v, i) => (2 * (v - m.target[i])) / n);
    const bwd = lstmLayerBackwardRef(m.init.x, m.init, shape, fwd, dh);
    const want = [bwd.dx, bwd.dWih, bwd.dWhh, bwd.dBias];
    for (const [i, p] of m.params.entries()) {
      expectClose(await step.read(t.ring, m.grads.get(p)!), want[i], { atol: 1e-5, rtol: 1e-4 }, `d${p.name}`);
    }
    step.destroy();
  });

  it('trains identically compiled and eager', async () => {
    const run = async (eager: boolean): Promise<Float32Array[]> => {
      const m = build(2);
      const opt = new AdamOptimizer({ lr: 0.01 }).attach(m.g, m.grads);
      const step = await CompiledStep.create(t.gpu, m.g, { reuse: !eager });
      for (let s = 0; s < 3; s++) {
        step.feed({ y: m.target });
        opt.prepare(step);
        if (eager) await step.runEager();
        else step.run();
      }
      const out = await Promise.all(m.params.map((p) => step.read(t.ring, p) as Promise<Float32Array>));
      step.destroy();
      return out;
    };
    const [a, b] = [await run(false), await run(true)];
    a.forEach((p, i) => expectSameBits(p, b[i], `param ${i}`));
    expect(a[1].some((v, i) => v !== build(2).init.wIh[i])).toBe(true);
  });
});
