// Row-wise ops: the dot product of matching rows (the factorization score u·q), and splitting
// a matrix into blocks of consecutive rows (positive and negative items gathered as one batch):
// all the blocks (split_rows), or one (slice_rows), whose gradient is zero-padded (pad_rows) and
// which a graph pass (foldPaddedAdd) adds straight into the other gradient's rows (add_rows).
import { Add, CopyBlock } from '../../kernels/elementwise.ts';
import { fill } from '../../kernels/fill.ts';
import { RowDot, RowDotBackward } from '../../kernels/reduce.ts';
import { GraphError, shapeString, type Graph, type Node, type OpKind, type Tensor } from '../graph.ts';
import type { Dispatch } from '../../kernels/kernel.ts';
import { Kernel } from '../../kernels/spec.ts';

const rowDotOp: OpKind<Record<string, never>> = {
  name: 'row_dot',
  outputs([a, b]) {
    if (a.shape.length !== 2 || a.shape.join() !== b.shape.join()) {
      throw new GraphError(`row_dot: ${a} ${shapeString(a)} and ${b} ${shapeString(b)} must be 2-D and of one shape`);
    }
    return [{ name: `${a.name}·${b.name}`, shape: [a.shape[0]], dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [a, b] = node.inputs;
    const k = await RowDot.create(ctx.gpu, { rows: a.shape[0], cols: a.shape[1] }, {}, ctx.scope);
    return [k.bind({ a: ctx.buffer(a), b: ctx.buffer(b), out: ctx.buffer(node.outputs[0]) })];
  },
  grad(g, node, [d]) {
    const [dA, dB] = g.apply(rowDotBackwardOp, [d as Tensor, ...node.inputs], {});
    return [dA, dB];
  },
};

const rowDotBackwardOp: OpKind<Record<string, never>> = {
  name: 'row_dot_backward',
  outputs([, a, b]) {
    return [
      { name: `d${a.name}`, shape: a.shape, dtype: 'f32' },
      { name: `d${b.name}`, shape: b.shape, dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [d, a, b] = node.inputs;
    const k = await RowDotBackward.create(ctx.gpu, { rows: a.shape[0], cols: a.shape[1] }, {}, ctx.scope);
    const [dA, dB] = node.outputs;
    return k.bind({ grad: ctx.buffer(d), a: ctx.buffer(a), b: ctx.buffer(b), gradA: ctx.buffer(dA), gradB: ctx.buffer(dB) });
  },
};

/** out[r] = Σ_d a[r, d]·b[r, d]. */
export function rowDot(g: Graph, a: Tensor, b: Tensor): Tensor {
  return g.apply(rowDotOp, [a, b], {})[0];
}

interface SplitRowsAttrs {
  counts: readonly number[];
}

/** A block of consecutive rows is one contiguous range of a row-major matrix: a single copy. */
function copyRange(ctx: Parameters<OpKind<unknown>['lower']>[0], elems: number, srcOffset: number, dstOffset: number): Promise<CopyBlock> {
  return CopyBlock.create(ctx.gpu, { rows: 1, width: elems, srcStride: 0, srcOffset, dstStride: 0, dstOffset }, {}, ctx.scope);
}

const splitRowsOp: OpKind<SplitRowsAttrs> = {
  name: 'split_rows',
  outputs([x], a) {
    const total = a.counts.reduce((s, c) => s + c, 0);
    if (x.shape.length < 1 || total !== x.shape[0]) throw new GraphError(`split_rows: ${x} ${shapeString(x)} has ${x.shape[0]} rows, the blocks add up to ${total}`);
    return a.counts.map((c, i) => ({ name: `${x.name}.rows${i}`, shape: [c, ...x.shape.slice(1)], dtype: x.dtype }));
  },
  async lower(ctx, node) {
    const [x] = node.inputs;
    const width = x.size / x.shape[0];
    let offset = 0;
    const out: Dispatch[] = [];
    for (const [i, o] of node.outputs.entries()) {
      const k = await copyRange(ctx, o.size, offset, 0);
      out.push(k.bind({ src: ctx.buffer(x), dst: ctx.buffer(o) }));
      offset += node.attrs.counts[i] * width;
    }
    return out;
  },
  grad(g, node, dOut) {
    return [g.apply(concatRowsOp, dOut.filter((d): d is Tensor => d !== null), { counts: node.attrs.counts, present: dOut.map((d) => d !== null), like: node.inputs[0] })[0]];
  },
};

interface ConcatRowsAttrs extends SplitRowsAttrs {
  /** Which blocks have a gradient; the others are zero. */
  present: readonly boolean[];
  like: Tensor;
}

const concatRowsOp: OpKind<ConcatRowsAttrs> = {
  name: 'concat_rows',
  outputs(_inputs, a) {
    return [{ name: `d${a.like.name}`, shape: a.like.shape, dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const out = ctx.buffer(node.outputs[0]);
    const width = node.attrs.like.size / node.attrs.like.shape[0];
    const dispatches: Dispatch[] = [];
    if (node.attrs.present.includes(false)) dispatches.push((await Kernel.create(ctx.gpu, fill(ctx.gpu, node.outputs[0].size), ctx.scope)).bind({ out }));
    let offset = 0;
    let next = 0;
    for (const [i, c] of node.attrs.counts.entries()) {
      if (node.attrs.present[i]) {
        const d = node.inputs[next++];
        dispatches.push((await copyRange(ctx, d.size, 0, offset)).bind({ src: ctx.buffer(d), dst: out }));
      }
      offset += c * width;
    }
    return dispatches;
  },
};

/** `x` cut into blocks of `counts` consecutive rows. */
export function splitRows(g: Graph, x: Tensor, counts: readonly number[]): Tensor[] {
  for (const c of counts) if (!Number.isInteger(c) || c < 1) throw new GraphError(`split_rows: block sizes must be positive integers, got ${counts.join(', ')}`);
  return g.apply(splitRowsOp, [x], { counts: [...counts] });
}

/** Checks a block of `count` rows from `start` inside `x`, for `op`'s message; returns x's row width. */
function checkBlock(op: string, x: Tensor, start: number, count: number): number {
  if (!Number.isInteger(start) || start < 0 || !Number.isInteger(count) || count < 1) throw new GraphError(`${op}: start must be a non-negative integer and count a positive one, got ${start} and ${count}`);
  if (x.shape.length < 1 || start + count > x.shape[0]) throw new GraphError(`${op}: rows [${start}, ${start + count}) do not fit in ${x} ${shapeString(x)}`);
  return x.size / x.shape[0];
}

interface SliceRowsAttrs {
  start: number;
  count: number;
}

const sliceRowsOp: OpKind<SliceRowsAttrs> = {
  name: 'slice_rows',
  outputs([x], a) {
    checkBlock('slice_rows', x, a.start, a.count);
    return [{ name: `${x.name}.rows${a.start}:${a.start + a.count}`, shape: [a.count, ...x.shape.slice(1)], dtype: x.dtype }];
  },
  async lower(ctx, node) {
    const [x] = node.inputs;
    const o = node.outputs[0];
    const k = await copyRange(ctx, o.size, node.attrs.start * (x.size / x.shape[0]), 0);
    return [k.bind({ src: ctx.buffer(x), dst: ctx.buffer(o) })];
  },
  grad(g, node, [d]) {
    return [padRows(g, d as Tensor, node.attrs.start, node.inputs[0])];
  },
};

interface PadRowsAttrs {
  start: number;
  /** The sliced tensor: the padded gradient has its shape. */
  like: Tensor;
}

/** slice_rows' gradient: the block's gradient at its rows, zero elsewhere. */
const padRowsOp: OpKind<PadRowsAttrs> = {
  name: 'pad_rows',
  outputs([d], a) {
    checkBlock('pad_rows', a.like, a.start, d.shape[0]);
    if (d.size / d.shape[0] !== a.like.size / a.like.shape[0]) throw new GraphError(`pad_rows: ${d} ${shapeString(d)} does not have the rows of ${a.like} ${shapeString(a.like)}`);
    return [{ name: `d${a.like.name}`, shape: a.like.shape, dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [d] = node.inputs;
    const o = node.outputs[0];
    const out = ctx.buffer(o);
    const dispatches: Dispatch[] = [];
    if (d.size < o.size) dispatches.push((await Kernel.create(ctx.gpu, fill(ctx.gpu, o.size), ctx.scope)).bind({ out }));
    const width = o.size / o.shape[0];
    dispatches.push((await copyRange(ctx, d.size, 0, node.attrs.start * width)).bind({ src: ctx.buffer(d), dst: out }));
    return dispatches;
  },
  grad(g, node, [d]) {
    return [sliceRows(g, d as Tensor, node.attrs.start, node.inputs[0].shape[0])];
  },
};

interface AddRowsAttrs {
  start: number;
}

/**
 * out = full, plus block at rows [start, start + count). Two dispatches: from row 0, the block
 * rows are one elementwise add (whole buffers bound, the add reads their first elements) and
 * the rest one copy, so every element is touched once; elsewhere, a copy of full and an
 * accumulate of the block (elementwise add would need a binding offset 256-byte aligned).
 */
const addRowsOp: OpKind<AddRowsAttrs> = {
  name: 'add_rows',
  outputs([full, block], a) {
    checkBlock('add_rows', full, a.start, block.shape[0]);
    if (block.shape.slice(1).join() !== full.shape.slice(1).join()) throw new GraphError(`add_rows: ${block} ${shapeString(block)} does not have the rows of ${full} ${shapeString(full)}`);
    return [{ name: `${full.name}+`, shape: full.shape, dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [full, block] = node.inputs;
    const out = ctx.buffer(node.outputs[0]);
    const src = ctx.buffer(full);
    const offset = node.attrs.start * (full.size / full.shape[0]);
    if (offset === 0) {
      // full + block, as add(full, pad(block)) computes it (IEEE addition commutes).
      const add = await Add.create(ctx.gpu, { n: block.size }, {}, ctx.scope);
      const dispatches = [add.bind({ a: src, b: ctx.buffer(block), out })];
      if (block.size < full.size) dispatches.push((await copyRange(ctx, full.size - block.size, block.size, block.size)).bind({ src, dst: out }));
      return dispatches;
    }
    const copy = await copyRange(ctx, full.size, 0, 0);
    const acc = await CopyBlock.create(ctx.gpu, { rows: 1, width: block.size, srcStride: 0, srcOffset: 0, dstStride: 0, dstOffset: offset }, { accumulate: true }, ctx.scope);
    return [copy.bind({ src, dst: out }), acc.bind({ src: ctx.buffer(block), dst: out })];
  },
  grad(g, node, [d], needed) {
    return [needed[0] ? d : null, needed[1] ? sliceRows(g, d as Tensor, node.attrs.start, node.inputs[1].shape[0]) : null];
  },
};

/** Rows [start, start + count) of `x`: one copy. */
export function sliceRows(g: Graph, x: Tensor, start: number, count: number): Tensor {
  return g.apply(sliceRowsOp, [x], { start, count })[0];
}

/** `block` at rows [start, start + block rows) of a zero tensor shaped like `like` (a slice's gradient). */
export function padRows(g: Graph, block: Tensor, start: number, like: Tensor): Tensor {
  return g.apply(padRowsOp, [block], { start, like })[0];
}

/**
 * If `t` is a slice's zero-padded gradient that no op but `reader` reads and the step does not
 * keep, its pad_rows node and the block with its first row.
 */
export function paddedRowsSource(g: Graph, t: Tensor, reader: Node): { node: Node; block: Tensor; start: number } | null {
  const node = t.producer;
  if (!node || node.op !== (padRowsOp as OpKind<unknown>) || g.kept.has(t)) return null;
  if (g.nodes.some((n) => n !== reader && n.inputs.includes(t))) return null;
  return { node, block: node.inputs[0], start: (node.attrs as PadRowsAttrs).start };
}

/**
 * Rewrite rule (graph passes): add(pad_rows(block), other), the padding read by nothing else,
 * becomes add_rows(other, block): no zero fill, no full-size add, the same bits (x + 0 = x, up
 * to the sign of a zero). The padding node leaves.
 */
export function foldPaddedAdd(g: Graph, sum: Node): boolean {
  if (sum.op.name !== 'add') return false;
  const [a, b] = sum.inputs;
  for (const [padded, other] of [
    [a, b],
    [b, a],
  ]) {
    const src = paddedRowsSource(g, padded, sum);
    if (src && padded !== other && padded.shape.join() === other.shape.join()) {
      g.rewrite(sum, addRowsOp, [other, src.block], sum.outputs, { start: src.start }, [src.node]);
      return true;
    }
  }
  return false;
}
