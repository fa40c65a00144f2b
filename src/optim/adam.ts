// Adam over parameter tensors as update ops at the end of the step. The step scalars (lr,
// bias corrections) live in one uniform the host rewrites before each step.
import { ADAM_DEFAULTS, ADAM_STEP_BYTES, Adam as AdamKernel, LazyAdam, adamStepWords, type AdamHyper, type AdamOptions } from '../kernels/adam.ts';
import { TableAdam } from '../kernels/adam-table.ts';
import { DEFER_SLOT_WORDS } from '../kernels/adam-deferred.ts';
import { deferRing, deferTableAdam, writeDeferredStep } from './adam-deferred.ts';
import { csrOf, gatherNodeOf, segmentMapOf, tableGradientSource } from '../graph/ops/embedding.ts';
import { GraphError } from '../graph/tensor.ts';
import type { CompiledStep } from '../graph/compile.ts';
import type { Graph } from '../graph/graph.ts';
import type { OpKind } from '../graph/node.ts';
import type { Tensor } from '../graph/tensor.ts';

interface UpdateAttrs {
  uniform: string;
  decoupled: boolean;
  /** The optimizer's, fixed for its life: the kernels decide lerp's form and the L2 term at compile time. */
  beta1: number;
  weightDecay: number;
}

const kernelOptions = (a: UpdateAttrs): AdamOptions => ({ decoupled: a.decoupled, beta1: a.beta1, weightDecay: a.weightDecay });

const adamUpdateOp: OpKind<UpdateAttrs> = {
  name: 'adam_update',
  outputs() {
    return [];
  },
  async lower(ctx, node) {
    const [param, grad, m, v] = node.inputs;
    const k = await AdamKernel.create(ctx.gpu, { n: param.size }, kernelOptions(node.attrs), ctx.scope);
    const step = ctx.uniform(node.attrs.uniform, ADAM_STEP_BYTES);
    return [k.bind({ step, param: ctx.buffer(param), grad: ctx.buffer(grad), m: ctx.buffer(m), v: ctx.buffer(v) })];
  },
};

/** Lazy Adam: only the rows in the batch's CSR move; other rows keep their parameters and moments. */
const lazyAdamUpdateOp: OpKind<UpdateAttrs & { n: number }> = {
  name: 'lazy_adam_update',
  outputs() {
    return [];
  },
  async lower(ctx, node) {
    const [param, grad, m, v, csr] = node.inputs;
    const shape = { rows: param.shape[0], dim: param.size / param.shape[0], n: node.attrs.n };
    const k = await LazyAdam.create(ctx.gpu, shape, kernelOptions(node.attrs), ctx.scope);
    const step = ctx.uniform(node.attrs.uniform, ADAM_STEP_BYTES);
    return [k.bind({ step, csr: ctx.buffer(csr), param: ctx.buffer(param), grad: ctx.buffer(grad), m: ctx.buffer(m), v: ctx.buffer(v) })];
  },
};

/** Dense Adam on a table whose gradient is summed from the batch's rows in the same pass. */
const tableAdamUpdateOp: OpKind<UpdateAttrs & { n: number }> = {
  name: 'table_adam_update',
  outputs() {
    return [];
  },
  async lower(ctx, node) {
    const [param, dRows, m, v, csr, segOf] = node.inputs;
    const shape = { rows: param.shape[0], dim: param.size / param.shape[0], n: node.attrs.n };
    const k = await TableAdam.create(ctx.gpu, shape, kernelOptions(node.attrs), ctx.scope);
    const step = ctx.uniform(node.attrs.uniform, ADAM_STEP_BYTES);
    const b = (t: Tensor): GPUBuffer => ctx.buffer(t);
    return [k.bind({ step, csr: b(csr), segOf: b(segOf), gradRows: b(dRows), param: b(param), m: b(m), v: b(v) })];
  },
};

export interface AdamConfig extends AdamHyper {
  /** AdamW: decoupled weight decay. */
  decoupled?: boolean;
  /**
   * Row-sparse ("lazy") updates: for each embedding table here, the u32 input of indices that
   * gathers from it; only those rows are updated each step (their moments alone advance).
   */
  sparse?: ReadonlyMap<Tensor, Tensor>;
  /** Fuse an embedding table's gradient sum into its dense update (default true; same bits). */
  fuseTables?: boolean;
  /**
   * Dense updates of fused embedding tables (dim % 4 == 0) with the untouched rows' steps
   * deferred until they are read: the same bits, touching only the batch's rows per step.
   * `cap` is the most steps between flush() calls (each epoch, before reading weights).
   */
  deferTables?: { cap: number };
}

/**
 * Deferral needs every read of the table to be the gather its gradient comes from: rows it
 * does not list lag behind, and any other reader would see them stale.
 */
function onlyGatheredBy(g: Graph, table: Tensor, csr: Tensor): boolean {
  const gather = gatherNodeOf(g, table, csr);
  return g.nodes.every((n) => n === gather || !n.inputs.includes(table));
}

