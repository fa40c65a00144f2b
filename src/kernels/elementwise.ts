// Element-wise add, multiply, scale-and-shift, accumulate, and concat / split along the last
// dimension: GPU wrappers and float64 references.
//
// Backward of each op, for the graph:
//   add          da = g, db = g: no kernel (use g itself, or Accumulate into a shared gradient)
//   multiply     MultiplyBackward: da = g * b, db = g * a
//   scaleShift   dx = alpha * g: ScaleShift.backward(gpu, shape, alpha)
//   concat       Split: d_in_k = g[:, segment k]
import body from '../../shaders/elementwise.wgsl';
import rowWalk from '../../shaders/row-walk.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import {
  bindGroup,
  checkBindingSize,
  checkBufferSize,
  checkInteger,
  f32Bits,
  elementsPerThread,
  gridPerThread,
  KernelError,
  pipeline,
  type BindingResource,
  type Dispatch,
} from './kernel.ts';

const source = `${body}\n${rowWalk}`;

const WG = 64;

/** A flat tensor of n elements (the caller passes rows * cols for a matrix). */
export interface ElementwiseShape {
  n: number;
}

export interface AccumulateOption {
  /** Add into the output (a gradient that several ops feed) instead of overwriting it. */
  accumulate?: boolean;
}

export interface ElementwiseOptions extends AccumulateOption {
  /** Elements per thread (default elementsPerThread(gpu)); the same bits whatever it is. */
  perThread?: number;
}

/** The elements per thread an option asks for, checked, or this adapter's default. */
function perThread(gpu: Gpu, kernel: string, opts: { perThread?: number }): number {
  const per = opts.perThread ?? elementsPerThread(gpu);
  checkInteger(kernel, 'perThread', per, 1);
  return per;
}

const fmtN = (s: ElementwiseShape): string => `[${s.n}]`;

function checkN(gpu: Gpu, kernel: string, s: ElementwiseShape): void {
  // An empty tensor is a caller's mistake: a recorded step always has work.
  checkInteger(kernel, 'n', s.n, 1);
  checkBindingSize(gpu, kernel, `a tensor of ${s.n} elements`, s.n * 4);
}

/**
 * Rejects an output bound to the same buffer as an input or another output: one dispatch
 * cannot read and write a buffer through two bindings (WebGPU fails it at submit).
 */
export function checkDistinct(kernel: string, outputs: Record<string, GPUBuffer | null>, inputs: Record<string, GPUBuffer>): void {
  const outs = Object.entries(outputs).filter((e): e is [string, GPUBuffer] => e[1] !== null);
  outs.forEach(([name, buf], i) => {
    for (const [other, b] of [...Object.entries(inputs), ...outs.slice(0, i)]) {
      if (b === buf) throw new KernelError(kernel, `${name} and ${other} are the same buffer; bind a distinct one (for y += x use Accumulate)`);
    }
  });
}

/** One dispatch over `n` elements, `per` to a thread, with bindings given by number. */
function dispatch(gpu: Gpu, label: string, pipe: GPUComputePipeline, resources: Record<number, BindingResource>, n: number, per: number): Dispatch {
  return { label, pipeline: pipe, bindGroup: bindGroup(gpu, pipe, label, resources), grid: gridPerThread(gpu, n, WG, per) };
}

// ---- float64 references --------------------------------------------------------------

export function addRef(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: a.length }, (_, i) => a[i] + b[i]);
}

export function mulRef(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: a.length }, (_, i) => a[i] * b[i]);
}

export function mulBackwardRef(g: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>): { gradA: Float64Array; gradB: Float64Array } {
  return { gradA: mulRef(g, b), gradB: mulRef(g, a) };
}

export function scaleShiftRef(x: ArrayLike<number>, alpha: number, beta: number): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => alpha * x[i] + beta);
}

export function scaleShiftBackwardRef(g: ArrayLike<number>, alpha: number): Float64Array {
  return scaleShiftRef(g, alpha, 0);
}

