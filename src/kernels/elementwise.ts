// Element-wise add, multiply, scale-and-shift, accumulate, and concat / split along the last
// dimension: GPU wrappers and float64 references.
//
// Backward of each op, for the graph:
//   add          da = g, db = g: no kernel (use g itself, or Accumulate into a shared gradient)
//   multiply     MultiplyBackward: da = g * b, db = g * a
//   scaleShift   dx = alpha * g: ScaleShift with alpha and beta 0
//   concat       Split: d_in_k = g[:, segment k]
import body from '../../shaders/elementwise.wgsl';
import rowWalk from '../../shaders/row-walk.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import { checkInteger, elementsPerThread, f32Bits, gridPerThread, KernelError, type Dispatch } from './kernel.ts';
import { Kernel, type EntrySpec } from './spec.ts';

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

function checkN(kernel: string, s: ElementwiseShape): void {
  // An empty tensor is a caller's mistake: a recorded step always has work.
  checkInteger(kernel, 'n', s.n, 1);
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

/** The spec of an elementwise.wgsl entry point over n elements, params mp [n, alpha, beta, 0]. */
function mapSpec<B extends string>(
  gpu: Gpu,
  kernel: string,
  entry: MapEntry | 'mul_backward',
  shape: ElementwiseShape,
  opts: ElementwiseOptions,
  params: { alpha: number; beta: number },
  names: readonly B[],
): EntrySpec<B> {
  checkN(kernel, shape);
  const per = perThread(gpu, kernel, opts);
  return {
    kernel,
    source,
    entry,
    constants: { WG, PER: per, ACCUMULATE: opts.accumulate ? 1 : 0 },
    params: { mp: [shape.n, f32Bits(params.alpha), f32Bits(params.beta), 0] },
    sizes: Object.fromEntries(names.map((name) => [name, shape.n * 4])) as Record<B, number>,
    shape: fmtN(shape),
    grid: gridPerThread(gpu, shape.n, WG, per),
  };
}

/** out (+)= a + b. */
export class Add {
  static readonly kernel = 'elementwise_add';
  private constructor(private readonly k: Kernel<'a' | 'b' | 'out'>) {}

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: ElementwiseOptions = {}, scope: BufferScope = gpu.buffers): Promise<Add> {
    return new Add(await Kernel.create(gpu, mapSpec(gpu, Add.kernel, 'add', shape, opts, { alpha: 0, beta: 0 }, ['a', 'b', 'out']), scope));
  }

  bind(b: { a: GPUBuffer; b: GPUBuffer; out: GPUBuffer }): Dispatch {
    return this.k.bind({ a: b.a, b: b.b, out: b.out });
  }
}

/** out (+)= a * b. */
export class Multiply {
  static readonly kernel = 'elementwise_mul';
  private constructor(private readonly k: Kernel<'a' | 'b' | 'out'>) {}

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: ElementwiseOptions = {}, scope: BufferScope = gpu.buffers): Promise<Multiply> {
    return new Multiply(await Kernel.create(gpu, mapSpec(gpu, Multiply.kernel, 'mul', shape, opts, { alpha: 0, beta: 0 }, ['a', 'b', 'out']), scope));
  }

  bind(b: { a: GPUBuffer; b: GPUBuffer; out: GPUBuffer }): Dispatch {
    return this.k.bind({ a: b.a, b: b.b, out: b.out });
  }
}

export interface ScaleShiftOptions extends ElementwiseOptions {
  alpha: number;
  beta: number;
}

/** out (+)= alpha * x + beta, alpha and beta fixed at create (rounded to f32). */
export class ScaleShift {
  static readonly kernel = 'elementwise_scale_shift';
  private constructor(private readonly k: Kernel<'a' | 'out'>) {}

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: ScaleShiftOptions, scope: BufferScope = gpu.buffers): Promise<ScaleShift> {
    const k = ScaleShift.kernel;
    for (const name of ['alpha', 'beta'] as const) {
      if (!Number.isFinite(opts[name])) throw new KernelError(k, `${name} must be a finite number, got ${opts[name]}`);
    }
    return new ScaleShift(await Kernel.create(gpu, mapSpec(gpu, k, 'scale_shift', shape, opts, opts, ['a', 'out']), scope));
  }

  bind(b: { x: GPUBuffer; out: GPUBuffer }): Dispatch {
    return this.k.bind({ a: b.x, out: b.out });
  }
}

