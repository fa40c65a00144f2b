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
import { checkInteger, grid1d, KernelError } from './kernel.ts';
import type { EntrySpec } from './spec.ts';

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

// ---- entry point ----------------------------------------------------------------------

/**
 * SGD over one parameter tensor of n elements; param (and the momentum buffer buf, bound
 * exactly when created with momentum) updated in place. st is the step uniform (createSgdStepBuffer).
 */
export function sgd(gpu: Gpu, shape: { n: number }, opts: SgdOptions = {}): EntrySpec<'st' | 'param' | 'grad' | 'buf'> | EntrySpec<'st' | 'param' | 'grad'> {
  const kernel = 'sgd';
  const { n } = shape;
  checkInteger(kernel, 'n (elements of the parameter tensor)', n, 1);
  const wg = opts.wg ?? 256;
  const maxWg = Math.min(gpu.device.limits.maxComputeInvocationsPerWorkgroup, gpu.device.limits.maxComputeWorkgroupSizeX);
  if (!Number.isInteger(wg) || wg < 1 || wg > maxWg) throw new KernelError(kernel, `wg must be an integer in [1, ${maxWg}], got ${wg}`);
  if (opts.nesterov && !opts.momentum) throw new KernelError(kernel, 'Nesterov momentum needs the momentum buffer: create with momentum: true');
  const common = { kernel, source, params: { sp: [n, 0, 0, 0] }, shape: `[${n}]`, grid: grid1d(gpu, n, wg) };
  return opts.momentum
    ? { ...common, entry: 'sgd_momentum', constants: { WG: wg, NESTEROV: opts.nesterov ? 1 : 0 }, sizes: { st: SGD_STEP_BYTES, param: n * 4, grad: n * 4, buf: n * 4 } }
    : { ...common, entry: 'sgd', constants: { WG: wg }, sizes: { st: SGD_STEP_BYTES, param: n * 4, grad: n * 4 } };
}
