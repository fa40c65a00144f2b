// Adam over parameter tensors as update ops at the end of the step. The step scalars (lr,
// bias corrections) live in one uniform the host rewrites before each step.
import { ADAM_DEFAULTS, ADAM_STEP_BYTES, Adam as AdamKernel, LazyAdam, adamStepWords, type AdamHyper, type AdamOptions } from '../kernels/adam.ts';
import { TableAdam } from '../kernels/adam-table.ts';
import { DEFER_SLOT_WORDS } from '../kernels/adam-deferred.ts';
import { deferRing, deferTableAdam, flushGraph, writeDeferredStep, type DeferredTable } from './adam-deferred.ts';
import { csrOf, gatherNodeOf, segmentMapOf, tableGradientSource } from '../graph/ops/embedding.ts';
import { GraphError, type Graph, type OpKind, type Tensor } from '../graph/graph.ts';
import { CompiledStep, type Pending } from '../graph/compile.ts';
import type { Gpu } from '../gpu/context.ts';

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
  /** Fuse an embedding table's gradient sum into its dense update (default true; same bits). */
  fuseTables?: boolean;
  /**
   * Dense updates of fused embedding tables (dim % 4 == 0) with the untouched rows' steps
   * deferred until they are read: the same bits, touching only the batch's rows per step.
   * `cap` is the most steps between flushes (a longer run flushes on its own every cap steps).
   */
  deferTables?: { cap: number };
}

export interface AttachOptions {
  /**
   * Row-sparse ("lazy") updates: for each embedding table here, the u32 input of indices that
   * gathers from it; only those rows are updated each step (their moments alone advance).
   */
  sparse?: ReadonlyMap<Tensor, Tensor>;
}

/**
 * Deferral needs every read of the table to be the gather its gradient comes from: rows it
 * does not list lag behind, and any other reader would see them stale.
 */
function onlyGatheredBy(g: Graph, table: Tensor, csr: Tensor): boolean {
  const gather = gatherNodeOf(g, table, csr);
  return g.nodes.every((n) => n === gather || !n.inputs.includes(table));
}

/** One attached graph's deferred tables and the ring of step scalars they share. */
interface Deferral {
  ring: Tensor;
  tables: DeferredTable[];
}

/**
 * Adam with one clock for every compiled step it is attached to (a full batch and a smaller
 * last batch over the same weights). With deferred tables, compileFlush() gives it a flush of
 * its own, which runs by itself before anything else reads the weights.
 */
export class AdamOptimizer implements Pending {
  private t = 0;
  private readonly words: Float32Array<ArrayBuffer>;
  /** The first attached graph's moments. */
  readonly moments: Tensor[] = [];
  private readonly deferrals = new Map<Graph, Deferral>();
  /** The step that owns the weights, and the flush compiled over its buffers. */
  private owner: CompiledStep | null = null;
  private flushStep: CompiledStep | null = null;
  /** The step count at the last flush (or restore): rows lag at most cap steps behind it. */
  private flushedAt = 0;
  /** Reused each step: the deferral uniform's words and the ring slot. */
  private readonly deferWords = new Uint32Array(4);
  private readonly slot = new Float32Array(DEFER_SLOT_WORDS);

  /** Parameter groups with other hyper-parameters are further optimizers with their own `uniform` name. */
  constructor(
    private readonly config: AdamConfig,
    private readonly uniform = 'adam',
  ) {
    this.words = new Float32Array(adamStepWords(1, config)); // validates the hyper-parameters now
  }

