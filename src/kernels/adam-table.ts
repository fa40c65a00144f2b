// Dense Adam over an embedding table with the batch's gradient summed in the same pass
// (shaders/adam.wgsl, adam_table): one dispatch instead of zero-fill, segmented scatter-add
// and Adam, with the same bits. The host derives the row → segment map with the CSR.
import source from '../../shaders/adam.wgsl';
import type { BufferScope } from '../gpu/buffers.ts';
import type { Gpu } from '../gpu/context.ts';
import { adamConstants, checkStep, checkWg, DEFAULT_WG, type AdamOptions } from './adam.ts';
import { csrWords, segmentCapacity, type EmbeddingShape } from './embedding.ts';
import { bindGroup, checkBindingSize, checkBufferSize, checkInteger, elementsPerThread, gridPerThread, KernelError, pipeline, type Constants, type Dispatch } from './kernel.ts';

export class TableAdam {
  static readonly kernel = 'table_adam';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    private readonly wg: number,
    readonly shape: EmbeddingShape,
    /** Quads of four elements, `per` of them per thread (dim % 4 == 0; same bits). */
    readonly vec4: boolean,
    private readonly per: number,
  ) {}

  static async create(gpu: Gpu, shape: EmbeddingShape, opts: AdamOptions & { vec4?: boolean } = {}, scope: BufferScope = gpu.buffers): Promise<TableAdam> {
    const k = TableAdam.kernel;
    checkInteger(k, 'rows', shape.rows, 1);
    checkInteger(k, 'dim', shape.dim, 1);
    checkInteger(k, 'n (indices per batch)', shape.n, 1);
    const wg = opts.wg ?? DEFAULT_WG;
    checkWg(gpu, k, wg);
    checkBindingSize(gpu, k, `the table [${shape.rows}, ${shape.dim}]`, shape.rows * shape.dim * 4);
    const vec4 = opts.vec4 ?? shape.dim % 4 === 0;
    if (vec4 && shape.dim % 4 !== 0) throw new KernelError(k, `vec4 needs dim divisible by 4, got ${shape.dim}`);
    // Only the quad kernel loops; the scalar one keeps a thread per element.
    const per = vec4 ? elementsPerThread(gpu) : 1;
    const constants: Constants = { WG: wg, ...adamConstants(opts) };
    if (vec4) constants.PER = per;
    const pipe = await pipeline(gpu, 'adam', source, vec4 ? 'adam_table4' : 'adam_table', constants);
    const params = scope.uniform(`${k}.params`, [shape.dim, segmentCapacity(shape), shape.rows, 0]);
    return new TableAdam(gpu, pipe, params, wg, shape, vec4, per);
  }

  /** `gradRows`: the [n, dim] gradient of the gathered rows; `csr` and `segOf` from the batch's indices. */
  bind(b: { step: GPUBuffer; csr: GPUBuffer; segOf: GPUBuffer; gradRows: GPUBuffer; param: GPUBuffer; m: GPUBuffer; v: GPUBuffer }): Dispatch {
    const k = TableAdam.kernel;
    const { rows, dim, n } = this.shape;
    const shape = `[rows=${rows}, dim=${dim}] with ${n} indices`;
    checkStep(k, b.step);
    checkBufferSize(k, 'csr', b.csr, csrWords(this.shape) * 4, shape);
    checkBufferSize(k, 'segOf', b.segOf, rows * 4, shape);
    checkBufferSize(k, 'gradRows', b.gradRows, n * dim * 4, shape);
    for (const name of ['param', 'm', 'v'] as const) checkBufferSize(k, name, b[name], rows * dim * 4, shape);
    const common = { 0: b.step, 8: this.params, 9: b.csr, 10: b.segOf };
    const resources = this.vec4 ? { ...common, 15: b.gradRows, 12: b.param, 13: b.m, 14: b.v } : { ...common, 11: b.gradRows, 2: b.param, 4: b.m, 5: b.v };
    const items = this.vec4 ? (rows * dim) / 4 : rows * dim;
    return { label: k, pipeline: this.pipe, bindGroup: bindGroup(this.gpu, this.pipe, k, resources), grid: gridPerThread(this.gpu, items, this.wg, this.per) };
  }
}
