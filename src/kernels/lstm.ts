// LSTM cell for one time step, forward and backward: wrappers. References in lstm-ref.ts.
//
// A layer is the input projection gx = x . W_ih + b for all steps (one matmul, the caller's),
// then for t = 0 .. T-1: gh = h[t-1] . W_hh (caller's matmul; at t = 0 skip it and bind a
// buffer of zeros as gh, since bindings are per step) and LstmCellForward step t. Backward, for
// t = T-1 .. 0: LstmCellBackward step t, then dh_rec = d_gates[t] . W_hh^T (caller's matmul),
// which step t-1 reads. Afterwards dW_ih = x^T . d_gates, db = column sums of d_gates,
// dx = d_gates . W_ih^T and dW_hh = h[0..T-2]^T . d_gates[1..T-1], each one matmul over
// the whole sequence.
//
// Buffers (f32, row-major):
//   gx, gates, dGates  [T, B, 4H]   gate order i, f, g, o; gates are post-activation
//   c, h, dhOut        [T, B, H]
//   gh                 [B, 4H]
//   dhRec, dc          [B, H]
// The initial state is zero (c[-1] = 0). At t = T-1 the kernel ignores dhRec and dc (there is no
// later step), so neither needs clearing before a backward pass; the gradient of the final c
// must therefore come through h (dhOut), which is how every model here uses the layer.
//
// dc is updated in place: step t reads dc[t] from it and overwrites it with dc[t-1], each
// invocation its own element. That is one read_write binding, so there is no read-only alias
// of a written buffer (WebGPU forbids that within a dispatch) and no ping-pong pair to alternate.
// Likewise c[t-1] is read from the read_write binding of c that c[t] is written to.
//
// Every step gets its own 16-byte uniform, made at the first bind of that step and reused:
//   struct Step { bh: u32 = B * H, hidden: u32 = H, t: u32, steps: u32 = T }
// so a recorded training step replays T dispatches with fixed bind groups. The bench's unfused
// baseline (bench/baselines/lstm-unfused.ts) shares the activations in lstm-common.wgsl.
import common from '../../shaders/lstm-common.wgsl';
import fusedBody from '../../shaders/lstm.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import { checkInteger, grid1d, KernelError, type Dispatch } from './kernel.ts';
import { Kernel } from './spec.ts';

const source = `${common}\n${fusedBody}`;

export interface LstmShape {
  /** Time steps T in the sequence buffers. */
  steps: number;
  /** Batch rows B. */
  batch: number;
  /** Hidden units H. */
  hidden: number;
}

export interface LstmOptions {
  /** Invocations per workgroup (default 64). */
  workgroupSize?: number;
}

export const DEFAULT_LSTM_WG = 64;

export const fmtLstm = (s: LstmShape): string => `[T=${s.steps}, B=${s.batch}, H=${s.hidden}]`;

/** Checks a shape and workgroup size before anything is compiled; binding sizes are the spec's. */
export function checkLstmShape(gpu: Gpu, kernel: string, s: LstmShape, wg: number): void {
  // An empty sequence or batch is a caller's mistake: a recorded step always has work.
  checkInteger(kernel, `steps of ${fmtLstm(s)}`, s.steps, 1);
  checkInteger(kernel, `batch of ${fmtLstm(s)}`, s.batch, 1);
  checkInteger(kernel, `hidden of ${fmtLstm(s)}`, s.hidden, 1);
  const maxWg = Math.min(gpu.device.limits.maxComputeInvocationsPerWorkgroup, gpu.device.limits.maxComputeWorkgroupSizeX);
  if (!Number.isInteger(wg) || wg < 1 || wg > maxWg) {
    throw new KernelError(kernel, `workgroupSize must be an integer in [1, ${maxWg}], got ${wg}`);
  }
  // Indices are u32 in the shader: the largest, T * B * 4H, must fit.
  const words = s.steps * s.batch * 4 * s.hidden;
  if (words > 0xffffffff) throw new KernelError(kernel, `shape ${fmtLstm(s)} has ${words} gate elements, more than u32 indexing allows`);
}

/** Byte sizes of every buffer the kernels bind. */
export function lstmBytes(s: LstmShape): { seqGates: number; seqState: number; stepGates: number; stepState: number } {
  const bh = s.batch * s.hidden;
  return { seqGates: s.steps * 4 * bh * 4, seqState: s.steps * bh * 4, stepGates: 4 * bh * 4, stepState: bh * 4 };
}

/** The per-step uniforms of one kernel, each made at the first bind of its step and reused. */
export class LstmSteps {
  private readonly made = new Map<number, GPUBuffer>();

  constructor(
    private readonly kernel: string,
    private readonly shape: LstmShape,
    private readonly scope: BufferScope,
  ) {}

  at(t: number): GPUBuffer {
    const { steps, batch, hidden } = this.shape;
    if (!Number.isInteger(t) || t < 0 || t >= steps) {
      throw new KernelError(this.kernel, `step t must be an integer in [0, ${steps - 1}] for ${fmtLstm(this.shape)}, got ${t}`);
    }
    let u = this.made.get(t);
    if (!u) {
      u = this.scope.uniform(`${this.kernel}.step${t}`, [batch * hidden, hidden, t, steps]);
      this.made.set(t, u);
    }
    return u;
  }
}

