// Gradient clipping by global norm: squares (then a tree Sum of them, from reduce.ts) and the
// scaling by min(1, max_norm / (norm + 1e-6)), as torch.nn.utils.clip_grad_norm_.
import source from '../../shaders/clip.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import { checkDistinct } from './elementwise.ts';
import { bindGroup, checkBufferSize, checkInteger, grid1d, KernelError, pipeline, type Dispatch } from './kernel.ts';

const WG = 64;

async function build(gpu: Gpu, kernel: string, entry: string, n: number, maxNorm: number, scope: BufferScope): Promise<{ pipe: GPUComputePipeline; params: GPUBuffer }> {
  checkInteger(kernel, 'n', n, 1);
  const pipe = await pipeline(gpu, 'clip', source, entry, { WG });
  const words = new ArrayBuffer(16);
  new Uint32Array(words, 0, 1)[0] = n;
  new Float32Array(words, 4, 1)[0] = maxNorm;
  const params = scope.create(`${kernel}.params`, 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  gpu.device.queue.writeBuffer(params, 0, words);
  return { pipe, params };
}

/** sq = x ⊙ x. */
export class Squared {
  static readonly kernel = 'squared';
  private constructor(private readonly gpu: Gpu, private readonly pipe: GPUComputePipeline, private readonly params: GPUBuffer, readonly n: number) {}

  static async create(gpu: Gpu, n: number, scope: BufferScope = gpu.buffers): Promise<Squared> {
    const { pipe, params } = await build(gpu, Squared.kernel, 'squared', n, 0, scope);
    return new Squared(gpu, pipe, params, n);
  }

  bind(b: { x: GPUBuffer; sq: GPUBuffer }): Dispatch {
    const k = Squared.kernel;
    checkBufferSize(k, 'x', b.x, this.n * 4, `[${this.n}]`);
    checkBufferSize(k, 'sq', b.sq, this.n * 4, `[${this.n}]`);
    checkDistinct(k, { sq: b.sq }, { x: b.x });
    return { label: k, pipeline: this.pipe, bindGroup: bindGroup(this.gpu, this.pipe, k, { 0: this.params, 1: b.x, 2: b.sq }), grid: grid1d(this.gpu, this.n, WG) };
  }
}

/** clipped = x · min(1, maxNorm / (sqrt(sumsq[0]) + 1e-6)). */
export class ClipByNorm {
  static readonly kernel = 'clip_by_norm';
  private constructor(private readonly gpu: Gpu, private readonly pipe: GPUComputePipeline, private readonly params: GPUBuffer, readonly n: number) {}

  static async create(gpu: Gpu, n: number, maxNorm: number, scope: BufferScope = gpu.buffers): Promise<ClipByNorm> {
    if (!(maxNorm > 0 && Number.isFinite(maxNorm))) throw new KernelError(ClipByNorm.kernel, `maxNorm must be a finite number > 0, got ${maxNorm}`);
    const { pipe, params } = await build(gpu, ClipByNorm.kernel, 'clip', n, maxNorm, scope);
    return new ClipByNorm(gpu, pipe, params, n);
  }

  bind(b: { x: GPUBuffer; sumsq: GPUBuffer; clipped: GPUBuffer }): Dispatch {
    const k = ClipByNorm.kernel;
    checkBufferSize(k, 'x', b.x, this.n * 4, `[${this.n}]`);
    checkBufferSize(k, 'clipped', b.clipped, this.n * 4, `[${this.n}]`);
    checkDistinct(k, { clipped: b.clipped }, { x: b.x, sumsq: b.sumsq });
    return {
      label: k,
      pipeline: this.pipe,
      bindGroup: bindGroup(this.gpu, this.pipe, k, { 0: this.params, 1: b.x, 3: b.sumsq, 4: b.clipped }),
      grid: grid1d(this.gpu, this.n, WG),
    };
  }
}

/** float64 reference: the clipped tensors and the total norm. */
export function clipGradNormRef(grads: readonly ArrayLike<number>[], maxNorm: number): { clipped: Float64Array[]; norm: number } {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  const norm = Math.sqrt(s);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  return { clipped: grads.map((g) => Float64Array.from(g as ArrayLike<number>, (v) => v * coef)), norm };
}
