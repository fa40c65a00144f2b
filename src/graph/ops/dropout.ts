// Seeded inverted dropout as a graph op. The mask is a hash of (element, step, seed, stream)
// (shaders/dropout.wgsl), never stored: the backward is the same op on the gradient, with the
// same counters, so it drops the same elements and scales the kept ones alike.
import { Dropout } from '../../kernels/dropout.ts';
import { GraphError, shapeString, type Graph, type OpKind, type Tensor } from '../graph.ts';

interface DropoutAttrs {
  rate: number;
  stream: number;
}

/** Inputs [x, seed]; the same op serves the backward (x = the gradient). */
const dropoutOp: OpKind<DropoutAttrs> = {
  name: 'dropout',
  outputs([x, seed]) {
    if (x.dtype !== 'f32' || seed.dtype !== 'u32' || seed.size !== 2) throw new GraphError(`dropout: ${x} must be f32 and its seed ${seed} ${shapeString(seed)} u32 [2] (seed, step)`);
    return [{ name: `drop(${x.name})`, shape: x.shape, dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [x, seed] = node.inputs;
    const k = await Dropout.create(ctx.gpu, { n: x.size }, node.attrs, ctx.scope);
    return [k.bind({ seed: ctx.buffer(seed), x: ctx.buffer(x), out: ctx.buffer(node.outputs[0]) })];
  },
  grad(g, node, [d]) {
    return [d ? g.apply(dropoutOp, [d, node.inputs[1]], node.attrs)[0] : null, null];
  },
};

/**
 * Inverted dropout of x at `rate` in (0, 1): each element is kept with probability 1 - rate and
 * scaled by 1 / (1 - rate). `seed` is a u32 [2] input the host writes before every step with
 * [run seed, step number] (so a resumed run draws the same masks); `stream` (default: the number
 * of dropout ops already in the graph) gives each layer its own mask. The caller applies
 * dropout only when training and only at a rate above 0.
 */
export function dropout(g: Graph, x: Tensor, rate: number, seed: Tensor, stream = g.nodes.filter((n) => n.op === dropoutOp).length): Tensor {
  if (!(rate > 0 && rate < 1)) throw new GraphError(`dropout: the rate must be in (0, 1), got ${rate}; leave dropout out at rate 0`);
  return g.apply(dropoutOp, [x, seed], { rate, stream })[0];
}
