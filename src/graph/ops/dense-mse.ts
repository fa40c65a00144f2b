// The last layer of a regression head and its MSE as one op: pred = h·w + b (one output per
// row), loss terms weight · mean((pred - target)²), and the gradients of h, w and b, in two
// dispatches (kernels/dense-mse.ts) instead of six. Models write dense() then mseLoss(); the
// graph passes (passes.ts) put this op in their place once reverse mode has run.
import { DenseMse } from '../../kernels/dense-mse.ts';
import { plainMseWeight } from './loss.ts';
import { isActBackward, isBiasGrad, matmulAttrs, setActivation } from './matmul.ts';
import { GraphError, shapeString, type Graph, type Node, type OpKind, type Tensor } from '../graph.ts';

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
      { name: `${h.name}@${w.name}.dmse`, shape: [rows, 1], dtype: 'f32' },
      { name: `d${h.name}`, shape: h.shape, dtype: 'f32' },
      { name: `d${w.name}`, shape: w.shape, dtype: 'f32' },
      { name: `d${b.name}`, shape: b.shape, dtype: 'f32' },
      ...(attrs.dhSums ? [{ name: `d${h.name}.sums`, shape: [hidden], dtype: 'f32' as const }] : []),
    ];
  },
  async lower(ctx, node) {
    const [h, w, b, target] = node.inputs;
    const [loss, g, dh, dw, db, dhSum] = node.outputs.map((t) => ctx.buffer(t));
    const k = await DenseMse.create(ctx.gpu, { rows: h.shape[0], hidden: h.shape[1] }, { relu: node.attrs.relu, dhSums: !!node.attrs.dhSums }, ctx.scope);
    const scale = ctx.scope.upload('dense_mse.scale', new Float32Array([node.attrs.weight / h.shape[0]]));
    return k.bind({ scale, h: ctx.buffer(h), w: ctx.buffer(w), bias: ctx.buffer(b), target: ctx.buffer(target), loss, g, dh, dw, db, ...(dhSum ? { dhSum } : {}) });
  },
};

/**
 * Rewrite rule (graph passes): a plain MSE over a dense layer to one output with a bias
 * (mseLoss(dense(h, w, b))), with that layer's three gradients as reverse mode wrote them, becomes
 * one dense_mse_loss taking over the layer, the loss and the three gradient nodes. When h is a
 * ReLU layer's output read by nothing else, that layer stops at its pre-activation z and the
 * fused op applies the ReLU and writes z's gradient, taking over act_backward too. The fused
 * kernels sum in the unfused ops' order: the same bits (test/dense-mse.test.ts), two dispatches
 * instead of five or six. A graph without those gradients (the loss seeds none, h needs none) is left.
 */
export function fuseDenseMse(g: Graph, loss: Node): boolean {
  const weight = plainMseWeight(loss);
  const [pred, target] = loss.inputs;
  const layer = pred.producer;
  const la = layer && matmulAttrs(layer);
  if (weight === null || !layer || !la || la.transA || la.transB || la.activation !== 'none' || layer.inputs.length !== 3) return false;
  const [h, w, b] = layer.inputs;
  if (h.shape.length !== 2 || w.shape.length !== 2 || w.shape[1] !== 1 || b.size !== 1 || target.size !== h.shape[0]) return false;
  const readers = (t: Tensor): Node[] => g.nodes.filter((n) => n.inputs.includes(t));
  const dPred = loss.outputs[1];
  if (g.kept.has(pred) || g.kept.has(dPred) || readers(pred).length !== 1) return false;
  // The output layer's backward, as matmul's grad writes it: dh = dPred·wᵀ, dw = hᵀ·dPred, db = Σ dPred.
  let dh: Node | undefined;
  let dw: Node | undefined;
  let db: Node | undefined;
  for (const n of readers(dPred)) {
    const a = matmulAttrs(n);
    const plain = a && a.activation === 'none' && n.inputs.length === 2;
    if (plain && !a.transA && a.transB && n.inputs[0] === dPred && n.inputs[1] === w && !dh) dh = n;
    else if (plain && a.transA && !a.transB && n.inputs[0] === h && n.inputs[1] === dPred && !dw) dw = n;
    else if (isBiasGrad(n) && !db) db = n;
    else return false;
  }
  if (!dh || !dw || !db) return false;
  const absorb = [layer, dh, dw, db];
  let dIn = dh.outputs[0];
  // The ReLU layer before it: its act_backward reads dh and h, and h is read by nothing else.
  const relu = h.producer;
  const ra = relu && matmulAttrs(relu);
  const [act, ...more] = readers(dh.outputs[0]);
  const fold = !!ra && ra.activation === 'relu' && !g.kept.has(h) && !g.kept.has(dIn) && !!act && more.length === 0 && isActBackward(act, 'relu') && act.inputs[1] === h;
  if (fold && readers(h).every((n) => n === layer || n === dw || n === act)) {
    absorb.push(act);
    dIn = act.outputs[0];
  }
  const inputRelu = absorb.length === 5;
  g.rewrite(loss, denseMseOp, [h, w, b, target], [loss.outputs[0], dPred, dIn, dw.outputs[0], db.outputs[0]], { weight, relu: inputRelu }, absorb);
  if (inputRelu) setActivation(g, relu as Node, 'none');
  return true;
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
