// The fused factorization head + CS330 ranking loss (shaders/mf-ranking.wgsl) and its float64
// reference.
import source from '../../shaders/mf-ranking.wgsl';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import { bindGroup, checkBufferSize, checkInteger, grid1d, pipeline, type Dispatch } from './kernel.ts';

const WG = 64;

export interface MfShape {
  /** Ratings in the batch (positives; the items hold 2n rows). */
  n: number;
  dim: number;
}

export interface MfBuffers {
  scale: GPUBuffer;
  u: GPUBuffer;
  q: GPUBuffer;
  a: GPUBuffer;
  b: GPUBuffer;
  loss: GPUBuffer;
  du: GPUBuffer;
  dq: GPUBuffer;
  da: GPUBuffer;
  db: GPUBuffer;
}

export class MfRanking {
  static readonly kernel = 'mf_ranking';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: MfShape,
  ) {}

  static async create(gpu: Gpu, shape: MfShape, scope: BufferScope = gpu.buffers): Promise<MfRanking> {
    checkInteger(MfRanking.kernel, 'n', shape.n, 1);
    checkInteger(MfRanking.kernel, 'dim', shape.dim, 1);
    const pipe = await pipeline(gpu, 'mf-ranking', source, 'mf_ranking', { WG });
    return new MfRanking(gpu, pipe, scope.uniform(`${MfRanking.kernel}.params`, [shape.n, shape.dim, 0, 0]), { ...shape });
  }

  bind(x: MfBuffers): Dispatch {
    const k = MfRanking.kernel;
    const { n, dim } = this.shape;
    const what = `${n} ratings of dim ${dim}`;
    const sizes: [keyof MfBuffers, number][] = [['scale', 1], ['u', n * dim], ['q', 2 * n * dim], ['a', n], ['b', 2 * n], ['loss', n], ['du', n * dim], ['dq', 2 * n * dim], ['da', n], ['db', 2 * n]];
    for (const [name, count] of sizes) checkBufferSize(k, name, x[name], count * 4, what);
    const resources = { 0: this.params, 1: x.scale, 2: x.u, 3: x.q, 4: x.a, 5: x.b, 6: x.loss, 7: x.du, 8: x.dq, 9: x.da, 10: x.db };
    return { label: k, pipeline: this.pipe, bindGroup: bindGroup(this.gpu, this.pipe, k, resources), grid: grid1d(this.gpu, n, WG) };
  }
}

/** float64: loss terms and gradients as the kernel defines them (see the shader's header). */
export function mfRankingRef(u: ArrayLike<number>, q: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>, shape: MfShape, scale: number) {
  const { n, dim } = shape;
  const sig = (x: number): number => 1 / (1 + Math.exp(-x));
  const out = { loss: new Float64Array(n), du: new Float64Array(n * dim), dq: new Float64Array(2 * n * dim), da: new Float64Array(n), db: new Float64Array(2 * n) };
  for (let r = 0; r < n; r++) {
    let pos = a[r] + b[r];
    let neg = a[r] + b[n + r];
    for (let k = 0; k < dim; k++) {
      pos += u[r * dim + k] * q[r * dim + k];
      neg += u[r * dim + k] * q[(n + r) * dim + k];
    }
    const d = pos - neg;
    out.loss[r] = scale * (1 - sig(d));
    const g = -scale * sig(d) * sig(-d);
    for (let k = 0; k < dim; k++) {
      out.du[r * dim + k] = g * (q[r * dim + k] - q[(n + r) * dim + k]);
      out.dq[r * dim + k] = g * u[r * dim + k];
      out.dq[(n + r) * dim + k] = -g * u[r * dim + k];
    }
    out.db[r] = g;
    out.db[n + r] = -g;
  }
  return out;
}
