// Row-wise ops: the dot product of matching rows (the factorization score u·q).
import { RowDot, RowDotBackward } from '../../kernels/reduce.ts';
import type { Graph } from '../graph.ts';
import type { OpKind } from '../node.ts';
import { GraphError, shapeString, type Tensor } from '../tensor.ts';

const rowDotOp: OpKind<Record<string, never>> = {
  name: 'row_dot',
  outputs([a, b]) {
    if (a.shape.length !== 2 || a.shape.join() !== b.shape.join()) {
      throw new GraphError(`row_dot: ${a} ${shapeString(a)} and ${b} ${shapeString(b)} must be 2-D and of one shape`);
    }
    return [{ name: `${a.name}·${b.name}`, shape: [a.shape[0]], dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [a, b] = node.inputs;
    const k = await RowDot.create(ctx.gpu, { rows: a.shape[0], cols: a.shape[1] }, {}, ctx.scope);
    return [k.bind({ a: ctx.buffer(a), b: ctx.buffer(b), out: ctx.buffer(node.outputs[0]) })];
  },
  grad(g, node, [d]) {
    const [dA, dB] = g.apply(rowDotBackwardOp, [d as Tensor, ...node.inputs], {});
    return [dA, dB];
  },
};

const rowDotBackwardOp: OpKind<Record<string, never>> = {
  name: 'row_dot_backward',
  outputs([, a, b]) {
    return [
      { name: `d${a.name}`, shape: a.shape, dtype: 'f32' },
      { name: `d${b.name}`, shape: b.shape, dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [d, a, b] = node.inputs;
    const k = await RowDotBackward.create(ctx.gpu, { rows: a.shape[0], cols: a.shape[1] }, {}, ctx.scope);
    const [dA, dB] = node.outputs;
    return k.bind({ grad: ctx.buffer(d), a: ctx.buffer(a), b: ctx.buffer(b), gradA: ctx.buffer(dA), gradB: ctx.buffer(dB) });
  },
};

/** out[r] = Σ_d a[r, d]·b[r, d]. */
export function rowDot(g: Graph, a: Tensor, b: Tensor): Tensor {
  return g.apply(rowDotOp, [a, b], {})[0];
}
