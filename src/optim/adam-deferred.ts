// Dense Adam on an embedding table with the untouched rows' steps deferred (see
// shaders/adam-deferred.wgsl): two nodes per table in the training step over the same buffers,
// and a flush graph of its own. The step's scalars go into a ring the host writes each step;
// rows catch up before they are gathered, and the flush brings every row up to date before
// anything outside the training steps reads the table.
import { ADAM_STEP_BYTES } from '../kernels/adam.ts';
import { DEFER_PARAMS_BYTES, DEFER_SLOT_WORDS, DeferredTableAdam, deferSlot, type DeferredBuffers } from '../kernels/adam-deferred.ts';
import type { CompiledStep } from '../graph/compile.ts';
import { Graph, type LowerContext, type OpKind, type Tensor } from '../graph/graph.ts';
import { gatherNodeOf } from '../graph/ops/embedding.ts';

export interface DeferAttrs {
  /** The AdamStep uniform's name; the deferral's own uniform is `${uniform}.defer`. */
  uniform: string;
  decoupled: boolean;
  /** The optimizer's beta1 and weight decay: they decide whether a skipped step may take the short form. */
  beta1: number;
  weightDecay: number;
  /** Indices per batch (the CSR's size). */
  n: number;
  cap: number;
}

const kernelOf = (ctx: LowerContext, p: Tensor, a: DeferAttrs): Promise<DeferredTableAdam> =>
  DeferredTableAdam.create(ctx.gpu, { rows: p.shape[0], dim: p.size / p.shape[0], n: a.n }, a.cap, { decoupled: a.decoupled, beta1: a.beta1, weightDecay: a.weightDecay }, ctx.scope);

const uniforms = (ctx: LowerContext, a: DeferAttrs): Pick<DeferredBuffers, 'step' | 'defer'> => ({
  step: ctx.uniform(a.uniform, ADAM_STEP_BYTES),
  defer: ctx.uniform(`${a.uniform}.defer`, DEFER_PARAMS_BYTES),
});

/** The batch's rows take the steps they missed (a table nothing gathers in the step), before its update. */
const catchUpOp: OpKind<DeferAttrs> = {
  name: 'table_adam_catch_up',
  outputs: () => [],
  async lower(ctx, node) {
    const [param, m, v, last, hist, csr] = node.inputs.map((t) => ctx.buffer(t));
    return [(await kernelOf(ctx, node.inputs[0], node.attrs)).bindCatchUp({ ...uniforms(ctx, node.attrs), param, m, v, last, hist, csr })];
  },
};

/** In place of the gather of the same indices: the batch's rows catch up and are gathered. */
const catchUpGatherOp: OpKind<DeferAttrs> = {
  name: 'table_adam_catch_up_gather',
  outputs: ([p], a) => [{ name: `${p.name}.rows`, shape: [a.n, p.shape[1]], dtype: 'f32' }],
  async lower(ctx, node) {
    const [param, m, v, last, hist, csr] = node.inputs.map((t) => ctx.buffer(t));
    const gathered = ctx.buffer(node.outputs[0]);
    return [(await kernelOf(ctx, node.inputs[0], node.attrs)).bindCatchUpGather({ ...uniforms(ctx, node.attrs), param, m, v, last, hist, csr, gathered })];
  },
};

/** Update: the batch's rows take this step with their summed gradient. */
const updateOp: OpKind<DeferAttrs> = {
  name: 'table_adam_deferred',
  outputs: () => [],
  async lower(ctx, node) {
    const [param, gradRows, m, v, csr, last] = node.inputs.map((t) => ctx.buffer(t));
    return [(await kernelOf(ctx, node.inputs[0], node.attrs)).bindUpdate({ ...uniforms(ctx, node.attrs), param, gradRows, m, v, csr, last })];
  },
};

/** Flush (its own graph, run on request): every row takes the steps it missed. */
const flushOp: OpKind<DeferAttrs> = {
  name: 'table_adam_flush',
  outputs: () => [],
  async lower(ctx, node) {
    const [param, m, v, last, hist] = node.inputs.map((t) => ctx.buffer(t));
    return [(await kernelOf(ctx, node.inputs[0], node.attrs)).bindFlush({ ...uniforms(ctx, node.attrs), param, m, v, last, hist })];
  },
};

/** The ring of step scalars one optimizer's deferred tables share. */
export function deferRing(g: Graph, uniform: string, cap: number): Tensor {
  return g.state(`${uniform}.defer_ring`, [cap, DEFER_SLOT_WORDS]);
}

/** A deferred table's tensors (by name: the flush graph's share the training step's buffers). */
export interface DeferredTable {
  p: Tensor;
  m: Tensor;
  v: Tensor;
  /** Per-quad step counters. */
  last: Tensor;
  hist: Tensor;
  attrs: DeferAttrs;
}

/**
 * Adds the deferred dense update of table `p` (gradient rows `dRows` summed by `csr`) and
 * returns what its flush needs. Call inside the optimizer's 'update' phase.
 */
export function deferTableAdam(g: Graph, p: Tensor, m: Tensor, v: Tensor, dRows: Tensor, csr: Tensor, hist: Tensor, attrs: DeferAttrs): DeferredTable {
  // u32 step counters per quad; checkpoints hold flushed tables, so they are rebuilt on load
  // (AdamOptimizer.rebuilds keeps them out of checkpoints, with the ring).
  const last = g.state(`${p.name}.adam_last`, [p.shape[0], p.size / p.shape[0] / 4], { dtype: 'u32' });
  // The forward's gather of these rows, if any, becomes the catch-up where it stands (the
  // only reader of the table: see onlyGatheredBy); else nothing reads the table before its update.
  const gather = gatherNodeOf(g, p, csr);
  const inputs = [p, m, v, last, hist, csr];
  if (gather) g.rewrite(gather, catchUpGatherOp, inputs, gather.outputs, attrs);
  else g.apply(catchUpOp, inputs, attrs);
  g.apply(updateOp, [p, dRows, m, v, csr, last], attrs);
  return { p, m, v, last, hist, attrs };
}

/**
 * The flush of `tables` as a graph of its own, over tensors of the same names: compiled with
 * shareWith the step that owns them, it runs only when asked, never inside a training step.
 */
export function flushGraph(tables: readonly DeferredTable[]): Graph {
  const g = new Graph();
  const made = new Map<string, Tensor>();
  const like = (t: Tensor): Tensor => {
    let s = made.get(t.name);
    if (!s) made.set(t.name, (s = g.state(t.name, t.shape, { dtype: t.dtype })));
    return s;
  };
  for (const d of tables) g.apply(flushOp, [d.p, d.m, d.v, d.last, d.hist].map(like), d.attrs);
  return g;
}

/** Host side of step t: the deferral uniform and the ring slot of its scalars (`words`, `slot`: scratch reused each step). */
export function writeDeferredStep(step: CompiledStep, uniform: string, hist: Tensor, t: number, cap: number, stepWords: Float32Array, words: Uint32Array, slot: Float32Array<ArrayBuffer>): void {
  words.set([t, cap, 0, 0]);
  step.writeUniform(`${uniform}.defer`, words);
  step.write(hist, deferSlot(stepWords, slot), (t % cap) * DEFER_SLOT_WORDS);
}
