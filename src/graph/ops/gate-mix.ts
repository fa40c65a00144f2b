// MMoE's gate as one graph op: a softmax over the experts per row and the weighted sum of the
// experts' outputs in one dispatch, and a two-dispatch backward. Several gates (one per task)
// may read the same experts: reverse mode adds their gradients.
import { GateMix, GateMixBackward, type GateShape } from '../../kernels/gate-mix.ts';
import { GraphError, shapeString, type Graph, type OpKind, type Tensor } from '../graph.ts';

function gateShape(logits: Tensor, experts: Tensor): GateShape {
  const [rows, e] = logits.shape;
  if (logits.shape.length !== 2 || experts.shape.length !== 2 || experts.shape[0] !== rows || experts.shape[1] % e !== 0 || experts.shape[1] === 0) {
    throw new GraphError(`gate_mix: gate logits ${logits} ${shapeString(logits)} ([B, E]) and experts ${experts} ${shapeString(experts)} ([B, E·U]) do not fit`);
  }
  return { rows, experts: e, units: experts.shape[1] / e };
}

/** Outputs: the mixture [B, U] and the gate's probabilities [B, E] (kept for the backward). */
const gateMixOp: OpKind<Record<string, never>> = {
  name: 'gate_mix',
  outputs([logits, experts]) {
    const s = gateShape(logits, experts);
    return [
      { name: `${logits.name}.mix`, shape: [s.rows, s.units], dtype: 'f32' },
      { name: `${logits.name}.gate`, shape: [s.rows, s.experts], dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [logits, experts] = node.inputs;
    const [out, probs] = node.outputs;
    const k = await GateMix.create(ctx.gpu, gateShape(logits, experts), ctx.scope);
    return [k.bind({ logits: ctx.buffer(logits), experts: ctx.buffer(experts), out: ctx.buffer(out), probs: ctx.buffer(probs) })];
  },
  grad(g, node, [d]) {
    if (!d) return [null, null];
    const [logits, experts] = node.inputs;
    return g.apply(gateMixBackwardOp, [d, node.outputs[1], experts], gateShape(logits, experts));
  },
};

/** Inputs [dOut, probs, experts]; outputs [dLogits, dExperts]. */
const gateMixBackwardOp: OpKind<GateShape> = {
  name: 'gate_mix_backward',
  outputs([, probs, experts]) {
    return [
      { name: `d${probs.name}`, shape: probs.shape, dtype: 'f32' },
      { name: `d${experts.name}`, shape: experts.shape, dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [d, probs, experts] = node.inputs;
    const [dLogits, dExperts] = node.outputs;
    const k = await GateMixBackward.create(ctx.gpu, node.attrs, ctx.scope);
    return k.bind({ gradOut: ctx.buffer(d), probs: ctx.buffer(probs), experts: ctx.buffer(experts), gradLogits: ctx.buffer(dLogits), gradExperts: ctx.buffer(dExperts) });
  },
};

/**
 * MMoE's gate (Ma et al., KDD 2018): out[b, u] = Σ_e softmax(gateLogits[b, :])_e ·
 * experts[b, e·U + u], from gate logits [B, E] and the experts' outputs side by side [B, E·U]
 * (expert e's U units at columns e·U .. e·U+U-1); returns [B, U].
 */
export function gateMix(g: Graph, gateLogits: Tensor, experts: Tensor): Tensor {
  return g.apply(gateMixOp, [gateLogits, experts], {})[0];
}
