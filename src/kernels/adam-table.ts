// Dense Adam over an embedding table with the batch's gradient summed in the same pass
// (shaders/adam.wgsl, adam_table): one dispatch instead of zero-fill, segmented scatter-add
// and Adam, with the same bits. The host derives the row → segment map with the CSR.
import source from '../../shaders/adam.wgsl';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import { ADAM_STEP_BYTES, adamConstants, checkWg, DEFAULT_WG, type AdamOptions } from './adam.ts';
import { csrWords, segmentCapacity, type EmbeddingShape } from './embedding.ts';
import { checkInteger, elementsPerThread, gridPerThread, KernelError, type Constants, type Dispatch } from './kernel.ts';
import { Kernel, type EntrySpec } from './spec.ts';

export class TableAdam {
  static readonly kernel = 'table_adam';

  private constructor(
    private readonly k: Kernel<string>,
    /** Quads of four elements, several per thread (dim % 4 == 0; same bits). */
    readonly vec4: boolean,
  ) {}

  static async create(gpu: Gpu, shape: EmbeddingShape, opts: AdamOptions & { vec4?: boolean } = {}, scope: BufferScope = gpu.buffers): Promise<TableAdam> {
    const kernel = TableAdam.kernel;
    const { rows, dim, n } = shape;
    checkInteger(kernel, 'rows', rows, 1);
    checkInteger(kernel, 'dim', dim, 1);
    checkInteger(kernel, 'n (indices per batch)', n, 1);
    const wg = opts.wg ?? DEFAULT_WG;
    checkWg(gpu, kernel, wg);
    const vec4 = opts.vec4 ?? dim % 4 === 0;
    if (vec4 && dim % 4 !== 0) throw new KernelError(kernel, `vec4 needs dim divisible by 4, got ${dim}`);
    // Only the quad kernel loops; the scalar one keeps a thread per element.
    const per = vec4 ? elementsPerThread(gpu) : 1;
    const constants: Constants = { WG: wg, ...adamConstants(opts) };
    if (vec4) constants.PER = per;
    const table = rows * dim * 4;
    const common = { st: ADAM_STEP_BYTES, table_csr: csrWords(shape) * 4, seg_of_row: rows * 4 };
    const spec: EntrySpec<string> = {
      kernel,
      source,
      entry: vec4 ? 'adam_table4' : 'adam_table',
      constants,
      params: { tp: [dim, segmentCapacity(shape), rows, 0] },
      sizes: vec4
        ? { ...common, grad_rows4: n * dim * 4, param4: table, m4: table, v4: table }
        : { ...common, grad_rows: n * dim * 4, param: table, m: table, v: table },
      shape: `[rows=${rows}, dim=${dim}] with ${n} indices`,
      grid: gridPerThread(gpu, vec4 ? (rows * dim) / 4 : rows * dim, wg, per),
    };
    return new TableAdam(await Kernel.create(gpu, spec, scope), vec4);
  }

  /** `gradRows`: the [n, dim] gradient of the gathered rows; `csr` and `segOf` from the batch's indices. */
  bind(b: { step: GPUBuffer; csr: GPUBuffer; segOf: GPUBuffer; gradRows: GPUBuffer; param: GPUBuffer; m: GPUBuffer; v: GPUBuffer }): Dispatch {
    const common = { st: b.step, table_csr: b.csr, seg_of_row: b.segOf };
    return this.k.bind(
      this.vec4 ? { ...common, grad_rows4: b.gradRows, param4: b.param, m4: b.m, v4: b.v } : { ...common, grad_rows: b.gradRows, param: b.param, m: b.m, v: b.v },
    );
  }
}
