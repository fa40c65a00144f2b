// SGD with optional (Nesterov) momentum, torch.optim.SGD semantics: wrapper, step uniform and float64 reference.
//
// The per-step scalars live in a uniform buffer the caller owns (createSgdStepBuffer), written
// once per step with writeSgdStep; one buffer serves every tensor sharing the hyper-parameters.
// Layout (struct SgdStep in shaders/sgd.wgsl), 8 words, 32 bytes:
//   0 lr (f32)   1 momentum (f32)   2 1 - dampening (f32)   3 weight_decay (f32)
//   4 first (u32: 1 on step 1, when the momentum buffer is set to the gradient)   5..7 padding
import source from '../../shaders/sgd.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import { bindGroup, checkBindingSize, checkBufferSize, checkInteger, grid1d, KernelError, pipeline, type Dispatch } from './kernel.ts';

export interface SgdHyper {
  lr: number;
  /** Default 0 (plain SGD; create the kernel with momentum: false). */
  momentum?: number;
  /** Default 0. */
  dampening?: number;
  /** L2, added to the gradient. Default 0. */
  weightDecay?: number;
  /** Default false; needs momentum > 0 and dampening 0, as in PyTorch. */
  nesterov?: boolean;
}

export interface SgdOptions {
  /** Keep a momentum buffer (hp.momentum > 0). Without it the kernel binds no buffer. */
  momentum?: boolean;
  nesterov?: boolean;
  /** Threads per workgroup (default 256). */
  wg?: number;
}

export const SGD_STEP_BYTES = 32;

/** The kernel options that hp needs: a momentum buffer iff momentum != 0, as PyTorch decides. */
export function sgdOptions(hp: SgdHyper): SgdOptions {
  return { momentum: (hp.momentum ?? 0) !== 0, nesterov: hp.nesterov ?? false };
}

/** Step t's uniform words (t = 1 on the first step). Checks PyTorch's ranges. */
export function sgdStepWords(t: number, hp: SgdHyper): ArrayBuffer {
  const k = 'sgd_step';
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = hp;
  if (!Number.isInteger(t) || t < 1) throw new KernelError(k, `the step count must be an integer >= 1 (the first step is 1), got ${t}`);
  if (!(lr >= 0 && Number.isFinite(lr))) throw new KernelError(k, `lr must be a finite number >= 0, got ${lr}`);
  if (!(momentum >= 0 && Number.isFinite(momentum))) throw new KernelError(k, `momentum must be a finite number >= 0, got ${momentum}`);
  if (!Number.isFinite(dampening)) throw new KernelError(k, `dampening must be a finite number, got ${dampening}`);
  if (!(weightDecay >= 0 && Number.isFinite(weightDecay))) throw new KernelError(k, `weightDecay must be a finite number >= 0, got ${weightDecay}`);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new KernelError(k, `Nesterov momentum requires momentum > 0 and dampening 0, got momentum ${momentum} and dampening ${dampening}`);
  }
  const words = new ArrayBuffer(SGD_STEP_BYTES);
  new Float32Array(words, 0, 4).set([lr, momentum, 1 - dampening, weightDecay]);
  new Uint32Array(words, 16, 1)[0] = t === 1 ? 1 : 0;
  return words;
}

