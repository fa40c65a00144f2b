// Gradient clipping by global norm as graph ops, between reverse mode and the update:
// one op sums the squares of every gradient (deterministic tree sums into one scalar), then
// each gradient is scaled by min(1, max_norm / (norm + 1e-6)), as clip_grad_norm_ does.
import { clipByNorm, squared } from '../kernels/clip.ts';
import { fill } from '../kernels/fill.ts';
import type { Dispatch } from '../kernels/kernel.ts';
import { Sum } from '../kernels/reduce.ts';
import { Kernel } from '../kernels/spec.ts';
import { GraphError, type Graph, type OpKind, type Tensor } from '../graph/graph.ts';

const sumSquaresOp: OpKind<Record<string, never>> = {
  name: 'sum_squares',
  outputs() {
    return [{ name: 'grad_norm_sq', shape: [1], dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const out = ctx.buffer(node.outputs[0]);
    const largest = Math.max(...node.inputs.map((t) => t.size));
    const squares = ctx.scope.create('sum_squares.tmp', largest * 4);
    const zero = await Kernel.create(ctx.gpu, fill(ctx.gpu, 1), ctx.scope);
    const ds: Dispatch[] = [zero.bind({ out })];
    for (const t of node.inputs) {
      const [sq, sum] = await Promise.all([Kernel.create(ctx.gpu, squared(ctx.gpu, t.size), ctx.scope), Sum.create(ctx.gpu, { n: t.size }, { accumulate: true }, ctx.scope)]);
      ds.push(sq.bind({ x: ctx.buffer(t), sq: squares }), ...sum.bind({ x: squares, dst: out }));
    }
    return ds;
  },
};

const clipOp: OpKind<{ maxNorm: number }> = {
  name: 'clip_by_norm',
  outputs([d]) {
    return [{ name: `${d.name}.clipped`, shape: d.shape, dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [d, sumsq] = node.inputs;
    const k = await Kernel.create(ctx.gpu, clipByNorm(ctx.gpu, d.size, node.attrs.maxNorm), ctx.scope);
    return [k.bind({ x: ctx.buffer(d), sumsq: ctx.buffer(sumsq), clipped: ctx.buffer(node.outputs[0]) })];
  },
};

/** The gradients scaled so that their global L2 norm is at most `maxNorm`; also returns the squared norm. */
export function clipGradNorm(g: Graph, grads: ReadonlyMap<Tensor, Tensor>, maxNorm: number): { grads: Map<Tensor, Tensor>; normSq: Tensor } {
  if (!(maxNorm > 0 && Number.isFinite(maxNorm))) throw new GraphError(`gradient clipping needs a finite max norm > 0, got ${maxNorm}`);
  if (grads.size === 0) throw new GraphError('gradient clipping needs at least one gradient');
  return g.inPhase('backward', () => {
    const [normSq] = g.apply(sumSquaresOp, [...grads.values()], {});
    const out = new Map<Tensor, Tensor>();
    for (const [p, d] of grads) out.set(p, g.apply(clipOp, [d, normSq], { maxNorm })[0]);
    return { grads: out, normSq };
  });
}
