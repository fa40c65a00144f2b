// Element-wise sum: how reverse mode adds up the gradient contributions to one tensor (the graph
// passes fold some of these sums into the op that makes an addend).
import { Add } from '../../kernels/elementwise.ts';
import { GraphError, shapeString, type Graph, type OpKind, type Tensor } from '../graph.ts';

const addOp: OpKind<Record<string, never>> = {
  name: 'add',
  outputs([a, b]) {
    if (a.size !== b.size) throw new GraphError(`add: ${a} ${shapeString(a)} and ${b} ${shapeString(b)} differ in size`);
    return [{ name: `${a.name}+`, shape: a.shape, dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [a, b] = node.inputs;
    const k = await Add.create(ctx.gpu, { n: a.size }, {}, ctx.scope);
    return [k.bind({ a: ctx.buffer(a), b: ctx.buffer(b), out: ctx.buffer(node.outputs[0]) })];
  },
  grad(_g, _node, [d]) {
    return [d, d];
  },
};

export function add(g: Graph, a: Tensor, b: Tensor): Tensor {
  return g.apply(addOp, [a, b], {})[0];
}
