// The fused factorization head + CS330 ranking loss (shaders/mf-ranking.wgsl) and its float64
// reference.
import source from '../../shaders/mf-ranking.wgsl';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import { bindGroup, checkBufferSize, checkInteger, grid1d, KernelError, pipeline, type Dispatch } from './kernel.ts';

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
    readonly indexed: boolean,
  ) {}

  /**
   * `indexed`: a and b are the whole bias tables, read at the batch's `users` and `items`
   * (bind's indices) instead of gathered beforehand; the loss scale (weight / n) is then fixed
   * here rather than bound, and da is not written (it is zero), to stay within ten storage
   * buffers.
   */
  static async create(gpu: Gpu, shape: MfShape, scope: BufferScope = gpu.buffers, indexed?: { scale: number }): Promise<MfRanking> {
    checkInteger(MfRanking.kernel, 'n', shape.n, 1);
    checkInteger(MfRanking.kernel, 'dim', shape.dim, 1);
    const pipe = await pipeline(gpu, 'mf-ranking', source, indexed ? 'mf_ranking_indexed' : 'mf_ranking', { WG });
    const scaleBits = new Uint32Array(Float32Array.of(indexed?.scale ?? 0).buffer)[0];
    return new MfRanking(gpu, pipe, scope.uniform(`${MfRanking.kernel}.params`, [shape.n, shape.dim, scaleBits, 0]), { ...shape }, !!indexed);
  }

  bind(x: MfBuffers): Dispatch;
  bind(x: Omit<MfBuffers, 'scale' | 'da'> & { users: GPUBuffer; items: GPUBuffer }): Dispatch;
  bind(x: Partial<MfBuffers> & { users?: GPUBuffer; items?: GPUBuffer }): Dispatch {
    const k = MfRanking.kernel;
    const { n, dim } = this.shape;
    const what = `${n} ratings of dim ${dim}`;
    if (this.indexed !== (x.users !== undefined && x.items !== undefined)) {
      throw new KernelError(k, this.indexed ? 'an indexed kernel reads the bias tables at users and items: bind both' : 'users and items are for an indexed kernel');
    }
    // Indexed, a and b are tables of any number of rows (the indices were checked on the host).
    const sizes: [keyof MfBuffers | 'users' | 'items', number][] = [['u', n * dim], ['q', 2 * n * dim], ['loss', n], ['du', n * dim], ['dq', 2 * n * dim], ['db', 2 * n]];
    if (this.indexed) sizes.push(['a', 1], ['b', 1], ['users', n], ['items', 2 * n]);
    else sizes.push(['scale', 1], ['a', n], ['b', 2 * n], ['da', n]);
    const resources: Record<number, GPUBuffer> = { 0: this.params };
    const slot: Record<keyof MfBuffers | 'users' | 'items', number> = { scale: 1, u: 2, q: 3, a: 4, b: 5, loss: 6, du: 7, dq: 8, da: 9, db: 10, users: 11, items: 12 };
    for (const [name, count] of sizes) {
      const buf = x[name];
      if (!buf) throw new KernelError(k, `${name} is not bound`);
      checkBufferSize(k, name, buf, count * 4, what);
      resources[slot[name]] = buf;
    }
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
