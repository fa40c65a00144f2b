// Dense Adam over an embedding table with the untouched rows' steps deferred until the row is
// read (shaders/adam-deferred.wgsl): the same bits as TableAdam, touching only the batch's
// rows each step. Three kernels share the table's buffers: catch_up (before the gathers),
// update (after the backward) and flush (before anything else reads the table).
import adamSource from '../../shaders/adam.wgsl';
import deferredSource from '../../shaders/adam-deferred.wgsl';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import { adamConstants, type AdamOptions } from './adam.ts';
import { ADAM_STEP_BYTES, ADAM_STEP_WORDS } from './adam-ref.ts';
import { csrWords, segmentCapacity, type EmbeddingShape } from './embedding.ts';
import { checkInteger, grid1d, KernelError, type Dispatch } from './kernel.ts';
import { Kernel, type EntrySpec } from './spec.ts';

const source = `${adamSource}\n${deferredSource}`;
const WG = 64;

/** Words per ring slot: step k's (step_size, bc2_sqrt, decay, 0). */
export const DEFER_SLOT_WORDS = 4;
/** Bytes of the per-step uniform (t, cap, 0, 0). */
export const DEFER_PARAMS_BYTES = 16;

/** Ring slot k % cap of step k, from that step's AdamStep words (adamStepWords). */
export function deferSlot(stepWords: ArrayLike<number>, out = new Float32Array(DEFER_SLOT_WORDS)): Float32Array {
  if (stepWords.length < ADAM_STEP_WORDS) throw new KernelError(DeferredTableAdam.kernel, `expected ${ADAM_STEP_WORDS} AdamStep words, got ${stepWords.length}`);
  out[0] = stepWords[6]; // lr / bc1
  out[1] = stepWords[7]; // sqrt(bc2)
  out[2] = stepWords[8]; // 1 - lr * weight_decay
  out[3] = 0;
  return out;
}

export interface DeferredBuffers {
  /** The AdamStep uniform of step t. */
  step: GPUBuffer;
  /** DeferParams: (t, cap) for catch_up and update, (steps taken, cap) for flush. */
  defer: GPUBuffer;
  param: GPUBuffer;
  m: GPUBuffer;
  v: GPUBuffer;
  /** u32 per quad: the last step it took. */
  last: GPUBuffer;
  /** cap slots of DEFER_SLOT_WORDS floats. */
  hist: GPUBuffer;
}

type Pass = 'catchUp' | 'catchUpGather' | 'update' | 'flush';

export class DeferredTableAdam {
  static readonly kernel = 'table_adam_deferred';

  private constructor(
    private readonly passes: Record<Pass, Kernel<string>>,
    readonly shape: EmbeddingShape,
    readonly cap: number,
  ) {}

  /**
   * `cap`: ring slots, the most steps a row may lag between flushes. With `opts.beta1` and
   * `opts.weightDecay` given, replayed steps may take the short form (SKIP_FAST in adam-deferred.wgsl).
   */
  static async create(gpu: Gpu, shape: EmbeddingShape, cap: number, opts: Pick<AdamOptions, 'decoupled' | 'beta1' | 'weightDecay'> = {}, scope: BufferScope = gpu.buffers): Promise<DeferredTableAdam> {
    const kernel = DeferredTableAdam.kernel;
    const { rows, dim, n } = shape;
    checkInteger(kernel, 'rows', rows, 1);
    checkInteger(kernel, 'dim', dim, 1);
    checkInteger(kernel, 'n (indices per batch)', n, 1);
    checkInteger(kernel, 'cap (ring slots)', cap, 1);
    if (dim % 4 !== 0) throw new KernelError(kernel, `the table's rows are updated as quads: dim must be divisible by 4, got ${dim}`);
    const table = rows * dim * 4;
    const state = { st: ADAM_STEP_BYTES, dfp: DEFER_PARAMS_BYTES, param4: table, m4: table, v4: table, last: rows * (dim / 4) * 4 };
    const hist = cap * DEFER_SLOT_WORDS * 4;
    const csr = csrWords(shape) * 4;
    const batchQuads = segmentCapacity(shape) * (dim / 4);
    const common = { source, constants: { WG, ...adamConstants(opts) }, params: { tp: [dim, segmentCapacity(shape), rows, 0] }, shape: `[rows=${rows}, dim=${dim}] with ${n} indices` };
    const specs: Record<Pass, EntrySpec<string>> = {
      catchUp: { ...common, kernel: `${kernel}.catch_up`, entry: 'adam_table4_catch_up', sizes: { ...state, hist, table_csr: csr }, grid: grid1d(gpu, batchQuads, WG) },
      catchUpGather: {
        ...common,
        kernel: `${kernel}.catch_up_gather`,
        entry: 'adam_table4_catch_up_gather',
        sizes: { ...state, hist, table_csr: csr, gathered4: n * dim * 4 },
        grid: grid1d(gpu, batchQuads, WG),
      },
      update: { ...common, kernel: `${kernel}.update`, entry: 'adam_table4_update', sizes: { ...state, table_csr: csr, grad_rows4: n * dim * 4 }, grid: grid1d(gpu, batchQuads, WG) },
      flush: { ...common, kernel: `${kernel}.flush`, entry: 'adam_table4_flush', sizes: { ...state, hist }, grid: grid1d(gpu, rows * (dim / 4), WG) },
    };
    const names = Object.keys(specs) as Pass[];
    const made = await Promise.all(names.map((p) => Kernel.create(gpu, specs[p], scope)));
    return new DeferredTableAdam(Object.fromEntries(names.map((p, i) => [p, made[i]])) as Record<Pass, Kernel<string>>, { ...shape }, cap);
  }

  private static state(b: Omit<DeferredBuffers, 'hist'>): Record<string, GPUBuffer> {
    return { st: b.step, dfp: b.defer, param4: b.param, m4: b.m, v4: b.v, last: b.last };
  }

  /** Before the step's gathers: the batch's rows (`csr`) take their deferred steps up to t - 1. */
  bindCatchUp(b: DeferredBuffers & { csr: GPUBuffer }): Dispatch {
    return this.passes.catchUp.bind({ ...DeferredTableAdam.state(b), hist: b.hist, table_csr: b.csr });
  }

  /**
   * catch_up fused with the gather of the same indices: the batch's rows, once up to date, are
   * also written to `gathered` [n, dim] at every position `csr` lists (what the gather reads).
   */
  bindCatchUpGather(b: DeferredBuffers & { csr: GPUBuffer; gathered: GPUBuffer }): Dispatch {
    return this.passes.catchUpGather.bind({ ...DeferredTableAdam.state(b), hist: b.hist, table_csr: b.csr, gathered4: b.gathered });
  }

  /** After the backward: the batch's rows take step t with their summed gradient. */
  bindUpdate(b: Omit<DeferredBuffers, 'hist'> & { csr: GPUBuffer; gradRows: GPUBuffer }): Dispatch {
    return this.passes.update.bind({ ...DeferredTableAdam.state(b), table_csr: b.csr, grad_rows4: b.gradRows });
  }

  /** Every quad takes its deferred steps up to the `defer` uniform's t (the steps taken). */
  bindFlush(b: DeferredBuffers): Dispatch {
    return this.passes.flush.bind({ ...DeferredTableAdam.state(b), hist: b.hist });
  }
}