/** y += x: sums the gradients of a tensor that feeds several ops. */
export class Accumulate {
  static readonly kernel = 'elementwise_accumulate';
  private constructor(private readonly k: Kernel<'a' | 'out'>) {}

  static async create(gpu: Gpu, shape: ElementwiseShape, scope: BufferScope = gpu.buffers): Promise<Accumulate> {
    return new Accumulate(await Kernel.create(gpu, mapSpec(gpu, Accumulate.kernel, 'accumulate', shape, {}, { alpha: 0, beta: 0 }, ['a', 'out']), scope));
  }

  bind(b: { x: GPUBuffer; y: GPUBuffer }): Dispatch {
    return this.k.bind({ a: b.x, out: b.y });
  }
}

/**
 * gradA (+)= grad * b and gradB (+)= grad * a in one pass. The gradients must be distinct from
 * the inputs and each other; for x * x, the gradient 2 g x is Multiply then ScaleShift by 2.
 */
export class MultiplyBackward {
  static readonly kernel = 'elementwise_mul_backward';
  private constructor(private readonly k: Kernel<'a' | 'b' | 'grad' | 'grad_a' | 'grad_b'>) {}

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: ElementwiseOptions = {}, scope: BufferScope = gpu.buffers): Promise<MultiplyBackward> {
    const spec = mapSpec(gpu, MultiplyBackward.kernel, 'mul_backward', shape, opts, { alpha: 0, beta: 0 }, ['a', 'b', 'grad', 'grad_a', 'grad_b']);
    return new MultiplyBackward(await Kernel.create(gpu, spec, scope));
  }

  bind(b: { grad: GPUBuffer; a: GPUBuffer; b: GPUBuffer; gradA: GPUBuffer; gradB: GPUBuffer }): Dispatch {
    return this.k.bind({ a: b.a, b: b.b, grad: b.grad, grad_a: b.gradA, grad_b: b.gradB });
  }
}

// ---- concat / split ------------------------------------------------------------------------

export interface ConcatShape {
  rows: number;
  /** The inputs' widths (at least 2); the output is [rows, sum of widths]. */
  widths: readonly number[];
}

const fmtConcat = (s: ConcatShape): string => `[${s.rows}, ${s.widths.join('+')}]`;

function checkConcat(kernel: string, s: ConcatShape): number {
  checkInteger(kernel, 'rows', s.rows, 1);
  if (s.widths.length < 2) {
    throw new KernelError(kernel, `concatenates at least 2 inputs, got ${s.widths.length} widths (${s.widths.join(', ')})`);
  }
  s.widths.forEach((w, k) => checkInteger(kernel, `widths[${k}]`, w, 1));
  return s.widths.reduce((a, w) => a + w, 0);
}

/** One copy_block kernel per input, named kernel[k]: the block's place in the wide matrix. */
function blockCopies(gpu: Gpu, kernel: string, s: ConcatShape, total: number, accumulate: readonly boolean[], toWide: boolean, scope: BufferScope): Promise<Kernel<'src' | 'dst'>[]> {
  const per = elementsPerThread(gpu);
  let off = 0;
  return Promise.all(
    s.widths.map((w, k) => {
      // [rows, width, src_stride, src_off, dst_stride, dst_off, 0, 0]
      const words = toWide ? [s.rows, w, w, 0, total, off, 0, 0] : [s.rows, w, total, off, w, 0, 0, 0];
      off += w;
      const [narrow, wide] = [s.rows * w * 4, s.rows * total * 4];
      return Kernel.create(
        gpu,
        {
          kernel: `${kernel}[${k}]`,
          source,
          entry: 'copy_block',
          constants: { WG, PER: per, ACCUMULATE: accumulate[k] ? 1 : 0 },
          params: { bp: words },
          sizes: toWide ? { src: narrow, dst: wide } : { src: wide, dst: narrow },
          shape: fmtConcat(s),
          grid: gridPerThread(gpu, s.rows * w, WG, per),
        },
        scope,
      );
    }),
  );
}

/** out = [in_0, in_1, …] along the last dimension: one dispatch per input. */
export class Concat {
  static readonly kernel = 'concat';

  private constructor(
    private readonly copies: readonly Kernel<'src' | 'dst'>[],
    readonly shape: ConcatShape,
    readonly width: number,
  ) {}

