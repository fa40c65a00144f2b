// x = [u, q, u ⊙ q] and its backward (shaders/pair-features.wgsl), with the float64 reference.
import body from '../../shaders/pair-features.wgsl';
import rowWalk from '../../shaders/row-walk.wgsl';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import { bindGroup, checkBufferSize, checkInteger, elementsPerThread, gridPerThread, KernelError, pipeline, type Dispatch } from './kernel.ts';

const source = `${body}\n${rowWalk}`;

const WG = 64;

export interface PairShape {
  rows: number;
  dim: number;
}

export class PairFeatures {
  static readonly kernel = 'pair_features';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipes: { forward: GPUComputePipeline; backward: GPUComputePipeline },
    private readonly params: GPUBuffer,
    readonly shape: PairShape,
    private readonly per: number,
  ) {}

  static async create(gpu: Gpu, shape: PairShape, scope: BufferScope = gpu.buffers): Promise<PairFeatures> {
    checkInteger(PairFeatures.kernel, 'rows', shape.rows, 1);
    checkInteger(PairFeatures.kernel, 'dim', shape.dim, 1);
    const per = elementsPerThread(gpu);
    const [forward, backward] = await Promise.all([
      pipeline(gpu, 'pair-features', source, 'pair_features', { WG, PER: per }),
      pipeline(gpu, 'pair-features', source, 'pair_features_backward', { WG, PER: per }),
    ]);
    const params = scope.uniform(`${PairFeatures.kernel}.params`, [shape.rows, shape.dim, 0, 0]);
    return new PairFeatures(gpu, { forward, backward }, params, { ...shape }, per);
  }

  private dispatch(pipe: GPUComputePipeline, label: string, resources: Record<number, GPUBuffer>): Dispatch {
    const { rows, dim } = this.shape;
    const what = `[${rows}, ${dim}] rows`;
    for (const [b, buf] of Object.entries(resources)) {
      const words = b === '3' || b === '4' ? 3 * rows * dim : rows * dim;
      checkBufferSize(label, `binding ${b}`, buf, words * 4, what);
    }
    if (resources[5] && (resources[5] === resources[6] || resources[5] === resources[1] || resources[6] === resources[2])) throw new KernelError(label, 'du and dq must be buffers of their own');
    return { label, pipeline: pipe, bindGroup: bindGroup(this.gpu, pipe, label, { 0: this.params, ...resources }), grid: gridPerThread(this.gpu, rows * dim, WG, this.per) };
  }

  forward(b: { u: GPUBuffer; q: GPUBuffer; x: GPUBuffer }): Dispatch {
    return this.dispatch(this.pipes.forward, PairFeatures.kernel, { 1: b.u, 2: b.q, 3: b.x });
  }

  backward(b: { u: GPUBuffer; q: GPUBuffer; dx: GPUBuffer; du: GPUBuffer; dq: GPUBuffer }): Dispatch {
    return this.dispatch(this.pipes.backward, `${PairFeatures.kernel}_backward`, { 1: b.u, 2: b.q, 4: b.dx, 5: b.du, 6: b.dq });
  }
}

export function pairFeaturesRef(u: ArrayLike<number>, q: ArrayLike<number>, s: PairShape): Float64Array {
  const x = new Float64Array(3 * s.rows * s.dim);
  for (let r = 0; r < s.rows; r++) {
    for (let j = 0; j < s.dim; j++) {
      const t = r * s.dim + j;
      x[3 * r * s.dim + j] = u[t];
      x[3 * r * s.dim + s.dim + j] = q[t];
      x[3 * r * s.dim + 2 * s.dim + j] = u[t] * q[t];
    }
  }
  return x;
}
