// Uncertainty weighting of task losses (Kendall, Gal and Cipolla, CVPR 2018) as one graph op
// that is itself a loss: pass its output to gradients() in place of the task losses.
//
// Form (the one most implementations use, for every task kind): with s_t = log σ_t², a [T]
// parameter, total = Σ_t exp(-s_t) · L_t + s_t. The paper's regression term is
// 1/(2σ²) L + log σ = ½ (exp(-s) L + s) and its classification term 1/σ² L + log σ; the halves
// are left out here, so a regression task's s_t settles at log(2 L_t) rather than log(L_t).
//
// Autodiff: L_t is the sum of a loss op's per-element terms. This op sums each on the GPU
// (the reduce kernel), writes the T terms of the total (their sum is the loss), d total / d s_t
// = 1 - exp(-s_t) L_t, and exp(-s_t) into a [1] tensor per task. Its grad hands that [1]
// tensor to task t's loss op as the seed of its terms: loss ops scale their fused gradient by
// such a seed (loss-seed.ts). So the task losses must not be passed to gradients() as well.
import { Sum } from '../../kernels/reduce.ts';
import { UncertaintyTask } from '../../kernels/uncertainty-weighting.ts';
import type { Dispatch } from '../../kernels/kernel.ts';
import { GraphError, shapeString, type Graph, type OpKind, type Tensor } from '../graph.ts';

/** Inputs [L_0 .. L_{T-1}, s]; outputs [terms [T], d/ds [T], exp(-s_t) [1] per task, L_t [1] per task]. */
const uncertaintyOp: OpKind<Record<string, never>> = {
  name: 'uncertainty_loss',
  outputs(inputs) {
    const logVars = inputs[inputs.length - 1];
    const T = inputs.length - 1;
    if (T < 1 || logVars.shape.join() !== `${T}` || logVars.dtype !== 'f32' || inputs.slice(0, T).some((l) => l.dtype !== 'f32')) {
      throw new GraphError(`uncertainty_loss: log-variances ${logVars} ${shapeString(logVars)} must be f32 [${T}], one per task loss`);
    }
    return [
      { name: `${logVars.name}.total`, shape: [T], dtype: 'f32' },
      { name: `d${logVars.name}`, shape: [T], dtype: 'f32' },
      ...inputs.slice(0, T).map((l) => ({ name: `exp(-${logVars.name})*${l.name}`, shape: [1], dtype: 'f32' as const })),
      ...inputs.slice(0, T).map((l) => ({ name: `sum(${l.name})`, shape: [1], dtype: 'f32' as const })),
    ];
  },
  async lower(ctx, node) {
    const T = node.inputs.length - 1;
    const logVars = node.inputs[T];
    const [terms, grad] = node.outputs;
    const out: Dispatch[] = [];
    for (let t = 0; t < T; t++) {
      const loss = node.inputs[t];
      const sum = node.outputs[2 + T + t];
      const reduce = await Sum.create(ctx.gpu, { n: loss.size }, {}, ctx.scope);
      const task = await UncertaintyTask.create(ctx.gpu, { tasks: T, task: t }, ctx.scope);
      out.push(...reduce.bind({ x: ctx.buffer(loss), dst: ctx.buffer(sum) }));
      out.push(task.bind({ taskLoss: ctx.buffer(sum), logVars: ctx.buffer(logVars), terms: ctx.buffer(terms), gradLogVars: ctx.buffer(grad), factor: ctx.buffer(node.outputs[2 + t]) }));
    }
    return out;
  },
  grad(_g, node, [seed]) {
    if (!seed) return node.inputs.map(() => null);
    if (seed !== node.outputs[0]) throw new GraphError(`uncertainty_loss: its total ${node.outputs[0]} must be passed to gradients() as a loss, not fed to another op`);
    const T = node.inputs.length - 1;
    return [...node.outputs.slice(2, 2 + T), node.outputs[1]];
  },
};

/**
 * Kendall et al.'s learned loss weighting: the T terms exp(-s_t) · L_t + s_t of the total
 * (their sum is the loss to train), from the task losses (each a loss op's per-element terms,
 * whose sum is L_t) and the log-variances s ([T], a parameter, usually initialised to 0).
 * Pass the result to gradients() instead of the task losses; their gradients come out scaled
 * by exp(-s_t), and s gets 1 - exp(-s_t) L_t.
 */
export function uncertaintyLoss(g: Graph, taskLosses: readonly Tensor[], logVars: Tensor): Tensor {
  if (taskLosses.length < 1) throw new GraphError('uncertainty_loss takes at least one task loss');
  for (const l of taskLosses) {
    if (!l.producer?.op.grad) throw new GraphError(`uncertainty_loss: ${l} must be the per-element terms of a loss op (bceWithLogits, mseLoss, ...)`);
  }
  return g.apply(uncertaintyOp, [...taskLosses, logVars], {})[0];
}
