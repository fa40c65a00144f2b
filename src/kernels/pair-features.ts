// x = [u, q, u ⊙ q] and its backward (shaders/pair-features.wgsl), with the float64 references.
import body from '../../shaders/pair-features.wgsl';
import rowWalk from '../../shaders/row-walk.wgsl';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import { checkInteger, elementsPerThread, gridPerThread, KernelError, type Dispatch } from './kernel.ts';
import { Kernel, type EntrySpec } from './spec.ts';

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

/** Validated sizes and the fields every pair-features entry shares. */
function common(gpu: Gpu, kernel: string, shape: PairShape): { rows: number; dim: number; qRows: number; per: number; spec: Omit<EntrySpec<string>, 'kernel' | 'entry' | 'constants' | 'sizes'> } {
  const { rows, dim } = shape;
  checkInteger(kernel, 'rows', rows, 1);
  checkInteger(kernel, 'dim', dim, 1);
  const qRows = shape.qRows ?? rows;
  checkInteger(kernel, 'qRows', qRows, rows);
  const per = elementsPerThread(gpu);
  const spec = { source, params: { p: [rows, dim, qRows, 0] }, shape: `[${rows}, ${dim}] rows of q [${qRows}, ${dim}]`, grid: gridPerThread(gpu, rows * dim, WG, per) };
  return { rows, dim, qRows, per, spec };
}

/** x = [u, q, u ⊙ q] over u's rows (q's leading rows). */
export class PairFeatures {
  static readonly kernel = 'pair_features';

  private constructor(private readonly k: Kernel<'u' | 'q' | 'x'>) {}

  static async create(gpu: Gpu, shape: PairShape, scope: BufferScope = gpu.buffers): Promise<PairFeatures> {
    const kernel = PairFeatures.kernel;
    const { rows, dim, per, spec } = common(gpu, kernel, shape);
    const n = rows * dim * 4;
    return new PairFeatures(await Kernel.create(gpu, { ...spec, kernel, entry: 'pair_features', constants: { WG, PER: per }, sizes: { u: n, q: n, x: 3 * n } }, scope));
  }

  bind(b: { u: GPUBuffer; q: GPUBuffer; x: GPUBuffer }): Dispatch {
    return this.k.bind({ u: b.u, q: b.q, x: b.x });
  }
}

/** du, dq from dx; created with addends, du + addU and dq + addQ (reverse mode's other contributions). */
export class PairFeaturesBackward {
  static readonly kernel = 'pair_features_backward';

  private constructor(
    private readonly k: Kernel<string>,
    readonly add: Required<PairAddends>,
  ) {}

  static async create(gpu: Gpu, shape: PairShape, add: PairAddends = {}, scope: BufferScope = gpu.buffers): Promise<PairFeaturesBackward> {
    const kernel = PairFeaturesBackward.kernel;
    const { rows, dim, qRows, per, spec } = common(gpu, kernel, shape);
    const adds = { u: add.u ?? false, q: add.q ?? false };
    const n = rows * dim * 4;
    const nq = adds.q ? qRows * dim * 4 : n;
    const entry: EntrySpec<string> =
      adds.u || adds.q
        ? {
            ...spec,
            kernel,
            entry: 'pair_features_backward_add',
            constants: { WG, PER: per, ADD_U: Number(adds.u), ADD_Q: Number(adds.q) },
            // An absent addend's binding gets a read-only stand-in the kernel never reads.
            sizes: { u: n, q: nq, dx: 3 * n, du: n, dq: nq, add_u: n, add_q: nq },
          }
        : { ...spec, kernel, entry: 'pair_features_backward', constants: { WG, PER: per }, sizes: { u: n, q: n, dx: 3 * n, du: n, dq: n } };
    return new PairFeaturesBackward(await Kernel.create(gpu, entry, scope), adds);
  }

  bind(b: PairBackwardBuffers): Dispatch {
    if (Boolean(b.addU) !== this.add.u || Boolean(b.addQ) !== this.add.q) {
      throw new KernelError(PairFeaturesBackward.kernel, `created to add ${this.addendNames()}, got the buffers of ${[b.addU ? 'addU' : '', b.addQ ? 'addQ' : ''].filter(Boolean).join(' and ') || 'none'}`);
    }
    const plain = { u: b.u, q: b.q, dx: b.dx, du: b.du, dq: b.dq };
    return this.k.bind(this.add.u || this.add.q ? { ...plain, add_u: b.addU ?? b.u, add_q: b.addQ ?? b.q } : plain);
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
