// Seeded inverted dropout (shaders/dropout.wgsl); the reference is dropout-ref.ts. One entry
// point serves forward and backward: the mask is a hash of the counters, never stored.
import source from '../../shaders/dropout.wgsl';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import { checkInteger, f32Bits, grid1d, KernelError, type Dispatch } from './kernel.ts';
import { dropThreshold } from './dropout-ref.ts';
import { Kernel } from './spec.ts';

export { dropoutRef, dropThreshold, pcg4dRef } from './dropout-ref.ts';

const WG = 64;

export interface DropoutOptions {
  /** The probability of dropping an element, in (0, 1). */
  rate: number;
  /** Tells the layers of one step apart (a u32): each draws its own mask. */
  stream: number;
}

/** out = x · mask / (1 - rate) over n f32 elements; `seed` is a u32 [seed, step] buffer. */
export class Dropout {
  static readonly kernel = 'dropout';

  private constructor(private readonly k: Kernel<'seed' | 'x' | 'out'>) {}

  static async create(gpu: Gpu, shape: { n: number }, opts: DropoutOptions, scope: BufferScope = gpu.buffers): Promise<Dropout> {
    const kernel = Dropout.kernel;
    checkInteger(kernel, 'n', shape.n, 1);
    if (!(opts.rate > 0 && opts.rate < 1)) throw new KernelError(kernel, `rate must be in (0, 1), got ${opts.rate}; skip dropout at rate 0`);
    if (!(Number.isInteger(opts.stream) && opts.stream >= 0 && opts.stream < 2 ** 32)) throw new KernelError(kernel, `stream must be a u32, got ${opts.stream}`);
    const spec = {
      kernel,
      source,
      entry: 'dropout',
      constants: { WG },
      params: { p: [shape.n, dropThreshold(opts.rate), opts.stream, f32Bits(1 / (1 - opts.rate))] },
      sizes: { seed: 8, x: shape.n * 4, out: shape.n * 4 },
      shape: `[n=${shape.n}]`,
      grid: grid1d(gpu, shape.n, WG),
    };
    return new Dropout(await Kernel.create(gpu, spec, scope));
  }

  bind(b: { seed: GPUBuffer; x: GPUBuffer; out: GPUBuffer }): Dispatch {
    return this.k.bind(b);
  }
}
