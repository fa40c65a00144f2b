// Embedding tables and categorical-field embeddings. A table's gradient is a deterministic
// segmented sum (graph/ops/embedding.ts); whether Adam then moves every row or only the rows a
// batch reads is the optimizer's choice: `rowSparse` lists each table with the indices it is
// read at, which is what row-sparse Adam is told (AdamConfig.sparse).
import { GraphError, shapeString, type Graph, type Tensor } from '../graph/graph.ts';
import { add } from '../graph/ops/basic.ts';
import { bagInputs, embeddingBag, type Bags } from '../graph/ops/embedding-bag.ts';
import { embedding } from '../graph/ops/embedding.ts';
import { concat } from '../graph/ops/elementwise.ts';
import { reshape } from '../graph/ops/reshape.ts';
import type { Rng } from '../random.ts';
import { init as inits, type Init } from './init.ts';
import { Module, type Parameter } from './module.ts';

/** A [rows, dim] table, named by the module's own path; default init normal(0, 1) as nn.Embedding. */
export class Embedding extends Module {
  readonly table: Parameter;
  /** Per graph, the index tensors the table is read at. */
  private readonly reads = new WeakMap<Graph, Set<Tensor>>();

  constructor(
    rng: Rng,
    readonly rows: number,
    readonly dim: number,
    o: { init?: Init } = {},
  ) {
    super();
    this.table = this.param('', [rows, dim], (o.init ?? inits.normal(1))(rng, [rows, dim]));
  }

  /** The rows at `indices` (a u32 input): [n, dim]. */
  forward(g: Graph, indices: Tensor): Tensor {
    return embedding(g, this.readAt(g, indices), indices);
  }

  /** The table, for an op that reads its rows at `indices` itself (a fused loss, an embedding bag). */
  readAt(g: Graph, indices: Tensor): Tensor {
    const t = this.table.on(g);
    let set = this.reads.get(g);
    if (!set) this.reads.set(g, (set = new Set()));
    set.add(indices);
    return t;
  }

  /** The index tensors `g` reads the table at (forward and readAt). */
  indicesOn(g: Graph): Tensor[] {
    return [...(this.reads.get(g) ?? [])];
  }
}

/**
 * Every embedding table of `model` that `g` reads by index, with those indices: what row-sparse
 * Adam updates. A table read at two index sets would need both rows' lists: say so.
 */
export function rowSparse(g: Graph, model: Module): Map<Tensor, Tensor> {
  const out = new Map<Tensor, Tensor>();
  for (const m of model.modules()) {
    if (!(m instanceof Embedding)) continue;
    const at = m.indicesOn(g);
    if (at.length > 1) throw new GraphError(`table ${m.table.on(g)} is read at ${at.join(' and ')}: row-sparse Adam takes one index tensor per table; gather once or use dense Adam`);
    if (at.length === 1) out.set(m.table.on(g), at[0]);
  }
  return out;
}

export interface Field {
  /** The field's name: its table's name when each field has its own. */
  name: string;
  /** Its values are 0 … vocabulary - 1. */
  vocabulary: number;
}

export interface FieldEmbeddingOptions {
  /**
   * 'separate' (default): one table per field, named by the field; 'packed': one table `table`
   * holding the fields' rows one after another (field f from the sum of the earlier vocabularies).
   */
  tables?: 'separate' | 'packed';
  /** 'concat' (default): [rows, fields·dim] in field order; 'sum': [rows, dim] (one-hot features times a matrix). */
  combine?: 'concat' | 'sum';
  /** Default normal(0, 1); drawn table by table (packed: the same values as separate tables). */
  init?: Init;
}

/** Per graph, each index input's packings by field layout. */
const packings = new WeakMap<Graph, Map<string, { packed: Tensor; bags: Bags | null }>>();

/**
 * Categorical features as embeddings: row r's value of each field picks a row of that field's
 * table. Input: u32 [rows, fields], row-major, fed by the host, which checks every value against
 * its field's vocabulary. Summed, they equal the one-hot encoding times one [Σ vocab, dim]
 * matrix at the cost of the fields, not the vocabulary.
 */
export class FieldEmbeddings extends Module {
  readonly tables: Embedding[] = [];
  /** Where each field's rows start in the packed table (all 0 for separate tables). */
  readonly offsets: number[];
  readonly layout: 'separate' | 'packed';
  readonly combine: 'concat' | 'sum';

