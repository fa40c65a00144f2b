// Losses as graph ops. Each fused loss kernel writes the per-element loss and its gradient in
// one dispatch, both scaled by weight / n (a weighted mean), so reverse mode starts from the
// gradient output directly (see autodiff.ts). Metrics sum on the GPU into a persistent tensor.
import { BceOnProduct, BceWithLogits, MseLoss, RankingLoss, SoftmaxCrossEntropy, type RankingKind } from '../../kernels/losses.ts';
import { mfRankingIndexed } from '../../kernels/mf-ranking.ts';
import { Kernel } from '../../kernels/spec.ts';
import { rowsGradient } from './embedding.ts';
import { lossGradient } from './loss-seed.ts';
import { Sum } from '../../kernels/reduce.ts';
import { GraphError, shapeString, type Graph, type LowerContext, type Node, type OpKind, type Tensor } from '../graph.ts';

interface LossAttrs {
  weight: number;
}

/** An elementwise loss's options: loss weight, divisor of the mean, and which optional inputs follow the two required ones. */
interface ElementLossAttrs extends LossAttrs {
  divisor: number;
  masked: boolean;
  weighted: boolean;
}

/** Per-element weights and masks for an elementwise loss (see bceWithLogits). */
export interface ElementLossOptions {
  /** The loss weight (default 1). */
  weight?: number;
  /** f32, one per element: 0 = no label there (loss 0, gradient 0, whatever the label holds). */
  mask?: Tensor;
  /** f32, one per element: loss and gradient times w_i; 0 = no label there, as the mask. */
  weights?: Tensor;
  /** The sum is divided by this (default: the element count). */
  divisor?: number;
}

/** Inputs [a, b, mask?, weights?] and attributes of an elementwise loss, after checking the options. */
function elementLoss(op: string, a: Tensor, b: Tensor, o: ElementLossOptions): { inputs: Tensor[]; attrs: ElementLossAttrs } {
  const weight = o.weight ?? 1;
  checkWeight(op, weight);
  const divisor = o.divisor ?? a.size;
  if (!(divisor > 0 && Number.isFinite(divisor))) throw new GraphError(`${op}: the divisor must be a finite number > 0, got ${divisor}`);
  for (const [what, t] of [['mask', o.mask], ['weights', o.weights]] as const) {
    if (t && (t.size !== a.size || t.dtype !== 'f32')) throw new GraphError(`${op}: ${what} ${t} ${shapeString(t)} must be f32 with one value per element of ${a} ${shapeString(a)}`);
  }
  const inputs = [a, b, ...(o.mask ? [o.mask] : []), ...(o.weights ? [o.weights] : [])];
  return { inputs, attrs: { weight, divisor, masked: !!o.mask, weighted: !!o.weights } };
}

/** The optional [mask, weights] buffers of an elementwise loss node (inputs after the first two). */
function maskAndWeights(ctx: LowerContext, node: Node<ElementLossAttrs>): { mask?: GPUBuffer; weights?: GPUBuffer } {
  const [mask, weights] = [node.attrs.masked ? node.inputs[2] : undefined, node.attrs.weighted ? node.inputs[node.attrs.masked ? 3 : 2] : undefined];
  return { ...(mask ? { mask: ctx.buffer(mask) } : {}), ...(weights ? { weights: ctx.buffer(weights) } : {}) };
}

const mseOp: OpKind<ElementLossAttrs> = {
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
    const { masked, weighted } = node.attrs;
    const k = await MseLoss.create(ctx.gpu, { n: pred.size }, { masked, weighted }, ctx.scope);
    const scale = ctx.scope.upload('mse.scale', new Float32Array([node.attrs.weight / node.attrs.divisor]));
    return [k.bind({ pred: ctx.buffer(pred), target: ctx.buffer(target), ...maskAndWeights(ctx, node), scale, loss: ctx.buffer(loss), grad: ctx.buffer(grad) })];
  },
  grad(g, node, [seed]) {
    return node.inputs.map((_, i) => (i === 0 ? lossGradient(g, node, seed, node.outputs[1]) : null));
  },
};

