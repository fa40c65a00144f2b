// Element-wise graph ops the models use: product (u ⊙ q), scale and shift (sigmoid · 5 for a
// clipped rating), and concatenation along the last dimension ([u, q, u ⊙ q]).
import { Concat, Multiply, MultiplyBackward, ScaleShift, Split } from '../../kernels/elementwise.ts';
import { PairFeatures } from '../../kernels/pair-features.ts';
import type { Graph } from '../graph.ts';
import type { OpKind } from '../node.ts';
import { padRows } from './rows.ts';
import { GraphError, shapeString, type Tensor } from '../tensor.ts';

const mulOp: OpKind<Record<string, never>> = {
  name: 'mul',
  outputs([a, b]) {
    if (a.shape.join() !== b.shape.join()) throw new GraphError(`mul: ${a} ${shapeString(a)} and ${b} ${shapeString(b)} differ in shape`);
    return [{ name: `${a.name}*${b.name}`, shape: a.shape, dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [a, b] = node.inputs;
    const k = await Multiply.create(ctx.gpu, { n: a.size }, {}, ctx.scope);
    return [k.bind({ a: ctx.buffer(a), b: ctx.buffer(b), out: ctx.buffer(node.outputs[0]) })];
  },
  grad(g, node, [d]) {
    return g.apply(mulBackwardOp, [d as Tensor, ...node.inputs], {});
  },
};

const mulBackwardOp: OpKind<Record<string, never>> = {
  name: 'mul_backward',
  outputs([, a, b]) {
    return [
      { name: `d${a.name}`, shape: a.shape, dtype: 'f32' },
      { name: `d${b.name}`, shape: b.shape, dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [d, a, b] = node.inputs;
    const k = await MultiplyBackward.create(ctx.gpu, { n: a.size }, {}, ctx.scope);
    const [ga, gb] = node.outputs;
    return [k.bind({ grad: ctx.buffer(d), a: ctx.buffer(a), b: ctx.buffer(b), gradA: ctx.buffer(ga), gradB: ctx.buffer(gb) })];
  },
};

export function mul(g: Graph, a: Tensor, b: Tensor): Tensor {
  return g.apply(mulOp, [a, b], {})[0];
}

interface ScaleAttrs {
  alpha: number;
  beta: number;
}

const scaleOp: OpKind<ScaleAttrs> = {
  name: 'scale_shift',
  outputs([x]) {
    return [{ name: `${x.name}.scaled`, shape: x.shape, dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [x] = node.inputs;
    const k = await ScaleShift.create(ctx.gpu, { n: x.size }, { alpha: node.attrs.alpha, beta: node.attrs.beta }, ctx.scope);
    return [k.bind({ x: ctx.buffer(x), out: ctx.buffer(node.outputs[0]) })];
  },
  grad(g, node, [d]) {
    return [node.attrs.alpha === 1 ? d : scale(g, d as Tensor, node.attrs.alpha, 0)];
  },
};

/** alpha · x + beta. */
export function scale(g: Graph, x: Tensor, alpha: number, beta = 0): Tensor {
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) throw new GraphError(`scale_shift: alpha and beta must be finite, got ${alpha} and ${beta}`);
  return g.apply(scaleOp, [x], { alpha, beta })[0];
}

const concatOp: OpKind<Record<string, never>> = {
  name: 'concat',
  outputs(inputs) {
    const rows = inputs[0].shape[0];
    for (const t of inputs) {
      if (t.shape.length !== 2 || t.shape[0] !== rows) throw new GraphError(`concat: every input must be 2-D with ${rows} rows; got ${inputs.map((i) => `${i} ${shapeString(i)}`).join(', ')}`);
    }
    return [{ name: 'concat', shape: [rows, inputs.reduce((s, t) => s + t.shape[1], 0)], dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const k = await Concat.create(ctx.gpu, { rows: node.inputs[0].shape[0], widths: node.inputs.map((t) => t.shape[1]) }, ctx.scope);
    return k.bind({ inputs: node.inputs.map((t) => ctx.buffer(t)), out: ctx.buffer(node.outputs[0]) });
  },
  grad(g, node, [d], needed) {
    const outs = g.apply(splitOp, [d as Tensor], { widths: node.inputs.map((t) => t.shape[1]), needed: [...needed] });
    return outs.map((o, i) => (needed[i] ? o : null));
  },
};

const splitOp: OpKind<{ widths: number[]; needed: boolean[] }> = {
  name: 'split',
  outputs([d], a) {
    return a.widths.map((w, i) => ({ name: `${d.name}[${i}]`, shape: [d.shape[0], w], dtype: 'f32' as const }));
  },
  async lower(ctx, node) {
    const [d] = node.inputs;
    const k = await Split.create(ctx.gpu, { rows: d.shape[0], widths: node.attrs.widths }, {}, ctx.scope);
    return k.bind({ gradOut: ctx.buffer(d), gradInputs: node.outputs.map((o, i) => (node.attrs.needed[i] ? ctx.buffer(o) : null)) });
  },
};

/** [a, b, ...] along the last dimension of 2-D tensors with the same rows (2 or 3 inputs). */
export function concat(g: Graph, inputs: readonly Tensor[]): Tensor {
  if (inputs.length < 2 || inputs.length > 3) throw new GraphError(`concat takes 2 or 3 inputs, got ${inputs.length}`);
  return g.apply(concatOp, inputs, {})[0];
}

const pairFeaturesOp: OpKind<Record<string, never>> = {
  name: 'pair_features',
  outputs([u, q]) {
    if (u.shape.length !== 2 || q.shape.length !== 2 || u.shape[1] !== q.shape[1] || q.shape[0] < u.shape[0]) {
      throw new GraphError(`pair_features: ${u} ${shapeString(u)} and ${q} ${shapeString(q)} must be 2-D, of one width, and q must have at least u's rows`);
    }
    return [{ name: `[${u.name},${q.name},*]`, shape: [u.shape[0], 3 * u.shape[1]], dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [u, q] = node.inputs;
    const k = await PairFeatures.create(ctx.gpu, { rows: u.shape[0], dim: u.shape[1] }, ctx.scope);
    return [k.forward({ u: ctx.buffer(u), q: ctx.buffer(q), x: ctx.buffer(node.outputs[0]) })];
  },
  grad(g, node, [dx]) {
    const [u, q] = node.inputs;
    const [du, dq] = g.apply(pairFeaturesBackwardOp, [dx as Tensor, u, q], {});
    // Only q's leading rows were read: the rest get a zero gradient (which sumGradients folds away).
    return [du, q.shape[0] > u.shape[0] ? padRows(g, dq, 0, q) : dq];
  },
};

const pairFeaturesBackwardOp: OpKind<Record<string, never>> = {
  name: 'pair_features_backward',
  outputs([, u, q]) {
    return [
      { name: `d${u.name}`, shape: u.shape, dtype: 'f32' },
      { name: `d${q.name}`, shape: u.shape, dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [dx, u, q] = node.inputs;
    const k = await PairFeatures.create(ctx.gpu, { rows: u.shape[0], dim: u.shape[1] }, ctx.scope);
    const [du, dq] = node.outputs;
    return [k.backward({ u: ctx.buffer(u), q: ctx.buffer(q), dx: ctx.buffer(dx), du: ctx.buffer(du), dq: ctx.buffer(dq) })];
  },
};

/**
 * [u, q, u ⊙ q] along the last dimension (the recommender's regression input), one dispatch
 * each way. q may have more rows than u: its leading rows are read (the positives of a
 * [positives; negatives] gather), with no slicing copy.
 */
export function pairFeatures(g: Graph, u: Tensor, q: Tensor): Tensor {
  return g.apply(pairFeaturesOp, [u, q], {})[0];
}
