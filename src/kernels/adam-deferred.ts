// Dense Adam over an embedding table with the untouched rows' steps deferred until the row is
// read (shaders/adam-deferred.wgsl): the same bits as TableAdam, touching only the batch's
// rows each step. Three kernels share the table's buffers: catch_up (before the gathers),
// update (after the backward) and flush (before anything else reads the table).
import adamSource from '../../shaders/adam.wgsl';
import deferredSource from '../../shaders/adam-deferred.wgsl';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import { adamConstants, checkStep, type AdamOptions } from './adam.ts';
import { ADAM_STEP_WORDS } from './adam-ref.ts';
import { csrWords, segmentCapacity, type EmbeddingShape } from './embedding.ts';
import { bindGroup, checkBindingSize, checkBufferSize, checkInteger, grid1d, KernelError, pipeline, type Dispatch } from './kernel.ts';

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

export class DeferredTableAdam {
  static readonly kernel = 'table_adam_deferred';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipes: { catchUp: GPUComputePipeline; catchUpGather: GPUComputePipeline; update: GPUComputePipeline; flush: GPUComputePipeline },
    private readonly params: GPUBuffer,
    readonly shape: EmbeddingShape,
    readonly cap: number,
  ) {}

  /**
   * `cap`: ring slots, the most steps a row may lag between flushes. With `opts.beta1` and
   * `opts.weightDecay` given, replayed steps may take the short form (SKIP_FAST in adam-deferred.wgsl).
   */
  static async create(gpu: Gpu, shape: EmbeddingShape, cap: number, opts: Pick<AdamOptions, 'decoupled' | 'beta1' | 'weightDecay'> = {}, scope: BufferScope = gpu.buffers): Promise<DeferredTableAdam> {
    const k = DeferredTableAdam.kernel;
    checkInteger(k, 'rows', shape.rows, 1);
    checkInteger(k, 'dim', shape.dim, 1);
    checkInteger(k, 'n (indices per batch)', shape.n, 1);
    checkInteger(k, 'cap (ring slots)', cap, 1);
    if (shape.dim % 4 !== 0) throw new KernelError(k, `the table's rows are updated as quads: dim must be divisible by 4, got ${shape.dim}`);
    checkBindingSize(gpu, k, `the table [${shape.rows}, ${shape.dim}]`, shape.rows * shape.dim * 4);
    const constants = { WG, ...adamConstants(opts) };
    const [catchUp, catchUpGather, update, flush] = await Promise.all(
      ['adam_table4_catch_up', 'adam_table4_catch_up_gather', 'adam_table4_update', 'adam_table4_flush'].map((e) => pipeline(gpu, 'adam-deferred', source, e, constants)),
    );
    const params = scope.uniform(`${k}.params`, [shape.dim, segmentCapacity(shape), shape.rows, 0]);
    return new DeferredTableAdam(gpu, { catchUp, catchUpGather, update, flush }, params, { ...shape }, cap);
  }

  private check(b: Partial<DeferredBuffers> & { csr?: GPUBuffer; gradRows?: GPUBuffer; gathered?: GPUBuffer }): void {
    const k = DeferredTableAdam.kernel;
    const { rows, dim, n } = this.shape;
    const what = `[rows=${rows}, dim=${dim}] with ${n} indices`;
    if (b.step) checkStep(k, b.step);
    if (b.defer) checkBufferSize(k, 'defer', b.defer, DEFER_PARAMS_BYTES, what);
    for (const name of ['param', 'm', 'v'] as const) if (b[name]) checkBufferSize(k, name, b[name], rows * dim * 4, what);
    if (b.last) checkBufferSize(k, 'last', b.last, rows * (dim / 4) * 4, what);
    if (b.hist) checkBufferSize(k, 'hist', b.hist, this.cap * DEFER_SLOT_WORDS * 4, what);
    if (b.csr) checkBufferSize(k, 'csr', b.csr, csrWords(this.shape) * 4, what);
    if (b.gradRows) checkBufferSize(k, 'gradRows', b.gradRows, n * dim * 4, what);
    if (b.gathered) checkBufferSize(k, 'gathered', b.gathered, n * dim * 4, what);
  }

  private dispatch(label: string, pipe: GPUComputePipeline, resources: Record<number, GPUBuffer>, threads: number): Dispatch {
    return { label, pipeline: pipe, bindGroup: bindGroup(this.gpu, pipe, label, resources), grid: grid1d(this.gpu, threads, WG) };
  }

  /** Before the step's gathers: the batch's rows (`csr`) take their deferred steps up to t - 1. */
  bindCatchUp(b: DeferredBuffers & { csr: GPUBuffer }): Dispatch {
    this.check(b);
    const quads = segmentCapacity(this.shape) * (this.shape.dim / 4);
    return this.dispatch(`${DeferredTableAdam.kernel}.catch_up`, this.pipes.catchUp, { 0: b.step, 8: this.params, 9: b.csr, 12: b.param, 13: b.m, 14: b.v, 16: b.defer, 17: b.last, 18: b.hist }, quads);
  }

  /**
   * catch_up fused with the gather of the same indices: the batch's rows, once up to date, are
   * also written to `gathered` [n, dim] at every position `csr` lists (what the gather reads).
   */
  bindCatchUpGather(b: DeferredBuffers & { csr: GPUBuffer; gathered: GPUBuffer }): Dispatch {
    this.check(b);
    const quads = segmentCapacity(this.shape) * (this.shape.dim / 4);
    const resources = { 0: b.step, 8: this.params, 9: b.csr, 12: b.param, 13: b.m, 14: b.v, 16: b.defer, 17: b.last, 18: b.hist, 19: b.gathered };
    return this.dispatch(`${DeferredTableAdam.kernel}.catch_up_gather`, this.pipes.catchUpGather, resources, quads);
  }

  /** After the backward: the batch's rows take step t with their summed gradient. */
  bindUpdate(b: Omit<DeferredBuffers, 'hist'> & { csr: GPUBuffer; gradRows: GPUBuffer }): Dispatch {
    this.check(b);
    const quads = segmentCapacity(this.shape) * (this.shape.dim / 4);
    return this.dispatch(`${DeferredTableAdam.kernel}.update`, this.pipes.update, { 0: b.step, 8: this.params, 9: b.csr, 15: b.gradRows, 12: b.param, 13: b.m, 14: b.v, 16: b.defer, 17: b.last }, quads);
  }

  /** Every quad takes its deferred steps up to the `defer` uniform's t (the steps taken). */
  bindFlush(b: DeferredBuffers): Dispatch {
    this.check(b);
    const quads = this.shape.rows * (this.shape.dim / 4);
    return this.dispatch(`${DeferredTableAdam.kernel}.flush`, this.pipes.flush, { 0: b.step, 8: this.params, 12: b.param, 13: b.m, 14: b.v, 16: b.defer, 17: b.last, 18: b.hist }, quads);
  }
}
