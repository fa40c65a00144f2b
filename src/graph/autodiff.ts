// Reverse-mode differentiation over the graph: each op's `grad` adds the ops that compute
// its inputs' gradients; contributions to one tensor (a table that feeds two heads) are summed
// by `add` (the graph passes, passes.ts, fuse some of those sums afterwards).
//
// Fused losses compute their gradient in the same dispatch as the loss, weight and mean
// included. So reverse mode seeds each loss with the loss tensor itself, and a loss op's
// `grad` returns its gradient outputs: no "ones" tensor is ever materialised.
import { GraphError, type Graph, type Tensor } from './graph.ts';
import { add } from './ops/basic.ts';

/**
 * Adds the backward ops to `g` and returns the gradient of every tensor in `wrt` that the
 * losses depend on. Gradients flow only along paths from `wrt` to the losses, and not
 * through tensors in `stop`.
 */
export function gradients(g: Graph, losses: readonly Tensor[], wrt: readonly Tensor[], stop: ReadonlySet<Tensor> = new Set()): Map<Tensor, Tensor> {
  const nodes = g.nodes.slice();
  // Tensors that depend on something in `wrt`.
  const dependent = new Set<Tensor>(wrt);
  for (const n of nodes) {
    if (n.inputs.some((t) => dependent.has(t) && !stop.has(t))) for (const o of n.outputs) dependent.add(o);
  }
  for (const l of losses) {
    if (!l.producer) throw new GraphError(`loss ${l} is not produced by an op`);
    if (!dependent.has(l)) throw new GraphError(`loss ${l} does not depend on any of the trained tensors`);
  }
  const grads = new Map<Tensor, Tensor>();
  const contribute = (t: Tensor, d: Tensor): void => {
    const prev = grads.get(t);
    grads.set(t, prev ? g.inPhase('backward', () => add(g, prev, d)) : d);
  };
  for (const l of losses) contribute(l, l);
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    const dOut = n.outputs.map((o) => grads.get(o) ?? null);
    if (dOut.every((d) => d === null)) continue;
    if (!n.inputs.some((t) => dependent.has(t) && !stop.has(t))) continue;
    if (!n.op.grad) throw new GraphError(`${n.op.name} has no gradient, but ${n.inputs.map(String).join(', ')} needs one`);
    const needed = n.inputs.map((t) => dependent.has(t) && !stop.has(t));
    const dIn = g.inPhase('backward', () => n.op.grad!(g, n, dOut, needed));
    n.inputs.forEach((t, k) => {
      const d = dIn[k];
      if (d && dependent.has(t) && !stop.has(t)) contribute(t, d);
    });
  }
  const out = new Map<Tensor, Tensor>();
  for (const t of wrt) {
    const d = grads.get(t);
    if (d) out.set(t, d);
  }
  return out;
}
