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
// so a recorded training step replays T dispatches (2T unfused) with fixed bind groups.
import common from '../../shaders/lstm-common.wgsl';
import fusedBody from '../../shaders/lstm.wgsl';
import unfusedBody from '../../shaders/lstm-unfused.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import { bindGroup, checkBindingSize, checkBufferSize, checkInteger, grid1d, KernelError, pipeline, type Dispatch } from './kernel.ts';

// The shared activations are one definition in both variants: they must agree bit for bit.
const source = `${common}\n${fusedBody}`;
const unfusedSource = `${common}\n${unfusedBody}`;

export interface LstmShape {
  /** Time steps T in the sequence buffers. */
  steps: number;
  /** Batch rows B. */
  batch: number;
  /** Hidden units H. */
  hidden: number;
}

/** 'fused': one dispatch per step and direction. 'unfused': activations and cell update apart (the bench baseline); identical bits. */
export type LstmImpl = 'fused' | 'unfused';

export interface LstmOptions {
  impl?: LstmImpl;
  /** Invocations per workgroup (default 64). */
  workgroupSize?: number;
}

const DEFAULT_WG = 64;

const fmt = (s: LstmShape): string => `[T=${s.steps}, B=${s.batch}, H=${s.hidden}]`;

function checkShape(gpu: Gpu, kernel: string, s: LstmShape, wg: number): void {
  // An empty sequence or batch is a caller's mistake: a recorded step always has work.
  checkInteger(kernel, `steps of ${fmt(s)}`, s.steps, 1);
  checkInteger(kernel, `batch of ${fmt(s)}`, s.batch, 1);
  checkInteger(kernel, `hidden of ${fmt(s)}`, s.hidden, 1);
  const maxWg = Math.min(gpu.device.limits.maxComputeInvocationsPerWorkgroup, gpu.device.limits.maxComputeWorkgroupSizeX);
  if (!Number.isInteger(wg) || wg < 1 || wg > maxWg) {
    throw new KernelError(kernel, `workgroupSize must be an integer in [1, ${maxWg}], got ${wg}`);
  }
  // Indices are u32 in the shader: the largest, T * B * 4H, must fit.
  const words = s.steps * s.batch * 4 * s.hidden;
  if (words > 0xffffffff) throw new KernelError(kernel, `shape ${fmt(s)} has ${words} gate elements, more than u32 indexing allows`);
  checkBindingSize(gpu, kernel, `the [T, B, 4H] gates of ${fmt(s)}`, words * 4);
}

/** Byte sizes of every buffer the kernels bind. */
export function lstmBytes(s: LstmShape): { seqGates: number; seqState: number; stepGates: number; stepState: number } {
  const bh = s.batch * s.hidden;
  return { seqGates: s.steps * 4 * bh * 4, seqState: s.steps * bh * 4, stepGates: 4 * bh * 4, stepState: bh * 4 };
}

/** Shared by both directions: pipelines, geometry and the per-step uniforms. */
abstract class LstmStepKernel {
  private readonly steps = new Map<number, GPUBuffer>();

  protected constructor(
    protected readonly gpu: Gpu,
    protected readonly pipes: readonly GPUComputePipeline[],
    private readonly scope: BufferScope,
    readonly shape: LstmShape,
    readonly impl: LstmImpl,
    protected readonly wg: number,
  ) {}

  protected abstract get kernel(): string;

  /** The uniform of step t, made once. */
  protected step(t: number): GPUBuffer {
    const { steps, batch, hidden } = this.shape;
    if (!Number.isInteger(t) || t < 0 || t >= steps) {
      throw new KernelError(this.kernel, `step t must be an integer in [0, ${steps - 1}] for ${fmt(this.shape)}, got ${t}`);
    }
    let u = this.steps.get(t);
    if (!u) {
      u = this.scope.uniform(`${this.kernel}.step${t}`, [batch * hidden, hidden, t, steps]);
      this.steps.set(t, u);
    }
    return u;
  }

  protected dispatch(pipe: GPUComputePipeline, label: string, threads: number, resources: Record<number, GPUBuffer>): Dispatch {
    return { label, pipeline: pipe, bindGroup: bindGroup(this.gpu, pipe, label, resources), grid: grid1d(this.gpu, threads, this.wg) };
  }

