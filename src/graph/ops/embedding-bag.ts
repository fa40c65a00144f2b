// Embedding bag as a graph op: out = b + Σ table rows over each bag, i.e. x·W + b for a 0/1 x
// given by its active indices. The host derives both CSRs when it feeds the batch: the bags
// (forward) and their transpose (the weight gradient, a gather over the bags that hold each
// table row: deterministic, no atomics). Shapes are static, so the CSRs have room for
// `capacity` entries and a batch uploads only the part it uses.
import { BiasGrad } from '../../kernels/matmul.ts';
import { EmbeddingBag, bagCsrWords, checkBagCsr } from '../../kernels/embedding-bag.ts';
import { transposeBagCsr } from '../bags.ts';
import { GraphError, shapeString, type Graph, type OpKind, type Tensor, type TypedData } from '../graph.ts';

interface BagAttrs {
  rows: number;
  capacity: number;
  /** The transposed CSR, for the gradient of src (null inside a backward pass). */
  transposed: Tensor | null;
}

const bagSumOp: OpKind<BagAttrs> = {
  name: 'embedding_bag',
  outputs([src, csr, bias], a) {
    if (src.shape.length !== 2 || src.dtype !== 'f32') throw new GraphError(`embedding_bag: the source must be a 2-D f32 tensor, got ${src} ${shapeString(src)}`);
    if (csr.dtype !== 'u32' || csr.size !== bagCsrWords(a.rows, a.capacity)) {
      throw new GraphError(`embedding_bag: the CSR ${csr} ${shapeString(csr)} must be u32 with ${bagCsrWords(a.rows, a.capacity)} words for ${a.rows} bags of ${a.capacity} slots`);
    }
    if (bias && bias.size !== src.shape[1]) throw new GraphError(`embedding_bag: bias ${bias} ${shapeString(bias)} must have ${src.shape[1]} values`);
    return [{ name: `${src.name}.bags`, shape: [a.rows, src.shape[1]], dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [src, csr, bias] = node.inputs;
    const shape = { rows: node.attrs.rows, dim: src.shape[1], srcRows: src.shape[0], capacity: node.attrs.capacity };
    const k = await EmbeddingBag.create(ctx.gpu, shape, { bias: !!bias }, ctx.scope);
    return [k.bind({ csr: ctx.buffer(csr), src: ctx.buffer(src), out: ctx.buffer(node.outputs[0]), ...(bias ? { bias: ctx.buffer(bias) } : {}) })];
  },
  grad(g, node, [dOut], needed) {
    const [src, , bias] = node.inputs;
    const { transposed, capacity } = node.attrs;
    let dSrc: Tensor | null = null;
    if (needed[0]) {
      if (!transposed) throw new GraphError('embedding_bag: the bags were made without a transposed CSR (gradient: false), so the table gets no gradient');
      [dSrc] = g.apply(bagSumOp, [dOut as Tensor, transposed], { rows: src.shape[0], capacity, transposed: null });
    }
    const dBias = bias && needed[2] ? g.apply(bagBiasGradOp, [dOut as Tensor], {})[0] : null;
    return bias ? [dSrc, null, dBias] : [dSrc, null];
  },
};

const bagBiasGradOp: OpKind<Record<string, never>> = {
  name: 'embedding_bag_bias_grad',
  outputs([dOut]) {
    return [{ name: `${dOut.name}.db`, shape: [dOut.shape[1]], dtype: 'f32' }];
  },
  async lower(ctx, node) {
    const [dOut] = node.inputs;
    const k = await BiasGrad.create(ctx.gpu, { m: dOut.shape[0], n: dOut.shape[1] }, {}, ctx.scope);
    return k.bind({ dz: ctx.buffer(dOut), db: ctx.buffer(node.outputs[0]) });
  },
};

export interface Bags {
  /** u32 [bags + 1 + capacity]: each bag's table rows. */
  csr: Tensor;
  /** u32 [tableRows + 1 + capacity]: each table row's bags (null: no gradient of the table). */
  transposed: Tensor | null;
  rows: number;
  tableRows: number;
  capacity: number;
}

export interface BagSource {
  /** Bags (rows of the output). */
  rows: number;
  /** Rows of the table the bags index. */
  tableRows: number;
  /** Most entries a batch can hold. */
  capacity: number;
  /**
   * Writes the CSR of one batch into `out` (bagCsrWords(rows, capacity) words), each list in
   * ascending order, and returns its used prefix (packBagCsr does this from lists).
   */
  pack(src: TypedData, out: Uint32Array): Uint32Array;
  /** Derive the transposed CSR for the table's gradient (default true; false for evaluation graphs). */
  gradient?: boolean;
}

/** The two CSR inputs of a batch, derived on the host from the input `from` each time it is fed. */
export function bagInputs(g: Graph, from: Tensor, name: string, s: BagSource): Bags {
  const shape = { rows: s.rows, dim: 1, srcRows: s.tableRows, capacity: s.capacity };
  const fwd = new Uint32Array(bagCsrWords(s.rows, s.capacity));
  const bwd = s.gradient === false ? null : new Uint32Array(bagCsrWords(s.tableRows, s.capacity));
  // feed derives the forward CSR first, then the transpose from it (same batch, same array).
  let last: { src: TypedData; csr: Uint32Array } | null = null;
  const forward = (src: TypedData): Uint32Array => {
    const csr = s.pack(src, fwd);
    checkBagCsr(csr, shape);
    last = { src, csr };
    return csr;
  };
  // Both return the used prefix: feed uploads only that (the rest of the buffer is never read).
  const csr = g.derived(`${name}.bags`, [fwd.length], 'u32', { from, compute: forward });
  const transposed = bwd
    ? g.derived(`${name}.bags_t`, [bwd.length], 'u32', {
        from,
        compute: (src) => transposeBagCsr(last?.src === src ? last.csr : forward(src), s.rows, s.tableRows, s.capacity, bwd),
      })
    : null;
  return { csr, transposed, rows: s.rows, tableRows: s.tableRows, capacity: s.capacity };
}

/** bias + Σ table rows of each bag: [bags.rows, table columns]; x·W + b for a 0/1 x. */
export function embeddingBag(g: Graph, table: Tensor, bags: Bags, bias?: Tensor): Tensor {
  if (table.shape.length !== 2 || table.shape[0] !== bags.tableRows) {
    throw new GraphError(`embedding_bag: the table ${table} ${shapeString(table)} must be 2-D with the ${bags.tableRows} rows the bags index`);
  }
  const inputs = bias ? [table, bags.csr, bias] : [table, bags.csr];
  return g.apply(bagSumOp, inputs, { rows: bags.rows, capacity: bags.capacity, transposed: bags.transposed })[0];
}