/** [rows, sum(widths)]: row r is the inputs' rows r side by side. */
export function concatRef(inputs: readonly ArrayLike<number>[], rows: number, widths: readonly number[]): Float64Array {
  const total = widths.reduce((s, w) => s + w, 0);
  const out = new Float64Array(rows * total);
  let off = 0;
  widths.forEach((w, k) => {
    for (let r = 0; r < rows; r++) for (let c = 0; c < w; c++) out[r * total + off + c] = inputs[k][r * w + c];
    off += w;
  });
  return out;
}

/** concat's backward: the gradient's column segments, one [rows, widths[k]] per input. */
export function splitRef(gradOut: ArrayLike<number>, rows: number, widths: readonly number[]): Float64Array[] {
  const total = widths.reduce((s, w) => s + w, 0);
  let off = 0;
  return widths.map((w) => {
    const g = new Float64Array(rows * w);
    for (let r = 0; r < rows; r++) for (let c = 0; c < w; c++) g[r * w + c] = gradOut[r * total + off + c];
    off += w;
    return g;
  });
}

// ---- maps --------------------------------------------------------------------------------

type MapEntry = 'add' | 'mul' | 'scale_shift' | 'accumulate';

/** What add, multiply, scale-shift and accumulate share: params [n, alpha, beta, 0] at binding 0. */
abstract class MapKernel {
  protected constructor(
    protected readonly gpu: Gpu,
    protected readonly pipe: GPUComputePipeline,
    protected readonly params: GPUBuffer,
    readonly shape: ElementwiseShape,
    protected readonly per: number,
  ) {}

  protected static async build(
    gpu: Gpu,
    kernel: string,
    entry: MapEntry,
    shape: ElementwiseShape,
    opts: ElementwiseOptions,
    alpha: number,
    beta: number,
    scope: BufferScope,
  ): Promise<{ pipe: GPUComputePipeline; params: GPUBuffer; per: number }> {
    checkN(gpu, kernel, shape);
    const per = perThread(gpu, kernel, opts);
    const pipe = await pipeline(gpu, 'elementwise', source, entry, { WG, PER: per, ACCUMULATE: opts.accumulate ? 1 : 0 });
    const params = scope.uniform(`${kernel}.params`, [shape.n, f32Bits(alpha), f32Bits(beta), 0]);
    return { pipe, params, per };
  }

  /** `inputs` in binding order: the first goes to binding 1 (a), the second to 2 (b). */
  protected bindMap(kernel: string, inputs: Record<string, GPUBuffer>, out: GPUBuffer): Dispatch {
    const bytes = this.shape.n * 4;
    const resources: Record<number, BindingResource> = { 0: this.params, 3: out };
    Object.entries(inputs).forEach(([name, buf], k) => {
      checkBufferSize(kernel, name, buf, bytes, fmtN(this.shape));
      resources[1 + k] = buf;
    });
    checkBufferSize(kernel, 'out', out, bytes, fmtN(this.shape));
    checkDistinct(kernel, { out }, inputs);
    return dispatch(this.gpu, kernel, this.pipe, resources, this.shape.n, this.per);
  }
}

/** out (+)= a + b. */
export class Add extends MapKernel {
  static readonly kernel = 'elementwise_add';

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: ElementwiseOptions = {}, scope: BufferScope = gpu.buffers): Promise<Add> {
    const { pipe, params, per } = await MapKernel.build(gpu, Add.kernel, 'add', shape, opts, 0, 0, scope);
    return new Add(gpu, pipe, params, shape, per);
  }

  bind(b: { a: GPUBuffer; b: GPUBuffer; out: GPUBuffer }): Dispatch {
    return this.bindMap(Add.kernel, { a: b.a, b: b.b }, b.out);
  }
}

/** out (+)= a * b. */
export class Multiply extends MapKernel {
  static readonly kernel = 'elementwise_mul';

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: ElementwiseOptions = {}, scope: BufferScope = gpu.buffers): Promise<Multiply> {
    const { pipe, params, per } = await MapKernel.build(gpu, Multiply.kernel, 'mul', shape, opts, 0, 0, scope);
    return new Multiply(gpu, pipe, params, shape, per);
  }

  bind(b: { a: GPUBuffer; b: GPUBuffer; out: GPUBuffer }): Dispatch {
    return this.bindMap(Multiply.kernel, { a: b.a, b: b.b }, b.out);
  }
}

