// How a fused loss op answers reverse mode. The loss kernels write their gradient in the
// forward dispatch, for a weight of 1 on every term. Reverse mode seeds a loss with the loss
// tensor itself (autodiff.ts): that gradient as it is. A loss that feeds another op (the
// uncertainty weighting's exp(-s_t) · L_t) is seeded instead with a [1] tensor w: the
// derivative of the total w.r.t. every one of its terms, alike because L_t is their sum; the
// gradient is then the kernel's times w, one dispatch. No other seed has a meaning for a loss.
import { ScaleBySeed } from '../../kernels/uncertainty-weighting.ts';
import { GraphError, shapeString, type Graph, type Node, type OpKind, type Tensor } from '../graph.ts';

const scaleBySeedOp: OpKind<Record<string, never>> = {
  name: 'scale_by_seed',
  outputs([grad]) {
    return [{ name: `${grad.name}*seed`, shape: grad.shape, dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [grad, weight] = node.inputs;
    const k = await ScaleBySeed.create(ctx.gpu, { n: grad.size }, ctx.scope);
    return [k.bind({ grad: ctx.buffer(grad), weight: ctx.buffer(weight), out: ctx.buffer(node.outputs[0]) })];
  },
};

/** The gradient output `grad` of loss node `node` for reverse mode's `seed` of its loss terms (its first output). */
export function lossGradient(g: Graph, node: Node<unknown>, seed: Tensor | null, grad: Tensor): Tensor | null {
  if (!seed) return null;
  const terms = node.outputs[0];
  if (seed === terms) return grad;
  if (seed.size !== 1 || seed.dtype !== 'f32') {
    throw new GraphError(`${node.op.name}: its loss ${terms} is seeded by ${seed} ${shapeString(seed)}; a loss takes reverse mode's seed from gradients() or one f32 weight for all its terms, so pass it to gradients() or to one weighting op, not both`);
  }
  return g.apply(scaleBySeedOp, [grad, seed], {})[0];
}