  /**
   * Adds the update of every parameter in `grads` to `g`, with moments as state tensors. Each
   * graph over the same weights (matched by name when compiled with shareWith) is attached once.
   */
  attach(g: Graph, grads: ReadonlyMap<Tensor, Tensor>, o: AttachOptions = {}): this {
    const { config, uniform } = this;
    const first = this.deferrals.size === 0 && this.moments.length === 0;
    g.inPhase('update', () => {
      let deferral: Deferral | null = null;
      for (const [p, d] of grads) {
        const m = g.state(`${p.name}.adam_m`, p.shape);
        const v = g.state(`${p.name}.adam_v`, p.shape);
        if (first) this.moments.push(m, v);
        const hyper = { uniform, decoupled: !!config.decoupled, beta1: config.beta1 ?? ADAM_DEFAULTS.beta1, weightDecay: config.weightDecay ?? ADAM_DEFAULTS.weightDecay };
        const indices = o.sparse?.get(p);
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
            deferral ??= { ring: deferRing(g, uniform, cap), tables: [] };
            deferral.tables.push(deferTableAdam(g, p, m, v, src.dRows, src.csr, deferral.ring, { ...attrs, cap }));
          } else if (src) {
            g.removeNode(src.node);
            const segOf = segmentMapOf(g, src.csr, p.shape[0]);
            g.apply(tableAdamUpdateOp, [p, src.dRows, m, v, src.csr, segOf], attrs);
          } else {
            g.apply(adamUpdateOp, [p, d, m, v], hyper);
          }
        }
      }
      if (deferral) this.deferrals.set(g, deferral);
    });
    return this;
  }

  get step(): number {
    return this.t;
  }

  /** True when some tables' updates are deferred (compileFlush() before training). */
  get defers(): boolean {
    return this.deferrals.size > 0;
  }

  /**
   * Compiles the flush of the deferred tables over the buffers of `owner` (the step that owns
   * the weights; the other attached steps share them) and has every step of that group flush
   * before it reads them. Call once, after compiling `owner`; nothing to do without deferral.
   */
  async compileFlush(gpu: Gpu, owner: CompiledStep): Promise<void> {
    const deferral = this.deferrals.get(owner.graph);
    if (!deferral) return;
    if (this.owner) throw new GraphError('deferred Adam: compileFlush() was already called; call it once, for the step that owns the weights');
    this.flushStep = await CompiledStep.create(gpu, flushGraph(deferral.tables), { shareWith: owner, passes: [] });
    this.owner = owner;
    owner.defer(this);
  }

  /** Writes step t+1's scalars into `step`'s uniforms; call before each run of an attached step. `lr` overrides the schedule. */
  prepare(step: CompiledStep, lr = this.config.lr): void {
    const deferral = this.deferrals.get(step.graph);
    if (deferral && !this.flushStep) throw new GraphError('deferred Adam: call compileFlush(gpu, step) after compiling the step that owns the weights, before training');
    // The ring holds cap steps' scalars: rows lagging further would lose some, so all catch up first.
    if (deferral && this.t + 1 - this.flushedAt > this.capacity) this.flush();
    this.t += 1;
    adamStepWords(this.t, { ...this.config, lr }, this.words);
    step.writeUniform(this.uniform, this.words);
    if (deferral) writeDeferredStep(step, this.uniform, deferral.ring, this.t, this.capacity, this.words, this.deferWords, this.slot);
  }

  private get capacity(): number {
    return (this.config.deferTables as { cap: number }).cap;
  }

  /** The deferral's bookkeeping, which checkpoints leave out: the step ring (written by each prepare) and each table's step counters (set by restore). */
  rebuilds(name: string): boolean {
    for (const d of this.deferrals.values()) if (d.ring.name === name || d.tables.some((t) => t.last.name === name)) return true;
    return false;
  }

  /** Pending work: an attached step's run brings its own rows up to date; anything else sees every row current. */
  settle(step: CompiledStep, use: 'run' | 'read'): void {
    if (step === this.flushStep || (use === 'run' && this.deferrals.has(step.graph))) return;
    this.flush();
  }

  /**
   * Brings every deferred row up to the current step (submitted now, before later work); a
   * no-op when nothing has run since the last flush. Reads and other steps do this by themselves.
   */
  flush(): void {
    const f = this.flushStep;
    if (!f || this.flushedAt === this.t) return;
    // The flush reads the fixed hyper-parameters from the step uniform.
    adamStepWords(Math.max(this.t, 1), this.config, this.words);
    f.writeUniform(this.uniform, this.words);
    this.deferWords.set([this.t, this.capacity, 0, 0]);
    f.writeUniform(`${this.uniform}.defer`, this.deferWords);
    f.run();
    this.flushedAt = this.t;
  }

  /** Continues at step `t` (a loaded checkpoint's, whose tables are up to date: every row is current at t). */
  restore(t: number): void {
    this.t = t;
    const owner = this.owner;
    const deferral = owner && this.deferrals.get(owner.graph);
    if (owner && deferral) for (const d of deferral.tables) owner.write(d.last, new Uint32Array(d.last.size).fill(t));
    this.flushedAt = t;
  }

  /** Releases the flush (before the step that owns the weights). */
  destroy(): void {
    this.flushStep?.destroy();
    this.flushStep = null;
  }
}