  static async create(gpu: Gpu, shape: ConcatShape, scope: BufferScope = gpu.buffers): Promise<Concat> {
    const total = checkConcat(Concat.kernel, shape);
    const copies = await blockCopies(gpu, Concat.kernel, shape, total, shape.widths.map(() => false), true, scope);
    return new Concat(copies, { rows: shape.rows, widths: [...shape.widths] }, total);
  }

  bind(b: { inputs: readonly GPUBuffer[]; out: GPUBuffer }): Dispatch[] {
    const n = this.shape.widths.length;
    if (b.inputs.length !== n) throw new KernelError(Concat.kernel, `shape ${fmtConcat(this.shape)} needs ${n} inputs, got ${b.inputs.length}`);
    return b.inputs.map((input, i) => this.copies[i].bind({ src: input, dst: b.out }));
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
    private readonly copies: readonly Kernel<'src' | 'dst'>[],
    readonly shape: ConcatShape,
    readonly width: number,
  ) {}

  static async create(gpu: Gpu, shape: ConcatShape, opts: SplitOptions = {}, scope: BufferScope = gpu.buffers): Promise<Split> {
    const k = Split.kernel;
    const total = checkConcat(k, shape);
    const acc = opts.accumulate;
    if (Array.isArray(acc) && acc.length !== shape.widths.length) {
      throw new KernelError(k, `accumulate has ${acc.length} flags but shape ${fmtConcat(shape)} has ${shape.widths.length} inputs`);
    }
    const flags = shape.widths.map((_, i) => (Array.isArray(acc) ? !!acc[i] : !!acc));
    const copies = await blockCopies(gpu, k, shape, total, flags, false, scope);
    return new Split(copies, { rows: shape.rows, widths: [...shape.widths] }, total);
  }

  /** `gradInputs[k]` null: input k needs no gradient, and gets no dispatch. */
  bind(b: { gradOut: GPUBuffer; gradInputs: readonly (GPUBuffer | null)[] }): Dispatch[] {
    const k = Split.kernel;
    const n = this.shape.widths.length;
    if (b.gradInputs.length !== n) throw new KernelError(k, `shape ${fmtConcat(this.shape)} needs ${n} gradInputs, got ${b.gradInputs.length}`);
    // Separate dispatches: two gradients in one buffer would not fail in WebGPU, only overwrite each other.
    b.gradInputs.forEach((g, i) => {
      const j = b.gradInputs.indexOf(g);
      if (g && j !== i) throw new KernelError(k, `gradInputs[${i}] and gradInputs[${j}] are the same buffer; bind a distinct one`);
    });
    return b.gradInputs.flatMap((g, i) => (g ? [this.copies[i].bind({ src: b.gradOut, dst: g })] : []));
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
  private constructor(private readonly k: Kernel<'src' | 'dst'>) {}

  static async create(gpu: Gpu, shape: BlockShape, opts: ElementwiseOptions = {}, scope: BufferScope = gpu.buffers): Promise<CopyBlock> {
    const kernel = CopyBlock.kernel;
    const s = shape;
    checkInteger(kernel, 'rows', s.rows, 1);
    checkInteger(kernel, 'width', s.width, 1);
    for (const key of ['srcStride', 'srcOffset', 'dstStride', 'dstOffset'] as const) checkInteger(kernel, key, s[key], 0);
    const per = perThread(gpu, kernel, opts);
    const spec = {
      kernel,
      source,
      entry: 'copy_block',
      constants: { WG, PER: per, ACCUMULATE: opts.accumulate ? 1 : 0 },
      params: { bp: [s.rows, s.width, s.srcStride, s.srcOffset, s.dstStride, s.dstOffset, 0, 0] },
      sizes: { src: ((s.rows - 1) * s.srcStride + s.srcOffset + s.width) * 4, dst: ((s.rows - 1) * s.dstStride + s.dstOffset + s.width) * 4 },
      shape: `${s.rows}x${s.width} block from offset ${s.srcOffset} (stride ${s.srcStride}) to offset ${s.dstOffset} (stride ${s.dstStride})`,
      grid: gridPerThread(gpu, s.rows * s.width, WG, per),
    };
    return new CopyBlock(await Kernel.create(gpu, spec, scope));
  }

  bind(b: { src: GPUBuffer; dst: GPUBuffer }): Dispatch {
    return this.k.bind({ src: b.src, dst: b.dst });
  }
}