export function createSgdStepBuffer(scope: BufferScope, label = 'sgd.step'): GPUBuffer {
  return scope.create(label, SGD_STEP_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
}

export function writeSgdStep(gpu: Gpu, buffer: GPUBuffer, t: number, hp: SgdHyper): void {
  gpu.device.queue.writeBuffer(buffer, 0, sgdStepWords(t, hp));
}

// ---- float64 reference ----------------------------------------------------------------

export interface SgdRefState {
  param: Float64Array | Float32Array;
  /** The momentum buffer (ignored when hp.momentum is 0). */
  buf: Float64Array | Float32Array;
}

/** One SGD step t (1-based) in place. `round`: Math.fround to emulate the shader's f32 op order. */
export function sgdRef(s: SgdRefState, grad: ArrayLike<number>, t: number, hp: SgdHyper, round: (x: number) => number = (x) => x): void {
  const r = round;
  const { momentum = 0, dampening = 0, weightDecay = 0, nesterov = false } = hp;
  const lr = r(hp.lr);
  const mu = r(momentum);
  const oneMinusDampening = r(1 - dampening);
  const wd = r(weightDecay);
  for (let i = 0; i < s.param.length; i++) {
    const p = s.param[i];
    let g = grad[i];
    if (wd !== 0) g = r(g + r(wd * p));
    let u = g;
    if (mu !== 0) {
      const b = t === 1 ? g : r(r(s.buf[i] * mu) + r(oneMinusDampening * g));
      s.buf[i] = b;
      u = nesterov ? r(g + r(mu * b)) : b;
    }
    s.param[i] = r(p + r(-lr * u));
  }
}

// ---- GPU wrapper ----------------------------------------------------------------------

/** SGD over one parameter tensor of n elements; param (and the momentum buffer) updated in place. */
export class Sgd {
  static readonly kernel = 'sgd';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    private readonly wg: number,
    readonly momentum: boolean,
    readonly shape: { n: number },
  ) {}

  static async create(gpu: Gpu, shape: { n: number }, opts: SgdOptions = {}, scope: BufferScope = gpu.buffers): Promise<Sgd> {
    const k = Sgd.kernel;
    checkInteger(k, 'n (elements of the parameter tensor)', shape.n, 1);
    const wg = opts.wg ?? 256;
    const maxWg = Math.min(gpu.device.limits.maxComputeInvocationsPerWorkgroup, gpu.device.limits.maxComputeWorkgroupSizeX);
    if (!Number.isInteger(wg) || wg < 1 || wg > maxWg) throw new KernelError(k, `wg must be an integer in [1, ${maxWg}], got ${wg}`);
    if (opts.nesterov && !opts.momentum) throw new KernelError(k, 'Nesterov momentum needs the momentum buffer: create with momentum: true');
    checkBindingSize(gpu, k, `a parameter tensor of ${shape.n} elements`, shape.n * 4);
    const momentum = opts.momentum ?? false;
    const pipe = await pipeline(gpu, 'sgd', source, momentum ? 'sgd_momentum' : 'sgd', momentum ? { WG: wg, NESTEROV: opts.nesterov ? 1 : 0 } : { WG: wg });
    const params = scope.uniform(`${k}.params`, [shape.n, 0, 0, 0]);
    return new Sgd(gpu, pipe, params, wg, momentum, shape);
  }

  /** `buf`, the momentum buffer, is required with momentum and must not be given without it. */
  bind(b: { step: GPUBuffer; param: GPUBuffer; grad: GPUBuffer; buf?: GPUBuffer }): Dispatch {
    const k = Sgd.kernel;
    const { n } = this.shape;
    if (b.step.size < SGD_STEP_BYTES || !(b.step.usage & GPUBufferUsage.UNIFORM)) {
      throw new KernelError(k, `the step buffer must be a UNIFORM buffer of at least ${SGD_STEP_BYTES} bytes (use createSgdStepBuffer)`);
    }
    checkBufferSize(k, 'param', b.param, n * 4, `[${n}]`);
    checkBufferSize(k, 'grad', b.grad, n * 4, `[${n}]`);
    const resources: Record<number, GPUBuffer> = { 0: b.step, 1: this.params, 2: b.param, 3: b.grad };
    if (this.momentum) {
      if (!b.buf) throw new KernelError(k, 'created with momentum: bind a momentum buffer (buf) of the parameter size');
      checkBufferSize(k, 'buf', b.buf, n * 4, `[${n}]`);
      resources[4] = b.buf;
    } else if (b.buf) {
      throw new KernelError(k, 'created without momentum: a momentum buffer (buf) would never be updated; create with momentum: true');
    }
    return { label: k, pipeline: this.pipe, bindGroup: bindGroup(this.gpu, this.pipe, k, resources), grid: grid1d(this.gpu, n, this.wg) };
  }
}