export interface ScaleShiftOptions extends ElementwiseOptions {
  alpha: number;
  beta: number;
}

/** out (+)= alpha * x + beta, alpha and beta fixed at create (rounded to f32). */
export class ScaleShift extends MapKernel {
  static readonly kernel = 'elementwise_scale_shift';

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: ScaleShiftOptions, scope: BufferScope = gpu.buffers): Promise<ScaleShift> {
    const k = ScaleShift.kernel;
    for (const name of ['alpha', 'beta'] as const) {
      if (!Number.isFinite(opts[name])) throw new KernelError(k, `${name} must be a finite number, got ${opts[name]}`);
    }
    const { pipe, params, per } = await MapKernel.build(gpu, k, 'scale_shift', shape, opts, opts.alpha, opts.beta, scope);
    return new ScaleShift(gpu, pipe, params, shape, per);
  }

  /** The backward of scale-shift by alpha: dx (+)= alpha * g. Bind it as { x: g, out: dx }. */
  static backward(gpu: Gpu, shape: ElementwiseShape, alpha: number, opts: ElementwiseOptions = {}, scope: BufferScope = gpu.buffers): Promise<ScaleShift> {
    return ScaleShift.create(gpu, shape, { ...opts, alpha, beta: 0 }, scope);
  }

  bind(b: { x: GPUBuffer; out: GPUBuffer }): Dispatch {
    return this.bindMap(ScaleShift.kernel, { x: b.x }, b.out);
  }
}

/** y += x: sums the gradients of a tensor that feeds several ops. */
export class Accumulate extends MapKernel {
  static readonly kernel = 'elementwise_accumulate';

  static async create(gpu: Gpu, shape: ElementwiseShape, scope: BufferScope = gpu.buffers): Promise<Accumulate> {
    const { pipe, params, per } = await MapKernel.build(gpu, Accumulate.kernel, 'accumulate', shape, {}, 0, 0, scope);
    return new Accumulate(gpu, pipe, params, shape, per);
  }

  bind(b: { x: GPUBuffer; y: GPUBuffer }): Dispatch {
    return this.bindMap(Accumulate.kernel, { x: b.x }, b.y);
  }
}

/**
 * gradA (+)= grad * b and gradB (+)= grad * a in one pass. All five buffers must be distinct;
 * for x * x, the gradient 2 g x is Multiply then ScaleShift.backward by 2.
 */
export class MultiplyBackward {
  static readonly kernel = 'elementwise_mul_backward';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: ElementwiseShape,
    private readonly per: number,
  ) {}

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: ElementwiseOptions = {}, scope: BufferScope = gpu.buffers): Promise<MultiplyBackward> {
    const k = MultiplyBackward.kernel;
    checkN(gpu, k, shape);
    const per = perThread(gpu, k, opts);
    const pipe = await pipeline(gpu, 'elementwise', source, 'mul_backward', { WG, PER: per, ACCUMULATE: opts.accumulate ? 1 : 0 });
    const params = scope.uniform(`${k}.params`, [shape.n, 0, 0, 0]);
    return new MultiplyBackward(gpu, pipe, params, shape, per);
  }

  bind(b: { grad: GPUBuffer; a: GPUBuffer; b: GPUBuffer; gradA: GPUBuffer; gradB: GPUBuffer }): Dispatch {
    const k = MultiplyBackward.kernel;
    const bytes = this.shape.n * 4;
    for (const name of ['grad', 'a', 'b', 'gradA', 'gradB'] as const) checkBufferSize(k, name, b[name], bytes, fmtN(this.shape));
    checkDistinct(k, { gradA: b.gradA, gradB: b.gradB }, { grad: b.grad, a: b.a, b: b.b });
    return dispatch(this.gpu, k, this.pipe, { 0: this.params, 1: b.a, 2: b.b, 4: b.grad, 5: b.gradA, 6: b.gradB }, this.shape.n, this.per);
  }
}

// ---- concat / split ------------------------------------------------------------------------

export interface ConcatShape {
  rows: number;
  /** The inputs' widths (at least 2); the output is [rows, sum of widths]. */
  widths: readonly number[];
}

const fmtConcat = (s: ConcatShape): string => `[${s.rows}, ${s.widths.join('+')}]`;

