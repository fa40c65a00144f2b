// An LSTM layer over a whole sequence as one forward op and one backward op. Forward: the
// input projection for all steps is one matmul; then per step t, h[t-1] is copied out of the
// sequence buffer (storage offsets must be 256-byte aligned, element offsets need a copy),
// gh = h[t-1]·W_hh, and the fused cell. Backward runs the cells from T-1 down to 0 with the
// recurrent gradient dh_rec = d_gates[t]·W_hhᵀ, then every weight gradient is one matmul over
// the whole sequence. Weights are stored input-major: W_ih [I, 4H], W_hh [H, 4H]; gates i, f, g, o.
//
// lstmRecurrent is the same layer from a projection gx = x·W_ih + b made elsewhere (an embedding
// bag over a binary x): its backward returns d_gates as the gradient of gx, and dW_hh.
import type { Gpu } from '../../gpu/context.ts';
import type { BufferScope } from '../../gpu/buffers.ts';
import { CopyBlock } from '../../kernels/elementwise.ts';
import { LstmCellBackward, LstmCellForward } from '../../kernels/lstm.ts';
import { BiasGrad } from '../../kernels/matmul.ts';
import { createTunedMatmul } from '../../kernels/matmul-tune.ts';
import type { Dispatch } from '../../kernels/kernel.ts';
import { GraphError, shapeString, type Graph, type OpKind, type Tensor } from '../graph.ts';

interface LstmAttrs {
  steps: number;
  batch: number;
  hidden: number;
}

/** Copies row block `from` of a [T·B, width] sequence into `to`'s block (whole [B, width] slabs). */
function slab(gpu: Parameters<typeof CopyBlock.create>[0], scope: Parameters<typeof CopyBlock.create>[3], slabElems: number, from: number, to: number): Promise<CopyBlock> {
  return CopyBlock.create(gpu, { rows: 1, width: slabElems, srcStride: 0, srcOffset: from * slabElems, dstStride: 0, dstOffset: to * slabElems }, {}, scope);
}

/** Steps 0..T-1 from the input projection gx: per step, h[t-1]·W_hh and the fused cell. */
async function recurrenceForward(
  gpu: Gpu,
  scope: BufferScope,
  { steps: T, batch: B, hidden: H }: LstmAttrs,
  seq: { gx: GPUBuffer; whh: GPUBuffer; gates: GPUBuffer; c: GPUBuffer; h: GPUBuffer },
): Promise<Dispatch[]> {
  const gh = scope.create('lstm.gh', B * 4 * H * 4);
  const ghZero = scope.create('lstm.gh0', B * 4 * H * 4); // never written: WebGPU zero-fills new buffers
  const hPrev = scope.create('lstm.hprev', B * H * 4);
  const [recur, cell] = await Promise.all([
    createTunedMatmul(gpu, { m: B, n: 4 * H, k: H }, {}, scope),
    LstmCellForward.create(gpu, { steps: T, batch: B, hidden: H }, {}, scope),
  ]);
  const copies = await Promise.all(Array.from({ length: T - 1 }, (_, t) => slab(gpu, scope, B * H, t, 0)));
  const out: Dispatch[] = [];
  const cellBufs = { gx: seq.gx, gates: seq.gates, c: seq.c, h: seq.h };
  for (let t = 0; t < T; t++) {
    if (t > 0) out.push(copies[t - 1].bind({ src: seq.h, dst: hPrev }), recur.bind({ a: hPrev, b: seq.whh, c: gh }));
    out.push(...cell.bind({ ...cellBufs, gh: t > 0 ? gh : ghZero }, t));
  }
  return out;
}

/**
 * Backward through time: the cells from T-1 down to 0 writing d_gates (the gradient of gx),
 * then dW_hh = h[0..T-2]ᵀ · d_gates[1..T-1] as one matmul.
 */