/**
 * Per-element terms of weight · Σ_i w_i (pred_i - target_i)² / divisor (w_i = 1 without
 * weights; divisor: the element count by default); their sum is the loss. With per-element
 * weights 1/(labels present) where a label is present and 0 where it is missing, and divisor
 * 1, the sum is the mean over the labels present; a weight or mask of 0 gives exactly 0 loss
 * and 0 gradient even where the target is NaN.
 */
export function mseLoss(g: Graph, pred: Tensor, target: Tensor, weight = 1, o: Omit<ElementLossOptions, 'weight'> = {}): Tensor {
  const { inputs, attrs } = elementLoss('mse_loss', pred, target, { ...o, weight });
  return g.apply(mseOp, inputs, attrs)[0];
}

/** The weight of a plain mean squared error node (no mask, no per-element weights, divided by its element count), or null for any other node (for the graph passes). */
export function plainMseWeight(node: Node): number | null {
  if (node.op !== (mseOp as OpKind<unknown>)) return null;
  const a = node.attrs as ElementLossAttrs;
  return !a.masked && !a.weighted && a.divisor === node.inputs[0].size ? a.weight : null;
}

function checkWeight(op: string, weight: number): void {
  if (!(weight >= 0 && Number.isFinite(weight))) throw new GraphError(`${op}: the weight must be a finite number >= 0, got ${weight}`);
}

