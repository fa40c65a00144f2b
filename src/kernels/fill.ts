// Fill a tensor with a constant (zeroing inside a compute pass).
import source from '../../shaders/fill.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import { bindGroup, checkBufferSize, checkInteger, elementsPerThread, gridPerThread, pipeline, type Dispatch } from './kernel.ts';

const WG = 64;

export class Fill {
  static readonly kernel = 'fill';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly n: number,
    private readonly per: number,
  ) {}

  static async create(gpu: Gpu, n: number, value = 0, scope: BufferScope = gpu.buffers): Promise<Fill> {
    checkInteger(Fill.kernel, 'n', n, 1);
    const per = elementsPerThread(gpu);
    const pipe = await pipeline(gpu, 'fill', source, 'fill', { WG, PER: per });
    const words = new ArrayBuffer(16);
    new Uint32Array(words, 0, 1)[0] = n;
    new Float32Array(words, 4, 1)[0] = value;
    const params = scope.create('fill.params', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    gpu.device.queue.writeBuffer(params, 0, words);
    return new Fill(gpu, pipe, params, n, per);
  }

  bind(out: GPUBuffer): Dispatch {
    checkBufferSize(Fill.kernel, 'out', out, this.n * 4, `[${this.n}]`);
    return {
      label: Fill.kernel,
      pipeline: this.pipe,
      bindGroup: bindGroup(this.gpu, this.pipe, Fill.kernel, { 0: this.params, 1: out }),
      grid: gridPerThread(this.gpu, this.n, WG, this.per),
    };
  }
}