  protected check(name: string, buffer: GPUBuffer, bytes: number): void {
    checkBufferSize(this.kernel, name, buffer, bytes, fmt(this.shape));
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

export class LstmCellForward extends LstmStepKernel {
  static readonly kernel = 'lstm_cell_forward';
  protected get kernel(): string {
    return LstmCellForward.kernel;
  }

  static async create(gpu: Gpu, shape: LstmShape, opts: LstmOptions = {}, scope: BufferScope = gpu.buffers): Promise<LstmCellForward> {
    const k = LstmCellForward.kernel;
    const impl = opts.impl ?? 'fused';
    const wg = opts.workgroupSize ?? DEFAULT_WG;
    checkShape(gpu, k, shape, wg);
    const pipes =
      impl === 'fused'
        ? [await pipeline(gpu, 'lstm', source, 'cell_forward', { WG: wg })]
        : await Promise.all([pipeline(gpu, 'lstm-unfused', unfusedSource, 'gate_act', { WG: wg }), pipeline(gpu, 'lstm-unfused', unfusedSource, 'cell_update', { WG: wg })]);
    return new LstmCellForward(gpu, pipes, scope, shape, impl, wg);
  }

  /** The dispatches of step t (one fused, two unfused), in order. */
  bind(b: LstmForwardBuffers, t: number): Dispatch[] {
    const u = this.step(t);
    const bytes = lstmBytes(this.shape);
    this.check('gx', b.gx, bytes.seqGates);
    this.check('gh', b.gh, bytes.stepGates);
    this.check('gates', b.gates, bytes.seqGates);
    this.check('c', b.c, bytes.seqState);
    this.check('h', b.h, bytes.seqState);
    const bh = this.shape.batch * this.shape.hidden;
    const k = `${this.kernel}[t=${t}]`;
    if (this.impl === 'fused') {
      return [this.dispatch(this.pipes[0], k, bh, { 0: u, 1: b.gx, 2: b.gh, 3: b.gates, 4: b.c, 5: b.h })];
    }
    return [
      this.dispatch(this.pipes[0], `${k}.gate_act`, 4 * bh, { 0: u, 1: b.gx, 2: b.gh, 3: b.gates }),
      this.dispatch(this.pipes[1], `${k}.cell_update`, bh, { 4: u, 5: b.gates, 6: b.c, 7: b.h }),
    ];
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

export class LstmCellBackward extends LstmStepKernel {
  static readonly kernel = 'lstm_cell_backward';
  protected get kernel(): string {
    return LstmCellBackward.kernel;
  }

  static async create(gpu: Gpu, shape: LstmShape, opts: LstmOptions = {}, scope: BufferScope = gpu.buffers): Promise<LstmCellBackward> {
    const k = LstmCellBackward.kernel;
    const impl = opts.impl ?? 'fused';
    const wg = opts.workgroupSize ?? DEFAULT_WG;
    checkShape(gpu, k, shape, wg);
    const pipes =
      impl === 'fused'
        ? [await pipeline(gpu, 'lstm', source, 'cell_backward', { WG: wg })]
        : await Promise.all([
            pipeline(gpu, 'lstm-unfused', unfusedSource, 'cell_backward', { WG: wg }),
            pipeline(gpu, 'lstm-unfused', unfusedSource, 'gate_act_backward', { WG: wg }),
          ]);
    return new LstmCellBackward(gpu, pipes, scope, shape, impl, wg);
  }

  /** The dispatches of step t (one fused, two unfused), in order. Call for t = T-1 down to 0. */
  bind(b: LstmBackwardBuffers, t: number): Dispatch[] {
    const u = this.step(t);
    const bytes = lstmBytes(this.shape);
    this.check('gates', b.gates, bytes.seqGates);
    this.check('c', b.c, bytes.seqState);
    this.check('dhOut', b.dhOut, bytes.seqState);
    this.check('dhRec', b.dhRec, bytes.stepState);
    this.check('dc', b.dc, bytes.stepState);
    this.check('dGates', b.dGates, bytes.seqGates);
    const bh = this.shape.batch * this.shape.hidden;
    const k = `${this.kernel}[t=${t}]`;
    if (this.impl === 'fused') {
      return [this.dispatch(this.pipes[0], k, bh, { 6: u, 7: b.gates, 8: b.c, 9: b.dhOut, 10: b.dhRec, 11: b.dc, 12: b.dGates })];
    }
    return [
      this.dispatch(this.pipes[0], `${k}.cell_backward`, bh, { 8: u, 9: b.gates, 10: b.c, 11: b.dhOut, 12: b.dhRec, 13: b.dc, 14: b.dGates }),
      this.dispatch(this.pipes[1], `${k}.gate_act_backward`, 4 * bh, { 15: u, 16: b.gates, 17: b.dGates }),
    ];
  }
}