export class AdamOptimizer {
  private t = 0;
  private readonly words: Float32Array<ArrayBuffer>;
  readonly moments: Tensor[] = [];
  /** Deferred tables' step counters, and the ring of step scalars they share. */
  private readonly deferred: Tensor[] = [];
  private ring: Tensor | null = null;
  /** The step count at the last flush (or restore): rows lag at most cap steps behind it. */
  flushedAt = 0;
  /** Reused each step: the deferral uniform's words and the ring slot. */
  private readonly deferWords = new Uint32Array(4);
  private readonly slot = new Float32Array(DEFER_SLOT_WORDS);

  /**
   * Adds the update of every parameter in `grads` to `g`, with moments as state tensors.
   * Parameter groups with other hyper-parameters are further optimizers with their own `uniform` name.
   */
  constructor(
    g: Graph,
    grads: ReadonlyMap<Tensor, Tensor>,
    private readonly config: AdamConfig,
    private readonly uniform = 'adam',
  ) {
    this.words = new Float32Array(adamStepWords(1, config)); // validates the hyper-parameters now
    g.inPhase('update', () => {
      for (const [p, d] of grads) {
        const m = g.state(`${p.name}.adam_m`, p.shape);
        const v = g.state(`${p.name}.adam_v`, p.shape);
        this.moments.push(m, v);
        const hyper = { uniform, decoupled: !!config.decoupled, beta1: config.beta1 ?? ADAM_DEFAULTS.beta1, weightDecay: config.weightDecay ?? ADAM_DEFAULTS.weightDecay };
        const indices = config.sparse?.get(p);
        if (indices) {
          if (p.shape.length !== 2) throw new GraphError(`lazy Adam: ${p} must be a 2-D embedding table`);
          const csr = csrOf(g, indices, p.shape[0]);
          g.apply(lazyAdamUpdateOp, [p, d, m, v, csr], { ...hyper, n: indices.size });
        } else {
          const src = config.fuseTables === false ? null : tableGradientSource(g, d);
          const attrs = { ...hyper, n: src?.dRows.shape[0] ?? 0 };
          if (src && config.deferTables && p.shape.length === 2 && (p.size / p.shape[0]) % 4 === 0 && onlyGatheredBy(g, p, src.csr)) {
            g.removeNode(src.node);
            const cap = config.deferTables.cap;
            this.ring ??= deferRing(g, uniform, cap);
            this.deferred.push(deferTableAdam(g, p, m, v, src.dRows, src.csr, this.ring, { ...attrs, cap }));
          } else if (src) {
            g.removeNode(src.node);
            const segOf = segmentMapOf(g, src.csr, p.shape[0]);
            g.apply(tableAdamUpdateOp, [p, src.dRows, m, v, src.csr, segOf], attrs);
          } else {
            g.apply(adamUpdateOp, [p, d, m, v], hyper);
          }
        }
      }
    });
  }

  get step(): number {
    return this.t;
  }

  /** Restores the step count from a checkpoint. */
  set step(t: number) {
    this.t = t;
  }

  /** Writes step t+1's scalars; call before each run of the step. `lr` overrides the schedule. */
  prepare(step: CompiledStep, lr = this.config.lr): void {
    this.t += 1;
    adamStepWords(this.t, { ...this.config, lr }, this.words);
    step.writeUniform(this.uniform, this.words);
    if (this.ring) {
      const cap = this.capacity;
      if (this.t - this.flushedAt > cap) {
        throw new GraphError(`deferred Adam: step ${this.t} is ${this.t - this.flushedAt} steps after the last flush, more than its ring of ${cap}; call flush() at least every ${cap} steps`);
      }
      writeDeferredStep(step, this.uniform, this.ring, this.t, cap, this.words, this.deferWords, this.slot);
    }
  }

  private get capacity(): number {
    return (this.config.deferTables as { cap: number }).cap;
  }

  /** True when some tables' updates are deferred: flush() before reading their weights. */
  get defers(): boolean {
    return this.ring !== null;
  }

  /**
   * Brings every deferred row up to the current step (submitted now, before later work); a
   * no-op when nothing has run since the last flush (an epoch's end, then its evaluation).
   */
  flush(step: CompiledStep): void {
    if (!this.ring || this.flushedAt === this.t) return;
    // The flush reads the fixed hyper-parameters from the step uniform: make sure it holds them.
    adamStepWords(Math.max(this.t, 1), this.config, this.words);
    step.writeUniform(this.uniform, this.words);
    this.deferWords.set([this.t, this.capacity]);
    step.writeUniform(`${this.uniform}.defer`, this.deferWords);
    step.runPhase('flush');
    this.flushedAt = this.t;
  }

  /** After loading a checkpoint (whose tables are up to date) at the current step. */
  resetDeferred(step: CompiledStep): void {
    for (const last of this.deferred) step.write(last, new Uint32Array(last.size).fill(this.t));
    this.flushedAt = this.t;
  }
}
