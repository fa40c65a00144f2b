// The last layer of a regression head and its MSE as one op: pred = h·w + b (one output per
// row), loss terms weight · mean((pred - target)²), and the gradients of h, w and b, in two
// dispatches (kernels/dense-mse.ts) instead of six.
import { DenseMse } from '../../kernels/dense-mse.ts';
import { isBiasGrad } from './matmul.ts';
import type { Graph } from '../graph.ts';
import type { Node, OpKind } from '../node.ts';
import { GraphError, shapeString, type Tensor } from '../tensor.ts';

interface DenseMseAttrs {
  weight: number;
  relu: boolean;
  /** A sixth output: dh's column sums, the input layer's bias gradient (see foldInputBiasGrad). */
  dhSums?: boolean;
}

const denseMseOp: OpKind<DenseMseAttrs> = {
  name: 'dense_mse_loss',
  outputs([h, w, b, target], attrs) {
    const [rows, hidden] = h.shape;
    if (h.shape.length !== 2 || w.size !== hidden || (w.shape.length === 2 && w.shape[1] !== 1) || b.size !== 1 || target.size !== rows) {
      throw new GraphError(
        `dense_mse_loss: inputs ${shapeString(h)}, weight ${w} ${shapeString(w)} ([${hidden}, 1]), bias ${b} ${shapeString(b)} ([1]) and target ${target} ${shapeString(target)} ([${rows}]) do not fit`,
      );
    }
    return [
      { name: `${h.name}@${w.name}.mse`, shape: [rows], dtype: 'f32' },
      { name: `${h.name}@${w.name}.dmse`, shape: [rows], dtype: 'f32' },
      { name: `d${h.name}`, shape: h.shape, dtype: 'f32' },
      { name: `d${w.name}`, shape: w.shape, dtype: 'f32' },
      { name: `d${b.name}`, shape: b.shape, dtype: 'f32' },
      ...(attrs.dhSums ? [{ name: `d${h.name}.sums`, shape: [hidden], dtype: 'f32' as const }] : []),
    ];
  },
  async lower(ctx, node) {
    const [h, w, b, target] = node.inputs;
    const [loss, g, dh, dw, db, dhSum] = node.outputs.map((t) => ctx.buffer(t));
    const k = await DenseMse.create(ctx.gpu, { rows: h.shape[0], hidden: h.shape[1] }, ctx.scope, { relu: node.attrs.relu, dhSums: !!node.attrs.dhSums });
    const scale = ctx.scope.upload('dense_mse.scale', new Float32Array([node.attrs.weight / h.shape[0]]));
    return k.bind({ scale, h: ctx.buffer(h), w: ctx.buffer(w), bias: ctx.buffer(b), target: ctx.buffer(target), loss, g, dh, dw, db, ...(dhSum ? { dhSum } : {}) });
  },
  grad(_g, node, [seed]) {
    // The loss seeds reverse mode; the gradients are this op's own outputs.
    return seed ? [node.outputs[2], node.outputs[3], node.outputs[4], null] : [null, null, null, null];
  },
};

/**
 * Per-row terms of weight · mean((h·w + b - target)²) for a layer to one output (w [hidden, 1],
 * b [1]): the same values and gradients as dense() then mseLoss(), in two dispatches.
 * `inputRelu`: `h` is the previous layer's pre-activation z, h = relu(z) is taken here and
 * z gets the gradient: the same bits as a relu dense layer before it, one dispatch fewer.
 */
export function denseMseLoss(g: Graph, h: Tensor, w: Tensor, b: Tensor, target: Tensor, weight = 1, o: { inputRelu?: boolean } = {}): Tensor {
  if (!(weight >= 0 && Number.isFinite(weight))) throw new GraphError(`dense_mse_loss: the weight must be a finite number >= 0, got ${weight}`);
  return g.apply(denseMseOp, [h, w, b, target], { weight, relu: !!o.inputRelu })[0];
}

/**
 * Rewrite rule (graph passes): the bias gradient of the layer before a dense_mse_loss (bias_grad
 * over the loss's dh, which is that layer's dz) folds into the loss's columns pass, which sums
 * dh's columns as it writes them, in bias_grad's order: the same bits, one dispatch fewer. The
 * bias_grad node leaves and its output becomes the loss node's sixth.
 */
export function foldInputBiasGrad(g: Graph, node: Node): boolean {
  if (!isBiasGrad(node)) return false;
  const dz = node.inputs[0];
  const loss = dz.producer;
  if (!loss || loss.op !== (denseMseOp as OpKind<unknown>) || loss.outputs[2] !== dz) return false;
  const attrs = loss.attrs as DenseMseAttrs;
  if (attrs.dhSums) return false;
  g.rewrite(loss, denseMseOp, loss.inputs, [...loss.outputs, node.outputs[0]], { ...attrs, dhSums: true }, [node]);
  return true;
}
