// Row-wise ops: the dot product of matching rows (the factorization score u·q), and splitting
// a matrix into blocks of consecutive rows (positive and negative items gathered as one batch).
import { CopyBlock } from '../../kernels/elementwise.ts';
import { Fill } from '../../kernels/fill.ts';
import { RowDot, RowDotBackward } from '../../kernels/reduce.ts';
import type { Graph } from '../graph.ts';
import type { Dispatch } from '../../kernels/kernel.ts';
import type { OpKind } from '../node.ts';
import { GraphError, shapeString, type Tensor } from '../tensor.ts';

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
    if (node.attrs.present.includes(false)) dispatches.push((await Fill.create(ctx.gpu, node.outputs[0].size, 0, ctx.scope)).bind(out));
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
