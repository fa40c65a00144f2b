// x = [u, q, u ⊙ q] and its backward (shaders/pair-features.wgsl), with the float64 references.
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
  /** q's rows (default `rows`): forward and backward read the leading `rows`; an added dq covers them all. */
  qRows?: number;
}

/** Which of reverse mode's other contributions the backward adds: du += addU, dq += addQ. */
export interface PairAddends {
  u?: boolean;
  q?: boolean;
}

export interface PairBackwardBuffers {
  u: GPUBuffer;
  q: GPUBuffer;
  dx: GPUBuffer;
  du: GPUBuffer;
  dq: GPUBuffer;
  /** [rows, dim], when created with `add.u`. */
  addU?: GPUBuffer;
  /** [qRows, dim], when created with `add.q`; dq is then [qRows, dim] too, its rows past `rows` a copy of addQ's. */
  addQ?: GPUBuffer;
}

export class PairFeatures {
  static readonly kernel = 'pair_features';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipes: { forward: GPUComputePipeline; backward: GPUComputePipeline },
    private readonly params: GPUBuffer,
    readonly shape: Required<PairShape>,
    readonly add: Required<PairAddends>,
    private readonly per: number,
  ) {}

  /** `add`: the backward adds these contributions (one more pipeline; without, the plain backward). */
  static async create(gpu: Gpu, shape: PairShape, scope: BufferScope = gpu.buffers, add: PairAddends = {}): Promise<PairFeatures> {
    checkInteger(PairFeatures.kernel, 'rows', shape.rows, 1);
    checkInteger(PairFeatures.kernel, 'dim', shape.dim, 1);
    const qRows = shape.qRows ?? shape.rows;
    checkInteger(PairFeatures.kernel, 'qRows', qRows, shape.rows);
    const adds = { u: add.u ?? false, q: add.q ?? false };
    const per = elementsPerThread(gpu);
    const [forward, backward] = await Promise.all([
      pipeline(gpu, 'pair-features', source, 'pair_features', { WG, PER: per }),
      adds.u || adds.q
        ? pipeline(gpu, 'pair-features', source, 'pair_features_backward_add', { WG, PER: per, ADD_U: Number(adds.u), ADD_Q: Number(adds.q) })
        : pipeline(gpu, 'pair-features', source, 'pair_features_backward', { WG, PER: per }),
    ]);
    const params = scope.uniform(`${PairFeatures.kernel}.params`, [shape.rows, shape.dim, qRows, 0]);
    return new PairFeatures(gpu, { forward, backward }, params, { rows: shape.rows, dim: shape.dim, qRows }, adds, per);
  }

  /** `words`: each binding's f32 count; `writable`: the bindings written, which must be buffers of their own. A thread per PER of u's elements. */
  private dispatch(pipe: GPUComputePipeline, label: string, resources: Record<number, GPUBuffer>, words: Record<number, number>, writable: number[]): Dispatch {
    const { rows, dim, qRows } = this.shape;
    const what = `[${rows}, ${dim}] rows of q [${qRows}, ${dim}]`;
    for (const [b, buf] of Object.entries(resources)) checkBufferSize(label, `binding ${b}`, buf, words[Number(b)] * 4, what);
    for (const w of writable) {
      for (const [b, buf] of Object.entries(resources)) {
        if (Number(b) !== w && buf === resources[w]) throw new KernelError(label, `binding ${w} (written) must be a buffer of its own, but binding ${b} is the same buffer`);
      }
    }
    return { label, pipeline: pipe, bindGroup: bindGroup(this.gpu, pipe, label, { 0: this.params, ...resources }), grid: gridPerThread(this.gpu, rows * dim, WG, this.per) };
  }

  forward(b: { u: GPUBuffer; q: GPUBuffer; x: GPUBuffer }): Dispatch {
    const n = this.shape.rows * this.shape.dim;
    return this.dispatch(this.pipes.forward, PairFeatures.kernel, { 1: b.u, 2: b.q, 3: b.x }, { 1: n, 2: n, 3: 3 * n }, [3]);
  }

  /** du, dq; with addends (as created), du + addU and dq + addQ. */
  backward(b: PairBackwardBuffers): Dispatch {
    const label = `${PairFeatures.kernel}_backward`;
    if (Boolean(b.addU) !== this.add.u || Boolean(b.addQ) !== this.add.q) {
      throw new KernelError(label, `created to add ${this.addendNames()}, got the buffers of ${[b.addU ? 'addU' : '', b.addQ ? 'addQ' : ''].filter(Boolean).join(' and ') || 'none'}`);
    }
    const n = this.shape.rows * this.shape.dim;
    const nq = this.shape.qRows * this.shape.dim;
    const resources: Record<number, GPUBuffer> = { 1: b.u, 2: b.q, 4: b.dx, 5: b.du, 6: b.dq };
    const words: Record<number, number> = { 1: n, 2: n, 4: 3 * n, 5: n, 6: n, 7: n, 8: n };
    if (this.add.u || this.add.q) {
      // An absent addend's binding gets a read-only stand-in the kernel never reads (ADD_U / ADD_Q false).
      resources[7] = b.addU ?? b.u;
      resources[8] = b.addQ ?? b.q;
      if (this.add.q) words[2] = words[6] = words[8] = nq;
    }
    return this.dispatch(this.pipes.backward, label, resources, words, [5, 6]);
  }

  private addendNames(): string {
    return [this.add.u ? 'addU' : '', this.add.q ? 'addQ' : ''].filter(Boolean).join(' and ') || 'nothing';
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

/**
 * du = dx_u + dx_uq ⊙ q (+ addU) over u's rows; dq = dx_q + dx_uq ⊙ u (+ addQ) over them, and
 * with addQ, addQ's further rows (q's rows past u's, which the forward did not read).
 */
export function pairFeaturesBackwardRef(u: ArrayLike<number>, q: ArrayLike<number>, dx: ArrayLike<number>, s: PairShape, add: { u?: ArrayLike<number>; q?: ArrayLike<number> } = {}): { du: Float64Array; dq: Float64Array } {
  const n = s.rows * s.dim;
  const du = new Float64Array(n);
  const dq = add.q ? Float64Array.from(add.q) : new Float64Array(n);
  for (let r = 0; r < s.rows; r++) {
    for (let j = 0; j < s.dim; j++) {
      const t = r * s.dim + j;
      const o = 3 * r * s.dim + j;
      const g = dx[o + 2 * s.dim];
      du[t] = dx[o] + g * q[t] + (add.u ? add.u[t] : 0);
      dq[t] += dx[o + s.dim] + g * u[t];
    }
  }
  return { du, dq };
}
