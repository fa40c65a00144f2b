// Element-wise graph ops the models use: product (u ⊙ q), scale and shift (sigmoid · 5 for a
// clipped rating), and concatenation along the last dimension ([u, q, u ⊙ q]).
import { Concat, Multiply, MultiplyBackward, ScaleShift, Split } from '../../kernels/elementwise.ts';
import { fill } from '../../kernels/fill.ts';
import { PairFeatures, PairFeaturesBackward } from '../../kernels/pair-features.ts';
import { Kernel } from '../../kernels/spec.ts';
import { GraphError, shapeString, type Graph, type Node, type OpKind, type Tensor } from '../graph.ts';
import { paddedRowsSource, padRows } from './rows.ts';

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

/** [a, b, ...] along the last dimension of 2-D tensors with the same rows (at least 2 inputs). */
export function concat(g: Graph, inputs: readonly Tensor[]): Tensor {
  if (inputs.length < 2) throw new GraphError(`concat takes at least 2 inputs, got ${inputs.length}`);
  return g.apply(concatOp, inputs, {})[0];
}

const splitColumnsOp: OpKind<{ widths: number[] }> = {
  name: 'split_columns',
  outputs([x], a) {
    const total = a.widths.reduce((s, w) => s + w, 0);
    if (x.shape.length !== 2 || x.shape[1] !== total) throw new GraphError(`split_columns: ${x} ${shapeString(x)} must be 2-D with ${total} columns (the widths ${a.widths.join(' + ')})`);
    return a.widths.map((w, i) => ({ name: `${x.name}[:,${i}]`, shape: [x.shape[0], w], dtype: 'f32' as const }));
  },
  async lower(ctx, node) {
    const [x] = node.inputs;
    const k = await Split.create(ctx.gpu, { rows: x.shape[0], widths: node.attrs.widths }, {}, ctx.scope);
    return k.bind({ gradOut: ctx.buffer(x), gradInputs: node.outputs.map((o) => ctx.buffer(o)) });
  },
  grad(g, node, dOut) {
    // A block no loss reads gets zeros, so that the concat covers every column.
    return [concat(g, dOut.map((d, i) => d ?? zeros(g, node.outputs[i])))];
  },
};

/** The column blocks of a 2-D x, widths from the left (at least 2); the gradient is their concat. */
export function splitColumns(g: Graph, x: Tensor, widths: readonly number[]): Tensor[] {
  if (widths.length < 2 || !widths.every((w) => Number.isInteger(w) && w >= 1)) throw new GraphError(`split_columns: widths must be at least 2 integers >= 1, got [${widths.join(', ')}]`);
  return g.apply(splitColumnsOp, [x], { widths: [...widths] });
}

