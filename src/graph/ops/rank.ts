// Held-out ranks (for MRR) as a graph op: an evaluation-only op, so it has no gradient.
import { Rank } from '../../kernels/rank.ts';
import { GraphError, shapeString, type Graph, type OpKind, type Tensor } from '../graph.ts';

const rankOp: OpKind<Record<string, never>> = {
  name: 'rank',
  outputs([scores, users, items]) {
    if (scores.shape.length !== 2 || users.size !== items.size || users.dtype !== 'u32' || items.dtype !== 'u32') {
      throw new GraphError(`rank: scores ${shapeString(scores)} must be [users, items] and users ${shapeString(users)}, items ${shapeString(items)} u32 pairs`);
    }
    return [{ name: `${scores.name}.ranks`, shape: [users.size], dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [scores, users, items, rated] = node.inputs;
    const k = await Rank.create(ctx.gpu, { users: scores.shape[0], items: scores.shape[1], pairs: users.size }, {}, ctx.scope);
    // The variant suits the device (rankVariantFor): sg4 on SwiftShader, else one thread per pair.
    return k.bind({ scores: ctx.buffer(scores), users: ctx.buffer(users), items: ctx.buffer(items), rated: ctx.buffer(rated), ranks: ctx.buffer(node.outputs[0]) });
  },
};

/** The rank of each (user, item) pair among all of the user's scores, training items last (see shaders/rank.wgsl). */
export function heldOutRanks(g: Graph, scores: Tensor, users: Tensor, items: Tensor, rated: Tensor): Tensor {
  return g.apply(rankOp, [scores, users, items, rated], {})[0];
}