export interface LstmForwardBuffers {
  /** [T, B, 4H] input projection plus bias. */
  gx: GPUBuffer;
  /** [B, 4H] h[t-1] . W_hh for this step. */
  gh: GPUBuffer;
  /** [T, B, 4H] out: post-activation gates at step t. */
  gates: GPUBuffer;
  /** [T, B, H] in: c[t-1]; out: c[t]. */
  c: GPUBuffer;
  /** [T, B, H] out: h[t]. */
  h: GPUBuffer;
}

/** One dispatch per step. */
export class LstmCellForward {
  static readonly kernel = 'lstm_cell_forward';

  private constructor(
    private readonly cell: Kernel<'fp' | 'gx' | 'gh' | 'gates' | 'c_seq' | 'h_seq'>,
    private readonly steps: LstmSteps,
  ) {}

  static async create(gpu: Gpu, shape: LstmShape, opts: LstmOptions = {}, scope: BufferScope = gpu.buffers): Promise<LstmCellForward> {
    const kernel = LstmCellForward.kernel;
    const wg = opts.workgroupSize ?? DEFAULT_LSTM_WG;
    checkLstmShape(gpu, kernel, shape, wg);
    const bytes = lstmBytes(shape);
    const cell = await Kernel.create(
      gpu,
      {
        kernel,
        source,
        entry: 'cell_forward',
        constants: { WG: wg },
        sizes: { fp: 16, gx: bytes.seqGates, gh: bytes.stepGates, gates: bytes.seqGates, c_seq: bytes.seqState, h_seq: bytes.seqState },
        shape: fmtLstm(shape),
        grid: grid1d(gpu, shape.batch * shape.hidden, wg),
      },
      scope,
    );
    return new LstmCellForward(cell, new LstmSteps(kernel, shape, scope));
  }

  /** The dispatch of step t. */
  bind(b: LstmForwardBuffers, t: number): Dispatch[] {
    const fp = this.steps.at(t);
    const d = this.cell.bind({ fp, gx: b.gx, gh: b.gh, gates: b.gates, c_seq: b.c, h_seq: b.h });
    return [{ ...d, label: `${LstmCellForward.kernel}[t=${t}]` }];
  }
}

export interface LstmBackwardBuffers {
  /** [T, B, 4H] the forward's post-activation gates. */
  gates: GPUBuffer;
  /** [T, B, H] the forward's c. */
  c: GPUBuffer;
  /** [T, B, H] gradient of h from the layer above (or the loss). */
  dhOut: GPUBuffer;
  /** [B, H] d_gates[t+1] . W_hh^T; ignored at t = T-1. */
  dhRec: GPUBuffer;
  /** [B, H] in: gradient of c[t] from step t+1 (ignored at t = T-1); out: gradient of c[t-1]. */
  dc: GPUBuffer;
  /** [T, B, 4H] out: pre-activation gate gradients at step t. */
  dGates: GPUBuffer;
}

/** One dispatch per step. */
export class LstmCellBackward {
  static readonly kernel = 'lstm_cell_backward';

  private constructor(
    private readonly cell: Kernel<'bp' | 'saved_gates' | 'saved_c' | 'dh_out' | 'dh_rec' | 'dc' | 'd_gates'>,
    private readonly steps: LstmSteps,
  ) {}

  static async create(gpu: Gpu, shape: LstmShape, opts: LstmOptions = {}, scope: BufferScope = gpu.buffers): Promise<LstmCellBackward> {
    const kernel = LstmCellBackward.kernel;
    const wg = opts.workgroupSize ?? DEFAULT_LSTM_WG;
    checkLstmShape(gpu, kernel, shape, wg);
    const bytes = lstmBytes(shape);
    const cell = await Kernel.create(
      gpu,
      {
        kernel,
        source,
        entry: 'cell_backward',
        constants: { WG: wg },
        sizes: {
          bp: 16,
          saved_gates: bytes.seqGates,
          saved_c: bytes.seqState,
          dh_out: bytes.seqState,
          dh_rec: bytes.stepState,
          dc: bytes.stepState,
          d_gates: bytes.seqGates,
        },
        shape: fmtLstm(shape),
        grid: grid1d(gpu, shape.batch * shape.hidden, wg),
      },
      scope,
    );
    return new LstmCellBackward(cell, new LstmSteps(kernel, shape, scope));
  }

  /** The dispatch of step t. Call for t = T-1 down to 0. */
  bind(b: LstmBackwardBuffers, t: number): Dispatch[] {
    const bp = this.steps.at(t);
    const d = this.cell.bind({ bp, saved_gates: b.gates, saved_c: b.c, dh_out: b.dhOut, dh_rec: b.dhRec, dc: b.dc, d_gates: b.dGates });
    return [{ ...d, label: `${LstmCellBackward.kernel}[t=${t}]` }];
  }
}
