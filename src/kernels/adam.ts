// Adam / AdamW: fused dense update and lazy (row-sparse) update for embedding tables.
//
// Every wrapper reads the per-step scalars from a uniform buffer the caller owns (layout in
// adam-ref.ts: ADAM_STEP_WORDS f32 words), written once per step with writeAdamStep; one such
// buffer can serve every parameter tensor that shares the hyper-parameters.
import source from '../../shaders/adam.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import { csrWords, segmentCapacity, type EmbeddingShape } from './embedding.ts';
import { ADAM_STEP_BYTES, adamStepWords, type AdamHyper } from './adam-ref.ts';
import { checkInteger, elementsPerThread, grid1d, gridPerThread, KernelError, type Dispatch } from './kernel.ts';
import { Kernel } from './spec.ts';

export * from './adam-ref.ts';

export interface AdamOptions {
  /** AdamW: decay the parameter by 1 - lr * wd instead of adding wd * p to the gradient. */
  decoupled?: boolean;
  /** Threads per workgroup (default 256). */
  wg?: number;
  /**
   * The optimizer's beta1 and weight decay, fixed for its life (the step uniform still carries
   * them). Given, they decide at compile time what the kernel otherwise tests each step: which
   * form of PyTorch's lerp applies and whether L2 decay is added. SwiftShader computes both
   * sides of every branch, so the decided form is the cheaper kernel; the bits are the same.
   */
  beta1?: number;
  weightDecay?: number;
}

/** Lerp forms (LERP): decided per step, a + w * (b - a), b - (b - a) * (1 - w). */
const LERP_RUNTIME = 0;
const LERP_NEAR_A = 1;
const LERP_NEAR_B = 2;

/** The override constants shared by the Adam kernels (adam.wgsl). */
export function adamConstants(opts: AdamOptions): { DECOUPLED: number; LERP: number; L2: number } {
  // PyTorch's lerp picks its form by |w| < 0.5, w = 1 - beta1 as the f32 the uniform holds.
  const lerp = opts.beta1 === undefined ? LERP_RUNTIME : Math.abs(Math.fround(1 - opts.beta1)) < 0.5 ? LERP_NEAR_A : LERP_NEAR_B;
  // L2 = 0: no L2 term (known zero decay); 1: the kernel checks the uniform's decay each step.
  const l2 = opts.weightDecay === 0 ? 0 : 1;
  return { DECOUPLED: opts.decoupled ? 1 : 0, LERP: lerp, L2: l2 };
}

export const DEFAULT_WG = 256;

/** A uniform buffer for the step scalars, owned by `scope`; fill it with writeAdamStep. */
export function createAdamStepBuffer(scope: BufferScope, label = 'adam.step'): GPUBuffer {
  return scope.create(label, ADAM_STEP_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
}

/** Writes step t's scalars (t = 1 on the first step) into a step buffer. */
export function writeAdamStep(gpu: Gpu, buffer: GPUBuffer, t: number, hp: AdamHyper): void {
  const words = adamStepWords(t, hp);
  gpu.device.queue.writeBuffer(buffer, 0, words.buffer, words.byteOffset, words.byteLength);
}

export function checkWg(gpu: Gpu, kernel: string, wg: number): void {
  const max = gpu.device.limits.maxComputeInvocationsPerWorkgroup;
  if (!Number.isInteger(wg) || wg < 1 || wg > Math.min(max, gpu.device.limits.maxComputeWorkgroupSizeX)) {
    throw new KernelError(kernel, `wg must be an integer in [1, ${Math.min(max, gpu.device.limits.maxComputeWorkgroupSizeX)}], got ${wg}`);
  }
}

type StepBuffers = { step: GPUBuffer; param: GPUBuffer; grad: GPUBuffer; m: GPUBuffer; v: GPUBuffer };

/** Dense Adam over one parameter tensor of n elements; param, m and v are updated in place. */
export class Adam {
  static readonly kernel = 'adam';

  private constructor(private readonly k: Kernel<'st' | 'param' | 'grad' | 'm' | 'v'>) {}

  static async create(gpu: Gpu, shape: { n: number }, opts: AdamOptions = {}, scope: BufferScope = gpu.buffers): Promise<Adam> {
    const kernel = Adam.kernel;
    const { n } = shape;
    // An empty tensor has no parameters to train: a caller's mistake, said before recording.
    checkInteger(kernel, 'n (elements of the parameter tensor)', n, 1);
    const wg = opts.wg ?? DEFAULT_WG;
    checkWg(gpu, kernel, wg);
    const per = elementsPerThread(gpu);
    const spec = {
      kernel,
      source,
      entry: 'adam',
      constants: { WG: wg, PER: per, ...adamConstants(opts) },
      params: { dp: [n, 0, 0, 0] },
      sizes: { st: ADAM_STEP_BYTES, param: n * 4, grad: n * 4, m: n * 4, v: n * 4 },
      shape: `[${n}]`,
      grid: gridPerThread(gpu, n, wg, per),
    };
    return new Adam(await Kernel.create(gpu, spec, scope));
  }

  /** `step`: the caller's step uniform (createAdamStepBuffer / writeAdamStep). */
  bind(b: StepBuffers): Dispatch {
    return this.k.bind({ st: b.step, param: b.param, grad: b.grad, m: b.m, v: b.v });
  }
}

/**
 * Lazy ("row-sparse") Adam for an embedding table [rows, dim]: the same update as Adam, but
 * only on the rows the batch touched, read from the packed CSR of packSegments (graph/segments.ts)
 * for a batch of `shape.n` indices. Rows the batch did not touch keep their parameters AND
 * their moments: unlike dense Adam (where a zero gradient still decays m and v and moves the
 * parameter), a row's state only advances on steps that use it. The bias corrections still
 * use the global step count, as in TF-Addons' LazyAdam and torch.optim.SparseAdam (which
 * differs from this in adding eps before the sqrt(bc2) division, and has no weight decay).
 */
export class LazyAdam {
  static readonly kernel = 'lazy_adam';

  private constructor(private readonly k: Kernel<'st' | 'csr' | 'param' | 'grad' | 'm' | 'v'>) {}

  static async create(gpu: Gpu, shape: EmbeddingShape, opts: AdamOptions = {}, scope: BufferScope = gpu.buffers): Promise<LazyAdam> {
    const kernel = LazyAdam.kernel;
    const { rows, dim, n } = shape;
    checkInteger(kernel, 'rows', rows, 1);
    checkInteger(kernel, 'dim', dim, 1);
    checkInteger(kernel, 'n (indices per batch)', n, 1);
    const wg = opts.wg ?? DEFAULT_WG;
    checkWg(gpu, kernel, wg);
    const table = rows * dim * 4;
    const spec = {
      kernel,
      source,
      entry: 'adam_rows',
      constants: { WG: wg, ...adamConstants(opts) },
      params: { rp: [dim, segmentCapacity(shape), rows, 0] },
      sizes: { st: ADAM_STEP_BYTES, csr: csrWords(shape) * 4, param: table, grad: table, m: table, v: table },
      shape: `[rows=${rows}, dim=${dim}] with ${n} indices`,
      grid: grid1d(gpu, segmentCapacity(shape) * dim, wg),
    };
    return new LazyAdam(await Kernel.create(gpu, spec, scope));
  }

  /** `csr`: packSegments of the batch's indices (the same buffer embedding_backward reads). `grad` is the [rows, dim] gradient table. */
  bind(b: StepBuffers & { csr: GPUBuffer }): Dispatch {
    return this.k.bind({ st: b.step, csr: b.csr, param: b.param, grad: b.grad, m: b.m, v: b.v });
  }
}