async function recurrenceBackward(
  gpu: Gpu,
  scope: BufferScope,
  { steps: T, batch: B, hidden: H }: LstmAttrs,
  b: { dh: GPUBuffer; whh: GPUBuffer; h: GPUBuffer; c: GPUBuffer; gates: GPUBuffer; dGates: GPUBuffer; dwhh: GPUBuffer },
): Promise<Dispatch[]> {
  const rows = T * B;
  const dgStep = scope.create('lstm.dgates_t', B * 4 * H * 4);
  const dhRec = scope.create('lstm.dhrec', B * H * 4);
  const dc = scope.create('lstm.dc', B * H * 4);
  // h shifted down one step: row block t holds h[t-1], block 0 stays zero (h[-1] = 0).
  const hPrevSeq = scope.create('lstm.hprev_seq', rows * H * 4);
  const [cell, recur, dWhh] = await Promise.all([
    LstmCellBackward.create(gpu, { steps: T, batch: B, hidden: H }, {}, scope),
    createTunedMatmul(gpu, { m: B, n: H, k: 4 * H }, { transB: true }, scope),
    createTunedMatmul(gpu, { m: H, n: 4 * H, k: rows }, { transA: true }, scope),
  ]);
  const steps = await Promise.all(Array.from({ length: T }, (_, t) => slab(gpu, scope, B * 4 * H, t, 0)));
  const out: Dispatch[] = [];
  const saved = { gates: b.gates, c: b.c, dhOut: b.dh, dhRec, dc, dGates: b.dGates };
  for (let t = T - 1; t >= 0; t--) {
    out.push(...cell.bind(saved, t));
    if (t > 0) out.push(steps[t].bind({ src: b.dGates, dst: dgStep }), recur.bind({ a: dgStep, b: b.whh, c: dhRec }));
  }
  if (T > 1) {
    const shift = await CopyBlock.create(gpu, { rows: 1, width: (T - 1) * B * H, srcStride: 0, srcOffset: 0, dstStride: 0, dstOffset: B * H }, {}, scope);
    out.push(shift.bind({ src: b.h, dst: hPrevSeq }));
  }
  out.push(dWhh.bind({ a: hPrevSeq, b: b.dGates, c: b.dwhh }));
  return out;
}