  constructor(
    rng: Rng,
    readonly fields: readonly Field[],
    readonly dim: number,
    o: FieldEmbeddingOptions = {},
  ) {
    super();
    if (fields.length === 0) throw new GraphError('field embeddings need at least one field');
    for (const f of fields) {
      if (!f.name) throw new GraphError('every field needs a name (its table is named by it)');
      if (!Number.isInteger(f.vocabulary) || f.vocabulary < 1) throw new GraphError(`field "${f.name}": its vocabulary must be an integer >= 1, got ${f.vocabulary}`);
    }
    this.layout = o.tables ?? 'separate';
    this.combine = o.combine ?? 'concat';
    const init = { init: o.init ?? inits.normal(1) };
    let at = 0;
    this.offsets = fields.map((f) => (this.layout === 'packed' ? (at += f.vocabulary) - f.vocabulary : 0));
    if (this.layout === 'packed') this.tables.push(this.module('table', new Embedding(rng, at, dim, init)));
    else for (const f of fields) this.tables.push(this.module(f.name, new Embedding(rng, f.vocabulary, dim, init)));
  }

  /**
   * [rows, fields·dim] (concat) or [rows, dim] (sum) for `indices` u32 [rows, fields], a host
   * input. A packed sum may add a bias [dim] in the same dispatch (a one-hot layer's).
   */
  forward(g: Graph, indices: Tensor, bias?: Tensor): Tensor {
    if (bias && (this.layout !== 'packed' || this.combine !== 'sum')) throw new GraphError('field embeddings add a bias only as a packed sum (tables: packed, combine: sum)');
    const F = this.fields.length;
    if (indices.dtype !== 'u32' || indices.shape.length !== 2 || indices.shape[1] !== F || indices.kind !== 'input') {
      throw new GraphError(`field embeddings: the indices ${indices} ${shapeString(indices)} must be a u32 input [rows, ${F}] fed by the host`);
    }
    const rows = indices.shape[0];
    if (this.layout === 'packed') {
      const table = this.tables[0];
      // Layers over the same fields (an MMoE's experts and gates) share one packing of a batch.
      const key = `${indices.name}|${this.fields.map((f) => f.vocabulary).join(',')}`;
      let memo = packings.get(g);
      if (!memo) packings.set(g, (memo = new Map()));
      let packing = memo.get(key);
      if (!packing) {
        const suffix = memo.size ? `.${memo.size}` : '';
        // Row r's fields at r·F + f, each shifted to its field's rows: one index list for the one table.
        const out = new Uint32Array(rows * F);
        const packed = g.derived(`${indices.name}.packed${suffix}`, [rows * F], 'u32', {
          from: indices,
          compute: (src) => {
            for (let k = 0; k < F; k++) this.fieldValues(src, rows, k, out, k, F, this.offsets[k]);
            return out;
          },
        });
        packing = { packed, bags: null };
        memo.set(key, packing);
      }
      const packed = packing.packed;
      if (this.combine === 'sum') {
        // Each row's fields are one bag: summed in field order; the table's gradient comes from the transposed bags.
        packing.bags ??= bagInputs(g, packed, `${indices.name}.fields${packed.name.slice(`${indices.name}.packed`.length)}`, { rows, tableRows: table.rows, capacity: rows * F, pack: (src, csr) => bagsOf(src, rows, F, csr) });
        return embeddingBag(g, table.readAt(g, packed), packing.bags, bias);
      }
      // [rows·F, dim] gathered row-major is [rows, F·dim] element for element.
      return F === 1 ? table.forward(g, packed) : reshape(g, table.forward(g, packed), [rows, F * this.dim]);
    }
    const parts = this.fields.map((f, k) => {
      const out = new Uint32Array(rows);
      const column = g.derived(`${indices.name}.${f.name}`, [rows], 'u32', { from: indices, compute: (src) => (this.fieldValues(src, rows, k, out, 0, 1, 0), out) });
      return this.tables[k].forward(g, column);
    });
    if (parts.length === 1) return parts[0];
    return this.combine === 'sum' ? parts.reduce((a, b) => add(g, a, b)) : concat(g, parts);
  }

  /** Field k's values of a fed batch plus `shift` into out[at + r·stride], each checked against the field's vocabulary. */
  private fieldValues(src: ArrayLike<number>, rows: number, k: number, out: Uint32Array, at: number, stride: number, shift: number): void {
    const F = this.fields.length;
    const { name, vocabulary } = this.fields[k];
    for (let r = 0; r < rows; r++) {
      const v = src[r * F + k];
      if (v >= vocabulary) throw new GraphError(`field "${name}" has value ${v} at row ${r}, outside its vocabulary of ${vocabulary}: feed values below it`);
      out[at + r * stride] = v + shift;
    }
  }
}

/** The CSR of bags of F consecutive entries each (the packed indices are already in field order, ascending). */
function bagsOf(src: ArrayLike<number>, rows: number, F: number, out: Uint32Array): Uint32Array {
  for (let r = 0; r <= rows; r++) out[r] = r * F;
  for (let i = 0; i < rows * F; i++) out[rows + 1 + i] = src[i];
  return out.subarray(0, rows + 1 + rows * F);
}
