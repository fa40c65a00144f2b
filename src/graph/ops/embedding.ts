// Embedding lookup as a graph op; its gradient is a deterministic segmented scatter-add over
// the CSR of the batch's indices, which the host derives when it feeds the indices.
import { csrWords, embeddingBackward, embeddingGather, type EmbeddingShape } from '../../kernels/embedding.ts';
import { packSegments, segmentMap } from '../segments.ts';
import { fill } from '../../kernels/fill.ts';
import { Kernel } from '../../kernels/spec.ts';
import { GraphError, shapeString, type Graph, type Node, type OpKind, type Tensor } from '../graph.ts';

interface GatherAttrs {
  csr: Tensor;
}

function embeddingShape(table: Tensor, indices: Tensor): EmbeddingShape {
  return { rows: table.shape[0], dim: table.shape[1], n: indices.size };
}

const gatherOp: OpKind<GatherAttrs> = {
  name: 'embedding',
  outputs([table, indices]) {
    if (table.shape.length !== 2 || table.dtype !== 'f32') throw new GraphError(`embedding: the table must be a 2-D f32 tensor, got ${table} ${shapeString(table)}`);
    if (indices.dtype !== 'u32' || indices.shape.length !== 1) throw new GraphError(`embedding: indices must be a 1-D u32 tensor, got ${indices} ${indices.dtype} ${shapeString(indices)}`);
    return [{ name: `${table.name}.rows`, shape: [indices.size, table.shape[1]], dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [table, indices] = node.inputs;
    const k = await Kernel.create(ctx.gpu, embeddingGather(ctx.gpu, embeddingShape(table, indices)), ctx.scope);
    return [k.bind({ table: ctx.buffer(table), indices: ctx.buffer(indices), out: ctx.buffer(node.outputs[0]) })];
  },
  grad(g, node, [dOut]) {
    const [table, indices] = node.inputs;
    const [dTable] = g.apply(embeddingBackwardOp, [dOut as Tensor, node.attrs.csr], { rows: table.shape[0], n: indices.size, table: table.name });
    return [dTable, null];
  },
};

interface BackwardAttrs {
  rows: number;
  n: number;
  table: string;
}

const embeddingBackwardOp: OpKind<BackwardAttrs> = {
  name: 'embedding_backward',
  outputs([dOut], a) {
    return [{ name: `d${a.table}`, shape: [a.rows, dOut.shape[1]], dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [dOut, csr] = node.inputs;
    const out = ctx.buffer(node.outputs[0]);
    const shape = { rows: node.attrs.rows, dim: dOut.shape[1], n: node.attrs.n };
    const [zero, k] = await Promise.all([Kernel.create(ctx.gpu, fill(ctx.gpu, shape.rows * shape.dim), ctx.scope), Kernel.create(ctx.gpu, embeddingBackward(ctx.gpu, shape), ctx.scope)]);
    // Rows the batch does not touch get a zero gradient (dense Adam still decays their moments).
    return [zero.bind({ out }), k.bind({ grad_out: ctx.buffer(dOut), csr: ctx.buffer(csr), grad_table: out })];
  },
};

const csrCache = new WeakMap<Tensor, Map<number, Tensor>>();

/** The CSR input of `indices` for a table of `rows` rows, made once per pair (also what lazy Adam reads). */
export function csrOf(g: Graph, indices: Tensor, rows: number): Tensor {
  let byRows = csrCache.get(indices);
  if (!byRows) csrCache.set(indices, (byRows = new Map()));
  let csr = byRows.get(rows);
  if (!csr) {
    const shape = { rows, dim: 1, n: indices.size };
    csr = g.derived(`${indices.name}.csr${rows}`, [csrWords(shape)], 'u32', {
      from: indices,
      compute: (src) => packSegments(src as Uint32Array, shape),
    });
    byRows.set(rows, csr);
  }
  return csr;
}

/**
 * The gradient of `table` from the gradient of its rows at `indices` (an op that read the rows
 * itself, by index, instead of through `embedding`): what embedding's own gradient is, so the
 * optimizers' fused table updates find it the same way.
 */
export function rowsGradient(g: Graph, dRows: Tensor, table: Tensor, indices: Tensor): Tensor {
  if (indices.kind !== 'input') throw new GraphError(`rows gradient: indices must be an input fed by the host, got ${indices}`);
  const attrs = { rows: table.shape[0], n: indices.size, table: table.name };
  return g.apply(embeddingBackwardOp, [dRows, csrOf(g, indices, table.shape[0])], attrs)[0];
}

/** Rows of `table` at `indices` (a u32 input). */
export function embedding(g: Graph, table: Tensor, indices: Tensor): Tensor {
  if (indices.kind !== 'input') throw new GraphError(`embedding: indices must be an input fed by the host (its gradient needs their CSR), got ${indices}`);
  if (table.shape.length !== 2) throw new GraphError(`embedding: the table must be 2-D, got ${table} ${shapeString(table)}`);
  return g.apply(gatherOp, [table, indices], { csr: csrOf(g, indices, table.shape[0]) })[0];
}

/**
 * When `grad` is a whole table's gradient made by one embedding backward that nothing else
 * reads, the rows' gradient and CSR it was summed from: an optimizer can then sum and update
 * in one pass and drop the [rows, dim] gradient (see TableAdam).
 */
export function tableGradientSource(g: Graph, grad: Tensor): { node: Node; dRows: Tensor; csr: Tensor } | null {
  const node = grad.producer;
  if (!node || node.op !== (embeddingBackwardOp as OpKind<unknown>) || g.kept.has(grad)) return null;
  if (g.nodes.some((n) => n.inputs.includes(grad))) return null;
  return { node, dRows: node.inputs[0], csr: node.inputs[1] };
}

/** The gather of `table` by the indices whose CSR is `csr`, if the graph has one. */
export function gatherNodeOf(g: Graph, table: Tensor, csr: Tensor): Node | null {
  return g.nodes.find((n) => n.op === (gatherOp as OpKind<unknown>) && n.inputs[0] === table && (n.attrs as GatherAttrs).csr === csr) ?? null;
}

const segmentMaps = new WeakMap<Tensor, Tensor>();

/** 1 + each row's segment in `csr` (0: untouched), derived on the host with the CSR. */
export function segmentMapOf(g: Graph, csr: Tensor, rows: number): Tensor {
  let map = segmentMaps.get(csr);
  if (!map) {
    map = g.derived(`${csr.name}.segments`, [rows], 'u32', { from: csr, compute: (src) => segmentMap(src as Uint32Array, rows) });
    segmentMaps.set(csr, map);
  }
  return map;
}
