// Element-wise sum: how reverse mode adds up the gradient contributions to one tensor.
import { Add } from '../../kernels/elementwise.ts';
import type { Graph } from '../graph.ts';
import type { OpKind } from '../node.ts';
import { addIntoPairFeaturesBackward } from './elementwise.ts';
import { addRows, paddedRowsSource } from './rows.ts';
import { GraphError, shapeString, type Tensor } from '../tensor.ts';

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

/**
 * Sums two gradient contributions for reverse mode (pass it to `gradients` as its `sum`):
 * `add`, except
 * - when one addend is pair_features_backward's du or dq (or dq padded to a taller q), read by
 *   no op and not kept: that node adds the other addend itself, in its one dispatch
 *   (addIntoPairFeaturesBackward, elementwise.ts);
 * - when one addend is a slice's zero-padded gradient (pad_rows, read by no op, not kept). Then
 *   the padding node is dropped and the block is added straight into the other addend's rows
 *   (add_rows): no zero fill, no full-size add.
 * Both give the same bits as `add`, since IEEE addition commutes and x + 0 = x (up to the sign
 * of a zero).
 */
export function sumGradients(g: Graph, a: Tensor, b: Tensor): Tensor {
  const pairs = [
    [a, b],
    [b, a],
  ];
  for (const [grad, other] of pairs) {
    const sum = addIntoPairFeaturesBackward(g, grad, other);
    if (sum) return sum;
  }
  for (const [padded, other] of pairs) {
    const src = paddedRowsSource(g, padded);
    if (src && padded !== other && padded.shape.join() === other.shape.join()) {
      g.removeNode(src.node);
      return addRows(g, other, src.block, src.start);
    }
  }
  return add(g, a, b);
}
