// Losses as graph ops. Each fused loss kernel writes the per-element loss and its gradient in
// one dispatch, both scaled by weight / n (a weighted mean), so reverse mode starts from the
// gradient output directly (see autodiff.ts). Metrics sum on the GPU into a persistent tensor.
import { MseLoss } from '../../kernels/losses.ts';
import { Sum } from '../../kernels/reduce.ts';
import type { Graph } from '../graph.ts';
import type { OpKind } from '../node.ts';
import { GraphError, shapeString, type Tensor } from '../tensor.ts';

interface LossAttrs {
  weight: number;
}

const mseOp: OpKind<LossAttrs> = {
  name: 'mse_loss',
  outputs([pred, target]) {
    if (pred.size !== target.size) throw new GraphError(`mse_loss: prediction ${pred} ${shapeString(pred)} and target ${target} ${shapeString(target)} differ in size`);
    return [
      { name: `${pred.name}.mse`, shape: [pred.size], dtype: 'f32' },
      { name: `${pred.name}.dmse`, shape: pred.shape, dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [pred, target] = node.inputs;
    const [loss, grad] = node.outputs;
    const k = await MseLoss.create(ctx.gpu, { n: pred.size }, {}, ctx.scope);
    const scale = ctx.scope.upload('mse.scale', new Float32Array([node.attrs.weight / pred.size]));
    return [k.bind({ pred: ctx.buffer(pred), target: ctx.buffer(target), scale, loss: ctx.buffer(loss), grad: ctx.buffer(grad) })];
  },
  grad(_g, node, [seed]) {
    // Only the loss values seed reverse mode; their gradient is this op's second output.
    return [seed ? node.outputs[1] : null, null];
  },
};

/** Per-element terms of weight · mean((pred - target)²); their sum is the loss. */
export function mseLoss(g: Graph, pred: Tensor, target: Tensor, weight = 1): Tensor {
  if (!(weight >= 0 && Number.isFinite(weight))) throw new GraphError(`mse_loss: the weight must be a finite number >= 0, got ${weight}`);
  return g.apply(mseOp, [pred, target], { weight })[0];
}

interface MetricAttrs {
  slot: number;
}

const metricOp: OpKind<MetricAttrs> = {
  name: 'metric_sum',
  outputs() {
    return [];
  },
  async lower(ctx, node) {
    const [x, metrics] = node.inputs;
    const k = await Sum.create(ctx.gpu, { n: x.size }, { accumulate: true, dstOffset: node.attrs.slot }, ctx.scope);
    return k.bind({ x: ctx.buffer(x), dst: ctx.buffer(metrics) });
  },
};

/** metrics[slot] += sum(x) every step, on the GPU; the host reads and resets it every K steps. */
export function accumulateMetric(g: Graph, x: Tensor, metrics: Tensor, slot: number): void {
  if (metrics.kind !== 'state') throw new GraphError(`metric_sum: ${metrics} must be a state tensor`);
  if (!(Number.isInteger(slot) && slot >= 0 && slot < metrics.size)) throw new GraphError(`metric_sum: slot ${slot} is outside ${metrics} ${shapeString(metrics)}`);
  g.apply(metricOp, [x, metrics], { slot });
}
