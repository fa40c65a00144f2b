// The same elements under another shape (rows of field embeddings regrouped as one row per
// example). A copy, one dispatch each way: the memory plan gives every tensor its own buffer.
import { CopyBlock } from '../../kernels/elementwise.ts';
import { GraphError, shapeString, type Graph, type OpKind, type Tensor } from '../graph.ts';

const reshapeOp: OpKind<{ shape: readonly number[] }> = {
  name: 'reshape',
  outputs([x], a) {
    const size = a.shape.reduce((p, d) => p * d, 1);
    if (x.dtype !== 'f32' || size !== x.size) throw new GraphError(`reshape: ${x} ${shapeString(x)} must be f32 with as many elements as [${a.shape.join(', ')}]`);
    return [{ name: `${x.name}.reshaped`, shape: a.shape, dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [x] = node.inputs;
    const k = await CopyBlock.create(ctx.gpu, { rows: 1, width: x.size, srcStride: 0, srcOffset: 0, dstStride: 0, dstOffset: 0 }, {}, ctx.scope);
    return [k.bind({ src: ctx.buffer(x), dst: ctx.buffer(node.outputs[0]) })];
  },
  grad(g, node, [d]) {
    return [d ? reshape(g, d, node.inputs[0].shape) : null];
  },
};

/** `x`'s elements, in order, as a tensor of `shape`. */
export function reshape(g: Graph, x: Tensor, shape: readonly number[]): Tensor {
  return g.apply(reshapeOp, [x], { shape: [...shape] })[0];
}