const lstmOp: OpKind<LstmAttrs> = {
  name: 'lstm',
  outputs([x, wih, whh, b], a) {
    const H = a.hidden;
    const inDim = x.shape[1];
    const ok =
      x.shape.length === 2 && x.shape[0] === a.steps * a.batch && wih.shape.join() === `${inDim},${4 * H}` && whh.shape.join() === `${H},${4 * H}` && b.size === 4 * H;
    if (!ok) {
      throw new GraphError(
        `lstm: x ${shapeString(x)} (expected [${a.steps}·${a.batch}, in]), W_ih ${shapeString(wih)} (expected [in, ${4 * H}]), ` +
          `W_hh ${shapeString(whh)} (expected [${H}, ${4 * H}]) and b ${shapeString(b)} (expected [${4 * H}]) do not fit`,
      );
    }
    const rows = a.steps * a.batch;
    return [
      { name: 'lstm.h', shape: [rows, H], dtype: 'f32' },
      { name: 'lstm.c', shape: [rows, H], dtype: 'f32' },
      { name: 'lstm.gates', shape: [rows, 4 * H], dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [x, wih, whh, b] = node.inputs;
    const [h, c, gates] = node.outputs;
    const { steps: T, batch: B, hidden: H } = node.attrs;
    const gx = ctx.scope.create('lstm.gx', T * B * 4 * H * 4);
    const project = await createTunedMatmul(ctx.gpu, { m: T * B, n: 4 * H, k: x.shape[1] }, { bias: true }, ctx.scope);
    const seq = { gx, whh: ctx.buffer(whh), gates: ctx.buffer(gates), c: ctx.buffer(c), h: ctx.buffer(h) };
    return [project.bind({ a: ctx.buffer(x), b: ctx.buffer(wih), bias: ctx.buffer(b), c: gx }), ...(await recurrenceForward(ctx.gpu, ctx.scope, node.attrs, seq))];
  },
  grad(g, node, [dh], needed) {
    if (!dh) return [null, null, null, null];
    const [x, wih, whh] = node.inputs;
    const [h, c, gates] = node.outputs;
    const [dx, ...rest] = g.apply(lstmBackwardOp, [dh, x, wih, whh, h, c, gates], { ...node.attrs, dx: needed[0] });
    return [needed[0] ? dx : null, ...rest];
  },
};

/** `dx`: whether the input's gradient is wanted (a first layer fed by data needs none). */
const lstmBackwardOp: OpKind<LstmAttrs & { dx: boolean }> = {
  name: 'lstm_backward',
  outputs([, x, wih, whh]) {
    return [
      { name: 'lstm.dx', shape: x.shape, dtype: 'f32' },
      { name: 'lstm.dW_ih', shape: wih.shape, dtype: 'f32' },
      { name: 'lstm.dW_hh', shape: whh.shape, dtype: 'f32' },
      { name: 'lstm.db', shape: [whh.shape[1]], dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [dh, x, wih, whh, h, c, gates] = node.inputs;
    const [dx, dwih, dwhh, db] = node.outputs;
    const { steps: T, batch: B, hidden: H } = node.attrs;
    const { gpu, scope } = ctx;
    const rows = T * B;
    const inDim = x.shape[1];
    const dGates = scope.create('lstm.dgates', rows * 4 * H * 4);
    const [recurrence, dWih, dX, bias] = await Promise.all([
      recurrenceBackward(gpu, scope, node.attrs, { dh: ctx.buffer(dh), whh: ctx.buffer(whh), h: ctx.buffer(h), c: ctx.buffer(c), gates: ctx.buffer(gates), dGates, dwhh: ctx.buffer(dwhh) }),
      createTunedMatmul(gpu, { m: inDim, n: 4 * H, k: rows }, { transA: true }, scope),
      createTunedMatmul(gpu, { m: rows, n: inDim, k: 4 * H }, { transB: true }, scope),
      BiasGrad.create(gpu, { m: rows, n: 4 * H }, {}, scope),
    ]);
    const out: Dispatch[] = [...recurrence, dWih.bind({ a: ctx.buffer(x), b: dGates, c: ctx.buffer(dwih) }), ...bias.bind({ dz: dGates, db: ctx.buffer(db) })];
    if (node.attrs.dx) out.push(dX.bind({ a: dGates, b: ctx.buffer(wih), c: ctx.buffer(dx) }));
    return out;
  },
};

/**
 * An LSTM layer over x laid out [T·B, in] (time-major, row t·B + b). Returns h [T·B, H].
 * The initial state is zero.
 */
export function lstm(g: Graph, x: Tensor, wih: Tensor, whh: Tensor, b: Tensor, shape: LstmAttrs): Tensor {
  return g.apply(lstmOp, [x, wih, whh, b], shape)[0];
}

const recurrentOp: OpKind<LstmAttrs> = {
  name: 'lstm_recurrent',
  outputs([gx, whh], a) {
    const H = a.hidden;
    if (gx.shape.join() !== `${a.steps * a.batch},${4 * H}` || whh.shape.join() !== `${H},${4 * H}`) {
      throw new GraphError(`lstm_recurrent: gx ${shapeString(gx)} (expected [${a.steps}·${a.batch}, ${4 * H}]) and W_hh ${shapeString(whh)} (expected [${H}, ${4 * H}]) do not fit`);
    }
    const rows = a.steps * a.batch;
    return [
      { name: 'lstm.h', shape: [rows, H], dtype: 'f32' },
      { name: 'lstm.c', shape: [rows, H], dtype: 'f32' },
      { name: 'lstm.gates', shape: [rows, 4 * H], dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [gx, whh] = node.inputs;
    const [h, c, gates] = node.outputs;
    return recurrenceForward(ctx.gpu, ctx.scope, node.attrs, { gx: ctx.buffer(gx), whh: ctx.buffer(whh), gates: ctx.buffer(gates), c: ctx.buffer(c), h: ctx.buffer(h) });
  },
  grad(g, node, [dh]) {
    if (!dh) return [null, null];
    const [, whh] = node.inputs;
    const [h, c, gates] = node.outputs;
    const [dgx, dwhh] = g.apply(recurrentBackwardOp, [dh, whh, h, c, gates], node.attrs);
    return [dgx, dwhh];
  },
};

const recurrentBackwardOp: OpKind<LstmAttrs> = {
  name: 'lstm_recurrent_backward',
  outputs([, whh, , , gates]) {
    return [
      { name: 'lstm.dgx', shape: gates.shape, dtype: 'f32' },
      { name: 'lstm.dW_hh', shape: whh.shape, dtype: 'f32' },
    ];
  },
  async lower(ctx, node) {
    const [dh, whh, h, c, gates] = node.inputs;
    const [dgx, dwhh] = node.outputs;
    const b = { dh: ctx.buffer(dh), whh: ctx.buffer(whh), h: ctx.buffer(h), c: ctx.buffer(c), gates: ctx.buffer(gates), dGates: ctx.buffer(dgx), dwhh: ctx.buffer(dwhh) };
    return recurrenceBackward(ctx.gpu, ctx.scope, node.attrs, b);
  },
};

/**
 * The recurrence of an LSTM layer from its input projection gx = x·W_ih + b [T·B, 4H], made
 * by another op (an embedding bag for a binary x). Returns h [T·B, H]; the gradient of gx is
 * the layer's d_gates. The initial state is zero.
 */
export function lstmRecurrent(g: Graph, gx: Tensor, whh: Tensor, shape: LstmAttrs): Tensor {
  return g.apply(recurrentOp, [gx, whh], shape)[0];
}