function checkConcat(gpu: Gpu, kernel: string, s: ConcatShape): number {
  checkInteger(kernel, 'rows', s.rows, 1);
  if (s.widths.length < 2) {
    throw new KernelError(kernel, `concatenates at least 2 inputs, got ${s.widths.length} widths (${s.widths.join(', ')})`);
  }
  s.widths.forEach((w, k) => checkInteger(kernel, `widths[${k}]`, w, 1));
  const total = s.widths.reduce((a, w) => a + w, 0);
  checkBindingSize(gpu, kernel, `the concatenation ${fmtConcat(s)}`, s.rows * total * 4);
  return total;
}

/** One copy_block pipeline and one params buffer per input: the block's place in the wide matrix. */
async function blockCopies(
  gpu: Gpu,
  kernel: string,
  s: ConcatShape,
  total: number,
  accumulate: readonly boolean[],
  toWide: boolean,
  per: number,
  scope: BufferScope,
): Promise<{ pipes: GPUComputePipeline[]; params: GPUBuffer[] }> {
  const pipes = await Promise.all(accumulate.map((acc) => pipeline(gpu, 'elementwise', source, 'copy_block', { WG, PER: per, ACCUMULATE: acc ? 1 : 0 })));
  let off = 0;
  const params = s.widths.map((w, k) => {
    // [rows, width, src_stride, src_off, dst_stride, dst_off, 0, 0]
    const words = toWide ? [s.rows, w, w, 0, total, off, 0, 0] : [s.rows, w, total, off, w, 0, 0, 0];
    off += w;
    return scope.uniform(`${kernel}.params${k}`, words);
  });
  return { pipes, params };
}

/** out = [in_0, in_1, …] along the last dimension: one dispatch per input. */
export class Concat {
  static readonly kernel = 'concat';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipes: GPUComputePipeline[],
    private readonly params: GPUBuffer[],
    readonly shape: ConcatShape,
    readonly width: number,
    private readonly per: number,
  ) {}

  static async create(gpu: Gpu, shape: ConcatShape, scope: BufferScope = gpu.buffers): Promise<Concat> {
    const total = checkConcat(gpu, Concat.kernel, shape);
    const per = elementsPerThread(gpu);
    const { pipes, params } = await blockCopies(gpu, Concat.kernel, shape, total, shape.widths.map(() => false), true, per, scope);
    return new Concat(gpu, pipes, params, { rows: shape.rows, widths: [...shape.widths] }, total, per);
  }

  bind(b: { inputs: readonly GPUBuffer[]; out: GPUBuffer }): Dispatch[] {
    const k = Concat.kernel;
    const { rows, widths } = this.shape;
    const f = fmtConcat(this.shape);
    if (b.inputs.length !== widths.length) throw new KernelError(k, `shape ${f} needs ${widths.length} inputs, got ${b.inputs.length}`);
    checkBufferSize(k, 'out', b.out, rows * this.width * 4, f);
    checkDistinct(k, { out: b.out }, Object.fromEntries(b.inputs.map((x, i) => [`inputs[${i}]`, x])));
    return b.inputs.map((input, i) => {
      checkBufferSize(k, `inputs[${i}]`, input, rows * widths[i] * 4, f);
      return dispatch(this.gpu, `${k}[${i}]`, this.pipes[i], { 7: this.params[i], 8: input, 9: b.out }, rows * widths[i], this.per);
    });
  }
}

export interface SplitOptions {
  /** Add into each input's gradient instead of overwriting it: one flag for all, or one per input. */
  accumulate?: boolean | readonly boolean[];
}