const zerosOp: OpKind<Record<string, never>> = {
  name: 'zeros',
  outputs([like]) {
    return [{ name: `0*${like.name}`, shape: like.shape, dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const out = node.outputs[0];
    const k = await Kernel.create(ctx.gpu, fill(ctx.gpu, out.size), ctx.scope);
    return [k.bind({ out: ctx.buffer(out) })];
  },
};

/** Zeros shaped like `like` (which it does not read). */
function zeros(g: Graph, like: Tensor): Tensor {
  return g.apply(zerosOp, [like], {})[0];
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
    return [k.bind({ u: ctx.buffer(u), q: ctx.buffer(q), x: ctx.buffer(node.outputs[0]) })];
  },
  grad(g, node, [dx]) {
    const [u, q] = node.inputs;
    const [du, dq] = g.apply(pairFeaturesBackwardOp, [dx as Tensor, u, q], { addU: false, addQ: false });
    // Only q's leading rows were read: the rest get a zero gradient (which the graph passes fold away).
    return [du, q.shape[0] > u.shape[0] ? padRows(g, dq, 0, q) : dq];
  },
};

/** Which of reverse mode's other contributions the backward adds (inputs [dx, u, q, addU?, addQ?]). */
interface PairBackwardAttrs {
  addU: boolean;
  addQ: boolean;
}

function pairAddends(inputs: readonly Tensor[], a: PairBackwardAttrs): { addU: Tensor | null; addQ: Tensor | null } {
  const rest = inputs.slice(3);
  return { addU: a.addU ? rest[0] : null, addQ: a.addQ ? rest[a.addU ? 1 : 0] : null };
}

/** du [u's rows] and dq [u's rows], or with addQ dq + addQ over all of q's rows. */
const pairFeaturesBackwardOp: OpKind<PairBackwardAttrs> = {
  name: 'pair_features_backward',
  outputs(inputs, a) {
    const [, u, q] = inputs;
    const { addU, addQ } = pairAddends(inputs, a);
    if (inputs.length !== 3 + Number(a.addU) + Number(a.addQ)) throw new GraphError(`pair_features_backward: ${inputs.length} inputs do not fit addU ${a.addU}, addQ ${a.addQ}`);
    if (addU && addU.shape.join() !== u.shape.join()) throw new GraphError(`pair_features_backward: addend ${addU} ${shapeString(addU)} is not shaped like ${u} ${shapeString(u)}`);
    if (addQ && addQ.shape.join() !== q.shape.join()) throw new GraphError(`pair_features_backward: addend ${addQ} ${shapeString(addQ)} is not shaped like ${q} ${shapeString(q)}`);
    return [
      { name: `d${u.name}`, shape: u.shape, dtype: 'f32' },
      { name: `d${q.name}`, shape: addQ ? q.shape : u.shape, dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [dx, u, q] = node.inputs;
    const { addU, addQ } = pairAddends(node.inputs, node.attrs);
    const k = await PairFeaturesBackward.create(ctx.gpu, { rows: u.shape[0], dim: u.shape[1], qRows: q.shape[0] }, { u: node.attrs.addU, q: node.attrs.addQ }, ctx.scope);
    const [du, dq] = node.outputs;
    return [
      k.bind({
        u: ctx.buffer(u),
        q: ctx.buffer(q),
        dx: ctx.buffer(dx),
        du: ctx.buffer(du),
        dq: ctx.buffer(dq),
        ...(addU ? { addU: ctx.buffer(addU) } : {}),
        ...(addQ ? { addQ: ctx.buffer(addQ) } : {}),
      }),
    ];
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

/**
 * Rewrite rule (graph passes): an `add` of two gradient contributions, one of them the du or dq
 * of a pair_features_backward (directly, or dq zero-padded to a taller q by pad_rows), becomes
 * that backward node adding the other addend itself, in its one dispatch: when no other op reads
 * that output, the step does not keep it, that output adds nothing yet, and the addend is made
 * before the backward node (a forward-phase loss's gradient). The node is rewritten in place, at
 * its position, writing the add's output; the add and a padding node leave. The bits are add's /
 * add_rows': the term as before, plus the addend (IEEE addition commutes).
 */
export function foldAddIntoPairBackward(g: Graph, sum: Node): boolean {
  if (sum.op.name !== 'add') return false;
  const [a, b] = sum.inputs;
  return foldInto(g, sum, a, b) || foldInto(g, sum, b, a);
}

function foldInto(g: Graph, sum: Node, grad: Tensor, addend: Tensor): boolean {
  if (grad === addend || g.kept.has(grad) || addend.dtype !== 'f32' || g.nodes.some((n) => n !== sum && n.inputs.includes(grad))) return false;
  let node = grad.producer;
  let slot = node ? node.outputs.indexOf(grad) : -1;
  let pad: Node | null = null;
  if (!node || node.op !== (pairFeaturesBackwardOp as OpKind<unknown>)) {
    // A taller q: dq reaches reverse mode through pad_rows(dq, 0, q).
    const src = paddedRowsSource(g, grad, sum);
    node = src?.block.producer ?? null;
    if (!src || !node || node.op !== (pairFeaturesBackwardOp as OpKind<unknown>) || src.start !== 0 || src.block !== node.outputs[1] || g.kept.has(src.block)) return false;
    if (g.nodes.some((n) => n !== src.node && n.inputs.includes(src.block))) return false;
    pad = src.node;
    slot = 1;
  }
  const attrs = node.attrs as PairBackwardAttrs;
  const [dx, u, q] = node.inputs;
  if (slot === 0 ? attrs.addU : attrs.addQ) return false;
  // dq + addend covers q's rows: the addend and the summed gradient must both be q-shaped.
  const like = slot === 0 ? u : q;
  if (addend.shape.join() !== like.shape.join() || grad.shape.join() !== like.shape.join()) return false;
  const before = addend.producer ? g.nodes.indexOf(addend.producer) : -1;
  if (addend.producer && !(before >= 0 && before < g.nodes.indexOf(node))) return false;
  const next: PairBackwardAttrs = slot === 0 ? { addU: true, addQ: attrs.addQ } : { addU: attrs.addU, addQ: true };
  const now = pairAddends(node.inputs, attrs);
  const addU = slot === 0 ? addend : now.addU;
  const addQ = slot === 1 ? addend : now.addQ;
  const inputs = [dx, u, q, ...(addU ? [addU] : []), ...(addQ ? [addQ] : [])];
  const outputs = slot === 0 ? [sum.outputs[0], node.outputs[1]] : [node.outputs[0], sum.outputs[0]];
  g.rewrite(node, pairFeaturesBackwardOp, inputs, outputs, next, pad ? [sum, pad] : [sum]);
  return true;
}