const rankingOp: OpKind<LossAttrs & { kind: RankingKind }> = {
  name: 'ranking_loss',
  outputs([pos, neg]) {
    if (pos.size !== neg.size) throw new GraphError(`ranking_loss: positive scores ${pos} ${shapeString(pos)} and negative scores ${neg} ${shapeString(neg)} differ in size`);
    return [
      { name: `${pos.name}.rank`, shape: [pos.size], dtype: 'f32' },
      { name: `${pos.name}.drank`, shape: pos.shape, dtype: 'f32' },
      { name: `${neg.name}.drank`, shape: neg.shape, dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [pos, neg] = node.inputs;
    const [loss, gp, gn] = node.outputs;
    const k = await RankingLoss.create(ctx.gpu, { n: pos.size }, { kind: node.attrs.kind }, ctx.scope);
    const scale = ctx.scope.upload('ranking.scale', new Float32Array([node.attrs.weight / pos.size]));
    return [k.bind({ pos: ctx.buffer(pos), neg: ctx.buffer(neg), scale, loss: ctx.buffer(loss), gradPos: ctx.buffer(gp), gradNeg: ctx.buffer(gn) })];
  },
  grad(g, node, [seed]) {
    return [lossGradient(g, node, seed, node.outputs[1]), lossGradient(g, node, seed, node.outputs[2])];
  },
};

/**
 * Per-pair terms of weight · mean(ranking loss of pos - neg): 'cs330' is 1 - σ(pos - neg) (the
 * course's), 'bpr' is -log σ(pos - neg).
 */
export function rankingLoss(g: Graph, pos: Tensor, neg: Tensor, kind: RankingKind, weight = 1): Tensor {
  checkWeight('ranking_loss', weight);
  return g.apply(rankingOp, [pos, neg], { weight, kind })[0];
}

const bceOp: OpKind<ElementLossAttrs> = {
  name: 'bce_with_logits',
  outputs([logits, labels]) {
    if (logits.size !== labels.size) throw new GraphError(`bce_with_logits: logits ${logits} ${shapeString(logits)} and labels ${labels} ${shapeString(labels)} differ in size`);
    return [
      { name: `${logits.name}.bce`, shape: [logits.size], dtype: 'f32' },
      { name: `${logits.name}.dbce`, shape: logits.shape, dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [logits, labels] = node.inputs;
    const [loss, grad] = node.outputs;
    const { masked, weighted } = node.attrs;
    const k = await BceWithLogits.create(ctx.gpu, { n: logits.size }, { masked, weighted }, ctx.scope);
    const scale = ctx.scope.upload('bce.scale', new Float32Array([node.attrs.weight / node.attrs.divisor]));
    return [k.bind({ logits: ctx.buffer(logits), labels: ctx.buffer(labels), ...maskAndWeights(ctx, node), scale, loss: ctx.buffer(loss), grad: ctx.buffer(grad) })];
  },
  grad(g, node, [seed]) {
    return node.inputs.map((_, i) => (i === 0 ? lossGradient(g, node, seed, node.outputs[1]) : null));
  },
};

/**
 * Per-element terms of weight · Σ_i w_i BCE(σ(logits_i), labels_i) / divisor, from logits
 * (stable); w_i = 1 without weights, divisor the element count by default. A mask or weight of
 * 0 drops an element (a missing label: loss 0 and gradient 0 even where the label is NaN).
 * The mean over the labels present: weights 1/(labels present) where present, 0 where
 * missing, and divisor 1 (the host writes the weights with each batch).
 */
export function bceWithLogits(g: Graph, logits: Tensor, labels: Tensor, o: ElementLossOptions = {}): Tensor {
  const { inputs, attrs } = elementLoss('bce_with_logits', logits, labels, o);
  return g.apply(bceOp, inputs, attrs)[0];
}

/** Inputs [a, b, labels, weights?]; outputs [loss terms, d/da, d/db]. */
const bceProductOp: OpKind<ElementLossAttrs> = {
  name: 'bce_on_product',
  outputs([a, b, labels]) {
    if (a.size !== b.size || a.size !== labels.size) {
      throw new GraphError(`bce_on_product: logits ${a} ${shapeString(a)} and ${b} ${shapeString(b)} and labels ${labels} ${shapeString(labels)} differ in size`);
    }
    return [
      { name: `${a.name}*${b.name}.bce`, shape: [a.size], dtype: 'f32' },
      { name: `d${a.name}.bce`, shape: a.shape, dtype: 'f32' },
      { name: `d${b.name}.bce`, shape: b.shape, dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [a, b, labels, weights] = node.inputs;
    const [loss, gradA, gradB] = node.outputs;
    const k = await BceOnProduct.create(ctx.gpu, { n: a.size }, { weighted: node.attrs.weighted }, ctx.scope);
    const scale = ctx.scope.upload('bce_product.scale', new Float32Array([node.attrs.weight / node.attrs.divisor]));
    return [
      k.bind({ a: ctx.buffer(a), b: ctx.buffer(b), labels: ctx.buffer(labels), ...(weights ? { weights: ctx.buffer(weights) } : {}), scale, loss: ctx.buffer(loss), gradA: ctx.buffer(gradA), gradB: ctx.buffer(gradB) }),
    ];
  },
  grad(g, node, [seed]) {
    return node.inputs.map((_, i) => (i < 2 ? lossGradient(g, node, seed, node.outputs[1 + i]) : null));
  },
};

/**
 * ESMM's loss (Ma et al., SIGIR 2018) on pCTCVR = σ(a) · σ(b), a product of probabilities:
 * per-element terms of weight · Σ_i w_i BCE(labels_i, σ(a_i) σ(b_i)) / divisor, computed in
 * log space from the two logits (finite and accurate for p near 0 and near 1; see
 * shaders/losses.wgsl), with gradients into both logits. Weights and divisor as in
 * bceWithLogits (a weight of 0 drops an element, NaN label included).
 */
export function bceOnProduct(g: Graph, logitsA: Tensor, logitsB: Tensor, labels: Tensor, o: Omit<ElementLossOptions, 'mask'> = {}): Tensor {
  const { inputs, attrs } = elementLoss('bce_on_product', logitsA, logitsB, o);
  return g.apply(bceProductOp, [logitsA, logitsB, labels, ...inputs.slice(2)], attrs)[0];
}

const softmaxCeOp: OpKind<LossAttrs & { divisor: number }> = {
  name: 'softmax_cross_entropy',
  outputs([logits, labels, rowWeights]) {
    if (logits.shape.length !== 2 || labels.dtype !== 'u32' || labels.size !== logits.shape[0] || (rowWeights && rowWeights.size !== logits.shape[0])) {
      throw new GraphError(`softmax_cross_entropy: logits ${logits} ${shapeString(logits)} need one u32 label${rowWeights ? ' and one weight' : ''} per row; got labels ${labels} ${labels.dtype} ${shapeString(labels)}`);
    }
    return [
      { name: `${logits.name}.ce`, shape: [logits.shape[0]], dtype: 'f32' },
      { name: `${logits.name}.dce`, shape: logits.shape, dtype: 'f32' },
      { name: `${logits.name}.correct`, shape: [logits.shape[0]], dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [logits, labels, rowWeights] = node.inputs;
    const [loss, grad, correct] = node.outputs;
    const k = await SoftmaxCrossEntropy.create(ctx.gpu, { rows: logits.shape[0], cols: logits.shape[1] }, { weighted: !!rowWeights, accuracy: true }, ctx.scope);
    const scale = ctx.scope.upload('ce.scale', new Float32Array([node.attrs.weight / node.attrs.divisor]));
    return [
      k.bind({
        logits: ctx.buffer(logits),
        labels: ctx.buffer(labels),
        ...(rowWeights ? { weights: ctx.buffer(rowWeights) } : {}),
        scale,
        loss: ctx.buffer(loss),
        grad: ctx.buffer(grad),
        correct: ctx.buffer(correct),
      }),
    ];
  },
  grad(g, node, [seed]) {
    return node.inputs.map((_, i) => (i === 0 ? lossGradient(g, node, seed, node.outputs[1]) : null));
  },
};

/**
 * Softmax cross-entropy over the last dimension from logits [R, C] and u32 labels [R]:
 * per-row terms of weight · Σ_r w_r CE_r / divisor (divisor: the number of rows trained on,
 * R by default), and the per-row 0/1 flags of a correct argmax for accuracy.
 */
export function softmaxCrossEntropy(
  g: Graph,
  logits: Tensor,
  labels: Tensor,
  o: { weight?: number; rowWeights?: Tensor; divisor?: number } = {},
): { loss: Tensor; correct: Tensor } {
  const weight = o.weight ?? 1;
  checkWeight('softmax_cross_entropy', weight);
  const divisor = o.divisor ?? logits.shape[0];
  if (!(divisor > 0)) throw new GraphError(`softmax_cross_entropy: the divisor must be > 0, got ${divisor}`);
  const [loss, , correct] = g.apply(softmaxCeOp, o.rowWeights ? [logits, labels, o.rowWeights] : [logits, labels], { weight, divisor });
  return { loss, correct };
}

/** Metrics up to this many values are summed by one thread on software adapters. */
const SERIAL_METRIC_MAX = 4096;

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
    // A small metric on a software adapter: one thread in order beats the tree, whose barriers
    // SwiftShader runs as coroutines (256 values: 46 -> 13 us). The reported sum's last bits
    // depend on the order; training does not read it.
    const strategy = ctx.gpu.report.software && x.size <= SERIAL_METRIC_MAX ? 'serial' : 'tree';
    const k = await Sum.create(ctx.gpu, { n: x.size }, { accumulate: true, dstOffset: node.attrs.slot, strategy }, ctx.scope);
    return k.bind({ x: ctx.buffer(x), dst: ctx.buffer(metrics) });
  },
};

/** metrics[slot] += sum(x) every step, on the GPU; the host reads and resets it every K steps. */
export function accumulateMetric(g: Graph, x: Tensor, metrics: Tensor, slot: number): void {
  if (metrics.kind !== 'state') throw new GraphError(`metric_sum: ${metrics} must be a state tensor`);
  if (!(Number.isInteger(slot) && slot >= 0 && slot < metrics.size)) throw new GraphError(`metric_sum: slot ${slot} is outside ${metrics} ${shapeString(metrics)}`);
  g.apply(metricOp, [x, metrics], { slot });
}

/** Inputs [u, q, user bias table, users, item bias table, items]: the biases are read by index (no gathers). */
const mfRankingOp: OpKind<LossAttrs> = {
  name: 'mf_ranking_loss',
  outputs([u, q, aT, users, bT, items]) {
    const n = u.shape[0];
    const dim = u.shape[1];
    const column = (t: Tensor): boolean => t.shape.length === 2 && t.shape[1] === 1;
    if (u.shape.length !== 2 || q.shape.join() !== `${2 * n},${dim}` || !column(aT) || !column(bT) || users.size !== n || items.size !== 2 * n || users.dtype !== 'u32' || items.dtype !== 'u32') {
      throw new GraphError(
        `mf_ranking_loss: users ${shapeString(u)}, items ${shapeString(q)} (positives then negatives: [${2 * n}, ${dim}]), bias tables ${shapeString(aT)} and ${shapeString(bT)} ([rows, 1]) at u32 indices ${shapeString(users)} ([${n}]) and ${shapeString(items)} ([${2 * n}]) do not fit`,
      );
    }
    return [
      { name: `${u.name}.mf`, shape: [n], dtype: 'f32' },
      { name: `d${u.name}.mf`, shape: u.shape, dtype: 'f32' },
      { name: `d${q.name}.mf`, shape: q.shape, dtype: 'f32' },
      { name: `d${bT.name}.rows.mf`, shape: [2 * n, 1], dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [u, q, aT, users, bT, items] = node.inputs;
    const [loss, du, dq, db] = node.outputs.map((t) => ctx.buffer(t));
    const k = await Kernel.create(ctx.gpu, mfRankingIndexed(ctx.gpu, { n: u.shape[0], dim: u.shape[1] }, node.attrs.weight / u.shape[0]), ctx.scope);
    const b = (t: Tensor): GPUBuffer => ctx.buffer(t);
    return [k.bind({ u: b(u), q: b(q), a: b(aT), b: b(bT), user_idx: b(users), item_idx: b(items), loss, du, dq, db })];
  },
  grad(g, node, [seed], needed) {
    if (!seed) return node.inputs.map(() => null);
    // No gradient for the user bias (see mfRankingLoss); the item biases' rows become the table's.
    const [du, dq, db] = node.outputs.slice(1).map((d) => lossGradient(g, node, seed, d) as Tensor);
    const [, , , , bT, items] = node.inputs;
    return [du, dq, null, null, needed[4] ? rowsGradient(g, db, bT, items) : null, null];
  },
};

/**
 * The factorization head's scores and the course's ranking loss in one op: per-rating terms of
 * weight · mean(1 - σ(pos - neg)) with pos = u·q⁺ + a + b⁺, neg = u·q⁻ + a + b⁻; `q` holds the
 * positives' rows then the negatives' (`items` their ids), and the biases a and b are read from
 * their [rows, 1] tables at `users` and `items` (u32 inputs) inside the op, with no gathers.
 *
 * The user bias gets no gradient: it cancels in pos - neg, so PyTorch's autograd gives it an
 * exact zero, and Adam without weight decay (the recommender has none) leaves a parameter
 * whose gradient is always zero, and its zero moments, unchanged. Skipping that update keeps
 * every bit and saves the step a table update.
 */
export function mfRankingLoss(g: Graph, u: Tensor, q: Tensor, userBiases: Tensor, users: Tensor, itemBiases: Tensor, items: Tensor, weight = 1): Tensor {
  checkWeight('mf_ranking_loss', weight);
  return g.apply(mfRankingOp, [u, q, userBiases, users, itemBiases, items], { weight })[0];
}