/** concat's backward: gradInputs[k] (+)= gradOut[:, segment k]; one dispatch per gradient asked for. */
export class Split {
  static readonly kernel = 'concat_backward';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipes: GPUComputePipeline[],
    private readonly params: GPUBuffer[],
    readonly shape: ConcatShape,
    readonly width: number,
    private readonly per: number,
  ) {}

  static async create(gpu: Gpu, shape: ConcatShape, opts: SplitOptions = {}, scope: BufferScope = gpu.buffers): Promise<Split> {
    const k = Split.kernel;
    const total = checkConcat(gpu, k, shape);
    const acc = opts.accumulate;
    if (Array.isArray(acc) && acc.length !== shape.widths.length) {
      throw new KernelError(k, `accumulate has ${acc.length} flags but shape ${fmtConcat(shape)} has ${shape.widths.length} inputs`);
    }
    const flags = shape.widths.map((_, i) => (Array.isArray(acc) ? !!acc[i] : !!acc));
    const per = elementsPerThread(gpu);
    const { pipes, params } = await blockCopies(gpu, k, shape, total, flags, false, per, scope);
    return new Split(gpu, pipes, params, { rows: shape.rows, widths: [...shape.widths] }, total, per);
  }

  /** `gradInputs[k]` null: input k needs no gradient, and gets no dispatch. */
  bind(b: { gradOut: GPUBuffer; gradInputs: readonly (GPUBuffer | null)[] }): Dispatch[] {
    const k = Split.kernel;
    const { rows, widths } = this.shape;
    const f = fmtConcat(this.shape);
    if (b.gradInputs.length !== widths.length) throw new KernelError(k, `shape ${f} needs ${widths.length} gradInputs, got ${b.gradInputs.length}`);
    checkBufferSize(k, 'gradOut', b.gradOut, rows * this.width * 4, f);
    checkDistinct(k, Object.fromEntries(b.gradInputs.map((g, i) => [`gradInputs[${i}]`, g])), { gradOut: b.gradOut });
    const out: Dispatch[] = [];
    b.gradInputs.forEach((g, i) => {
      if (!g) return;
      checkBufferSize(k, `gradInputs[${i}]`, g, rows * widths[i] * 4, f);
      out.push(dispatch(this.gpu, `${k}[${i}]`, this.pipes[i], { 7: this.params[i], 8: b.gradOut, 9: g }, rows * widths[i], this.per));
    });
    return out;
  }
}

export interface BlockShape {
  rows: number;
  width: number;
  srcStride: number;
  srcOffset: number;
  dstStride: number;
  dstOffset: number;
}

/**
 * dst[r, dstOffset + c] (+)= src[r, srcOffset + c] for r < rows, c < width (strides in
 * elements): a slice of a sequence buffer at an element offset, where binding offsets would
 * need 256-byte alignment (an LSTM's h[t-1] inside [T, B, H]).
 */
export class CopyBlock {
  static readonly kernel = 'copy_block';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: BlockShape,
    private readonly per: number,
  ) {}

  static async create(gpu: Gpu, shape: BlockShape, opts: ElementwiseOptions = {}, scope: BufferScope = gpu.buffers): Promise<CopyBlock> {
    const k = CopyBlock.kernel;
    checkInteger(k, 'rows', shape.rows, 1);
    checkInteger(k, 'width', shape.width, 1);
    for (const key of ['srcStride', 'srcOffset', 'dstStride', 'dstOffset'] as const) checkInteger(k, key, shape[key], 0);
    const per = perThread(gpu, k, opts);
    const pipe = await pipeline(gpu, 'elementwise', source, 'copy_block', { WG, PER: per, ACCUMULATE: opts.accumulate ? 1 : 0 });
    const s = shape;
    const params = scope.uniform(`${k}.params`, [s.rows, s.width, s.srcStride, s.srcOffset, s.dstStride, s.dstOffset, 0, 0]);
    return new CopyBlock(gpu, pipe, params, { ...shape }, per);
  }

  bind(b: { src: GPUBuffer; dst: GPUBuffer }): Dispatch {
    const k = CopyBlock.kernel;
    const s = this.shape;
    const what = `${s.rows}x${s.width} block from offset ${s.srcOffset} (stride ${s.srcStride}) to offset ${s.dstOffset} (stride ${s.dstStride})`;
    checkBufferSize(k, 'src', b.src, ((s.rows - 1) * s.srcStride + s.srcOffset + s.width) * 4, what);
    checkBufferSize(k, 'dst', b.dst, ((s.rows - 1) * s.dstStride + s.dstOffset + s.width) * 4, what);
    checkDistinct(k, { dst: b.dst }, { src: b.src });
    return dispatch(this.gpu, k, this.pipe, { 7: this.params, 8: b.src, 9: b.dst }, s.rows * s.width, this.per);
  }
}
