// Optimizers as update ops of a compiled step: each step's parameters against the float64
// reference applied to the gradients the step computed; lazy Adam moves only touched rows.
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/graph/autodiff.ts';
import { CompiledStep } from '../src/graph/compile.ts';
import { Graph, type Tensor } from '../src/graph/graph.ts';
import { embedding } from '../src/graph/ops/embedding.ts';
import { mseLoss } from '../src/graph/ops/loss.ts';
import { dense } from '../src/graph/ops/matmul.ts';
import { rowDot } from '../src/graph/ops/rows.ts';
import { adamRef } from '../src/kernels/adam-ref.ts';
import { sgdRef } from '../src/kernels/sgd.ts';
import { AdamOptimizer } from '../src/optim/adam.ts';
import { SgdOptimizer } from '../src/optim/sgd.ts';
import { Rng } from '../src/random.ts';
import { expectClose } from './support/compare.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

function linear(seed: number): { g: Graph; w: Tensor; grad: Tensor; feed: Record<string, Float32Array> } {
  const rng = new Rng(seed);
  const g = new Graph();
  const w = g.param('w', [7, 3], Float32Array.from({ length: 21 }, () => rng.normal()));
  const x = g.input('x', [5, 7], 'f32');
  const y = g.input('y', [5, 3], 'f32');
  const loss = mseLoss(g, dense(g, x, w, undefined), y);
  const grad = g.keep(gradients(g, [loss], [w]).get(w)!);
  const feed = { x: Float32Array.from({ length: 35 }, () => rng.normal()), y: Float32Array.from({ length: 15 }, () => rng.normal()) };
  return { g, w, grad, feed };
}

// Three steps; the reference gets the GPU's own gradients, so only the update is compared (f32 vs float64).
const tol = { atol: 1e-6, rtol: 1e-5 };

describe('optimizers in the graph', () => {
  it('SGD with momentum and weight decay follows PyTorch step by step', async () => {
    const m = linear(1);
    const hp = { lr: 0.05, momentum: 0.9, weightDecay: 0.01, dampening: 0.1 };
    const opt = new SgdOptimizer(m.g, new Map([[m.w, m.grad]]), hp);
    const step = await CompiledStep.create(t.gpu, m.g);
    const ref = { param: Float64Array.from(m.g.init.get(m.w)!), buf: new Float64Array(21) };
    for (let s = 1; s <= 3; s++) {
      step.feed(m.feed);
      opt.prepare(step);
      step.run();
      sgdRef(ref, await step.read(t.ring, m.grad), s, hp);
      expectClose(await step.read(t.ring, m.w), ref.param, tol, `w after step ${s}`);
    }
    step.destroy();
  });

  it('AdamW follows PyTorch step by step', async () => {
    const m = linear(2);
    const hp = { lr: 0.01, weightDecay: 0.1 };
    const opt = new AdamOptimizer({ ...hp, decoupled: true }).attach(m.g, new Map([[m.w, m.grad]]));
    const step = await CompiledStep.create(t.gpu, m.g);
    const ref = { param: Float64Array.from(m.g.init.get(m.w)!), m: new Float64Array(21), v: new Float64Array(21) };
    for (let s = 1; s <= 3; s++) {
      step.feed(m.feed);
      opt.prepare(step);
      step.run();
      adamRef(ref, await step.read(t.ring, m.grad), s, hp, { decoupled: true });
      expectClose(await step.read(t.ring, m.w), ref.param, tol, `w after step ${s}`);
    }
    step.destroy();
  });

  it('lazy Adam moves only the rows the batch gathered', async () => {
    const rng = new Rng(3);
    const g = new Graph();
    const init = Float32Array.from({ length: 10 * 4 }, () => rng.normal());
    const table = g.param('table', [10, 4], init);
    const other = g.param('other', [6, 4], Float32Array.from({ length: 24 }, () => rng.normal()));
    const ids = g.input('ids', [3], 'u32');
    const oids = g.input('oids', [3], 'u32');
    const y = g.input('y', [3], 'f32');
    const loss = mseLoss(g, rowDot(g, embedding(g, table, ids), embedding(g, other, oids)), y);
    const opt = new AdamOptimizer({ lr: 0.1 }).attach(g, gradients(g, [loss], [table, other]), { sparse: new Map([[table, ids]]) });
    const step = await CompiledStep.create(t.gpu, g);
    step.feed({ ids: new Uint32Array([2, 7, 2]), oids: new Uint32Array([0, 1, 5]), y: new Float32Array([1, -1, 2]) });
    opt.prepare(step);
    step.run();
    const after = (await step.read(t.ring, table)) as Float32Array;
    for (let r = 0; r < 10; r++) {
      const moved = [0, 1, 2, 3].some((d) => after[r * 4 + d] !== init[r * 4 + d]);
      expect(moved, `row ${r}`).toBe(r === 2 || r === 7);
    }
    step.destroy();
  });

  for (const dim of [5, 8]) it(`dense Adam on a table (dim ${dim}${dim % 4 ? '' : ', vec4'}) sums the batch in its own pass with the same bits as scatter-add then Adam`, async () => {
    const run = async (fuseTables: boolean): Promise<{ table: Float32Array; other: Float32Array; dispatches: number }> => {
      const rng = new Rng(4);
      const g = new Graph();
      const table = g.param('table', [37, dim], Float32Array.from({ length: 37 * dim }, () => rng.normal()));
      const other = g.param('other', [9, dim], Float32Array.from({ length: 9 * dim }, () => rng.normal()));
      const ids = g.input('ids', [40], 'u32');
      const oids = g.input('oids', [40], 'u32');
      const y = g.input('y', [40], 'f32');
      const loss = mseLoss(g, rowDot(g, embedding(g, table, ids), embedding(g, other, oids)), y);
      const opt = new AdamOptimizer({ lr: 0.05, fuseTables }).attach(g, gradients(g, [loss], [table, other]));
      const step = await CompiledStep.create(t.gpu, g);
      try {
        for (let s = 0; s < 3; s++) {
          // Skewed ids: repeated rows (long segments) and rows no batch touches.
          step.feed({
            ids: Uint32Array.from({ length: 40 }, () => Math.floor(30 * rng.uniform() ** 2)),
            oids: Uint32Array.from({ length: 40 }, () => rng.int(9)),
            y: Float32Array.from({ length: 40 }, () => rng.normal()),
          });
          opt.prepare(step);
          step.run();
        }
        return { table: (await step.read(t.ring, table)) as Float32Array, other: (await step.read(t.ring, other)) as Float32Array, dispatches: step.dispatchCount };
      } finally {
        step.destroy();
      }
    };
    const fused = await run(true);
    const plain = await run(false);
    expect(new Uint32Array(fused.table.buffer)).toEqual(new Uint32Array(plain.table.buffer));
    expect(new Uint32Array(fused.other.buffer)).toEqual(new Uint32Array(plain.other.buffer));
    // Per table: zero-fill + scatter-add + Adam became one dispatch.
    expect(fused.dispatches).toBe(plain.dispatches - 4);
  });
});
