// Matrix multiply with a fused bias + activation epilogue (a dense layer's forward in one
// dispatch), in several interchangeable variants, and the dense layer's backward helpers:
// the activation backward and a deterministic bias gradient. References: ./matmul-ref.ts.
//
// A dense layer Y = act(X·W + b), X [batch, in], W [in, out], b [out], runs as
//   forward:  Matmul {m: batch, k: in,  n: out} with bias and activation   (C = Y)
//   backward: ActBackward (dZ from dY and Y), then
//             Matmul {m: batch, k: out, n: in}  transB: dX = dZ·Wᵀ
//             Matmul {m: in, k: batch, n: out}  transA: dW = Xᵀ·dZ   (accumulate: sum over timesteps)
//             BiasGrad {m: batch, n: out}:               db = Σ_rows dZ
import epilogue from '../../shaders/matmul-epilogue.wgsl';
import body from '../../shaders/matmul.wgsl';
import vec4Body from '../../shaders/matmul-vec4.wgsl';
import sgBody from '../../shaders/matmul-sg.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import { checkInteger, elementsPerThread, grid1d, gridPerThread, KernelError, type Dispatch } from './kernel.ts';
import { Kernel, type EntrySpec } from './spec.ts';
import type { Activation, MatmulShape } from './matmul-ref.ts';

export type { Activation, MatmulShape } from './matmul-ref.ts';

const source = `${epilogue}\n${body}`;
const vec4Source = `${epilogue}\n${vec4Body}`;
const sgSource = `enable subgroups;\n${source}\n${sgBody}`;
/** Every matmul variant's WGSL, for the autotuner's cache key. */
export const MATMUL_SOURCE = `${source}\n${vec4Body}\n${sgBody}`;
export { actBackwardRef, activateRef, biasGradRef, denseBackwardRef, denseForwardRef, matmulAbsRef, matmulErrorBound, matmulRef } from './matmul-ref.ts';

/** Activation codes shared with ACT in shaders/matmul.wgsl. */
export const ACTIVATIONS: Readonly<Record<Activation, number>> = { none: 0, relu: 1, sigmoid: 2, tanh: 3 };

/**
 * Every way to compute the same product, for an autotuner: `Matmul.create(gpu, shape, { ...opts, variant })`
 * gives the same result (to rounding) with each, for every shape, transpose and epilogue.
 * - naive: one thread per output.
 * - tiled8, tiled16: 8x8 / 16x16 tiles of A and B in workgroup memory (GPUs).
 * - reg4x4: each thread a 4x4 block in registers, no barriers (fastest on SwiftShader / CPUs).
 * - reg4x4v: reg4x4 reading A and B as vec4s, where the shape allows (see vec4Fits); reg4x4 elsewhere.
 * - sg4: a 16x16 tile per subgroup of four lanes sharing loads (SwiftShader; see sgFits).
 * - sg4w: sg4 with a 16x32 tile, fewer loads per multiply-add but more registers (see sgFits).
 */
export const MATMUL_VARIANTS = ['naive', 'tiled8', 'tiled16', 'reg4x4', 'reg4x4v', 'sg4', 'sg4w'] as const;
export type MatmulVariant = (typeof MATMUL_VARIANTS)[number];

/** The default where nothing has been measured: the fastest on SwiftShader, our CI adapter. */
export const DEFAULT_MATMUL_VARIANT: MatmulVariant = 'reg4x4';

interface Geometry {
  entryPoint: string;
  /** The TILE override: the workgroup side, or for sg4 / sg4w the subgroups per workgroup. */
  tile: number;
  /** Columns and rows of C one workgroup computes. */
  span: readonly [number, number];
}

const square = (entryPoint: string, side: number, perThread: number): Geometry => ({ entryPoint, tile: side, span: [side * perThread, side * perThread] });

const GEOMETRY: Record<MatmulVariant, Geometry> = {
  naive: square('matmul_naive', 8, 1),
  tiled8: square('matmul_tiled', 8, 1),
  tiled16: square('matmul_tiled', 16, 1),
  reg4x4: square('matmul_reg4x4', 8, 4),
  reg4x4v: square('matmul_reg4x4v', 8, 4),
  // Up to four subgroups side by side, each a 16x16 (sg4w: 16x32) tile (see sgGeometry).
  sg4: { entryPoint: 'matmul_sg4', tile: 4, span: [64, 16] },
  sg4w: { entryPoint: 'matmul_sg4w', tile: 4, span: [128, 16] },
};

/** The subgroup variants, and the columns of C one subgroup computes. */
const SG_COLS: Partial<Record<MatmulVariant, number>> = { sg4: 16, sg4w: 32 };

/**
 * sg4's and sg4w's subgroups per workgroup: the most (up to 4) that divide N's tiles (16 or 32
 * columns each), so no subgroup recomputes a clamped tile (N = 96 has 6 tiles of 16: 3 per
 * workgroup, not 4 and 4 with 2 idle). Past 16 tiles the waste of 4 is at most 3/16.
 */
function sgGeometry(variant: MatmulVariant, cols: number, n: number): Geometry {
  const tiles = Math.ceil(n / cols);
  const tile = tiles >= 16 ? 4 : [4, 3, 2, 1].find((d) => tiles % d === 0) ?? 1;
  return { ...GEOMETRY[variant], tile, span: [cols * tile, 16] };
}

/** Whether every subgroup tile of the grid lies inside C, so the sg epilogue needs no bounds checks. */
function fullTiles(shape: MatmulShape, geo: Geometry): boolean {
  return shape.m % geo.span[1] === 0 && shape.n % geo.span[0] === 0;
}

/** sg4 and sg4w need subgroups of exactly four invocations (SwiftShader's SIMD width). */
export function sgFits(gpu: Gpu): boolean {
  return gpu.fixedSubgroupSize === 4;
}

/** The variants this device can run. */
export function matmulVariantsFor(gpu: Gpu): MatmulVariant[] {
  return MATMUL_VARIANTS.filter((v) => SG_COLS[v] === undefined || sgFits(gpu));
}

/** reg4x4v reads whole vec4s inside rows: K, and the stored row length of each operand, divisible by 4. */
export function vec4Fits(s: MatmulShape, o: { transA?: boolean; transB?: boolean }): boolean {
  return s.k % 4 === 0 && (!o.transA || s.m % 4 === 0) && (o.transB || s.n % 4 === 0);
}

export interface MatmulOptions {
  variant?: MatmulVariant;
  /** A is stored [k, m] and used transposed. */
  transA?: boolean;
  /** B is stored [n, k] and used transposed. */
  transB?: boolean;
  /** Add bias[n] to every row (bind a `bias` buffer of n floats). */
  bias?: boolean;
  activation?: Activation;
  /** C += act(op(A)·op(B) + bias) instead of C = ...: gradients of a weight used at several timesteps. */
  accumulate?: boolean;
}

const fmtShape = (s: MatmulShape, o: MatmulOptions): string =>
  `op(A)[${s.m}x${s.k}]${o.transA ? ' (A stored transposed)' : ''} · op(B)[${s.k}x${s.n}]${o.transB ? ' (B stored transposed)' : ''}`;

function checkMatmulShape(kernel: string, s: MatmulShape): void {
  // A zero size is a caller's mistake: a recorded step always has work (and WebGPU has no
  // empty bindings).
  checkInteger(kernel, 'm', s.m, 1);
  checkInteger(kernel, 'n', s.n, 1);
  checkInteger(kernel, 'k', s.k, 1);
}

/**
 * Checks that the inner dimensions of two stored matrices agree and returns the product's shape:
 * `aDims`, `bDims` are [rows, cols] as stored.
 */
export function matmulShapeOf(aDims: readonly [number, number], bDims: readonly [number, number], opts: { transA?: boolean; transB?: boolean } = {}): MatmulShape {
  const [m, ka] = opts.transA ? [aDims[1], aDims[0]] : aDims;
  const [kb, n] = opts.transB ? [bDims[1], bDims[0]] : bDims;
  if (ka !== kb) {
    throw new KernelError(
      Matmul.kernel,
      `inner dimensions differ: op(A) is [${m}x${ka}] (A stored [${aDims[0]}x${aDims[1]}]${opts.transA ? ', transposed' : ''}) ` +
        `but op(B) is [${kb}x${n}] (B stored [${bDims[0]}x${bDims[1]}]${opts.transB ? ', transposed' : ''})`,
    );
  }
  return { m, n, k: ka };
}

export class Matmul {
  static readonly kernel = 'matmul';

  private constructor(
    private readonly kernel: Kernel<string>,
    /** Bound in place of a bias when there is none: 'auto' layouts keep the binding. */
    private readonly noBias: GPUBuffer | null,
    readonly shape: MatmulShape,
    readonly options: Readonly<Required<MatmulOptions>>,
  ) {}

  /** Uniform p (fixed at create): u32 [m, n, k, 0]. Nothing changes per step. */
  static async create(gpu: Gpu, shape: MatmulShape, opts: MatmulOptions = {}, scope: BufferScope = gpu.buffers): Promise<Matmul> {
    const k = Matmul.kernel;
    const o: Required<MatmulOptions> = {
      variant: opts.variant ?? DEFAULT_MATMUL_VARIANT,
      transA: opts.transA ?? false,
      transB: opts.transB ?? false,
      bias: opts.bias ?? false,
      activation: opts.activation ?? 'none',
      accumulate: opts.accumulate ?? false,
    };
    // reg4x4v on a shape it cannot read as vec4s is reg4x4: the same tile and the same bits.
    if (o.variant === 'reg4x4v' && !vec4Fits(shape, o)) o.variant = 'reg4x4';
    const sgCols = Object.hasOwn(SG_COLS, o.variant) ? SG_COLS[o.variant] : undefined;
    const geo = sgCols !== undefined ? sgGeometry(o.variant, sgCols, shape.n) : GEOMETRY[o.variant];
    if (!geo) throw new KernelError(k, `unknown variant "${String(o.variant)}"; choose one of ${MATMUL_VARIANTS.join(', ')}`);
    if (sgCols !== undefined && !sgFits(gpu)) {
      throw new KernelError(k, `variant ${o.variant} needs the subgroups feature with subgroups of exactly 4 invocations; this device has ${gpu.fixedSubgroupSize === null ? 'no fixed subgroup size' : `subgroups of ${gpu.fixedSubgroupSize}`}`);
    }
    if (!(o.activation in ACTIVATIONS)) throw new KernelError(k, `unknown activation "${String(o.activation)}"; choose one of ${Object.keys(ACTIVATIONS).join(', ')}`);
    checkMatmulShape(k, shape);
    const what = fmtShape(shape, o);
    const grid: [number, number] = [Math.ceil(shape.n / geo.span[0]), Math.ceil(shape.m / geo.span[1])];
    const vec4 = o.variant === 'reg4x4v';
    const code = vec4 ? vec4Source : sgCols !== undefined ? sgSource : source;
    const { m, n } = shape;
    const spec: EntrySpec<string> = {
      kernel: k,
      source: code,
      entry: geo.entryPoint,
      constants: {
        TILE: geo.tile,
        TRANS_A: Number(o.transA),
        TRANS_B: Number(o.transB),
        HAS_BIAS: Number(o.bias),
        ACT: ACTIVATIONS[o.activation],
        ACCUMULATE: Number(o.accumulate),
        ...(sgCols !== undefined ? { FULL_TILES: Number(fullTiles(shape, geo)) } : {}),
      },
      params: { p: [m, n, shape.k, 0] },
      // The vec4 variant reads A and B through vec4 bindings of the same buffers.
      sizes: { [vec4 ? 'a4' : 'a']: m * shape.k * 4, [vec4 ? 'b4' : 'b']: shape.k * n * 4, bias: o.bias ? n * 4 : 16, c: m * n * 4 },
      shape: what,
      grid,
    };
    const kernel = await Kernel.create(gpu, spec, scope);
    const noBias = o.bias ? null : scope.create(`${k}.no-bias`, 16);
    return new Matmul(kernel, noBias, shape, o);
  }

  /** A [m,k] (or [k,m] with transA), B [k,n] (or [n,k] with transB), bias [n] when created with `bias`, C [m,n]. */
  bind(bufs: { a: GPUBuffer; b: GPUBuffer; c: GPUBuffer; bias?: GPUBuffer }): Dispatch {
    const name = Matmul.kernel;
    if (this.options.bias && !bufs.bias) throw new KernelError(name, `created with bias: bind a bias buffer of ${this.shape.n} floats`);
    if (!this.options.bias && bufs.bias) throw new KernelError(name, 'a bias buffer was given but the kernel was created without bias: create it with { bias: true }');
    const bias = (bufs.bias ?? this.noBias) as GPUBuffer;
    const d = this.kernel.bind(
      this.options.variant === 'reg4x4v' ? { a4: bufs.a, b4: bufs.b, bias, c: bufs.c } : { a: bufs.a, b: bufs.b, bias, c: bufs.c },
    );
    return { ...d, label: `${name}.${this.options.variant}` };
  }
}

const WG = 64;

/** An elementwise activation kernel (forward or backward) over `count` elements. */
async function actKernel<B extends string>(gpu: Gpu, kernel: string, entry: string, count: number, activation: Activation, buffers: readonly B[], scope: BufferScope): Promise<Kernel<B>> {
  checkInteger(kernel, 'count', count, 1);
  if (!(activation in ACTIVATIONS)) throw new KernelError(kernel, `unknown activation "${String(activation)}"; choose one of ${Object.keys(ACTIVATIONS).join(', ')}`);
  const per = elementsPerThread(gpu);
  const spec = {
    kernel,
    source,
    entry,
    constants: { WG, PER: per, ACT: ACTIVATIONS[activation] },
    params: { ap: [count, 0, 0, 0] },
    sizes: Object.fromEntries(buffers.map((b) => [b, count * 4])),
    shape: `${count} elements (${activation})`,
    grid: gridPerThread(gpu, count, WG, per),
  };
  return (await Kernel.create(gpu, spec, scope)) as Kernel<B>;
}

/** Y = act(X), elementwise: a layer's activation where the matmul epilogue cannot apply it. */
export class ActForward {
  static readonly kernel = 'matmul_act_forward';

  private constructor(
    private readonly k: Kernel<'x_in' | 'c'>,
    readonly count: number,
    readonly activation: Activation,
  ) {}

  /** `count` elements; Y must be a second buffer. */
  static async create(gpu: Gpu, count: number, opts: { activation: Activation }, scope: BufferScope = gpu.buffers): Promise<ActForward> {
    return new ActForward(await actKernel(gpu, ActForward.kernel, 'act_forward', count, opts.activation, ['x_in', 'c'] as const, scope), count, opts.activation);
  }

  bind(b: { x: GPUBuffer; y: GPUBuffer }): Dispatch {
    return this.k.bind({ x_in: b.x, c: b.y });
  }
}

/** dZ = dY ⊙ act'(Z) from the layer's output Y = act(Z): relu → [Y > 0], sigmoid → Y(1-Y), tanh → 1-Y². */
export class ActBackward {
  static readonly kernel = 'matmul_act_backward';

  private constructor(
    private readonly k: Kernel<'dy' | 'y_out' | 'dz'>,
    readonly count: number,
    readonly activation: Activation,
  ) {}

  /** `count` elements; dZ must be a third buffer. */
  static async create(gpu: Gpu, count: number, opts: { activation: Activation }, scope: BufferScope = gpu.buffers): Promise<ActBackward> {
    return new ActBackward(await actKernel(gpu, ActBackward.kernel, 'act_backward', count, opts.activation, ['dy', 'y_out', 'dz'] as const, scope), count, opts.activation);
  }

  bind(b: { dy: GPUBuffer; y: GPUBuffer; dz: GPUBuffer }): Dispatch {
    return this.k.bind({ dy: b.dy, y_out: b.y, dz: b.dz });
  }
}

/**
 * Ways to sum dZ's columns, each in a fixed order (deterministic, but 'column' differs from the
 * others in the last bits): 'column' one thread per column over all rows; 'split' chunks of
 * rows, then the chunks (two dispatches, more parallel for tall dZ); 'chunked' split's order
 * (the same bits) by one thread per column, in one dispatch.
 */
export const BIAS_GRAD_VARIANTS = ['column', 'split', 'chunked'] as const;
export type BiasGradVariant = (typeof BIAS_GRAD_VARIANTS)[number];
// Measured on SwiftShader (2 cores): 16384x512 column ~40-50 ms vs split ~46 ms, 16384x8 0.72 vs
// 0.79 ms — a tie within noise, since a CPU saturates with a few hundred threads. 'split' is the
// default because a GPU does not: 'column' runs a 16k-row, 8-column dZ on 8 threads. On software
// adapters 'chunked' gives split's bits without its second dispatch.
export const DEFAULT_BIAS_GRAD_VARIANT: BiasGradVariant = 'split';

/** The variant BiasGrad uses unless told: 'chunked' on software adapters, else the default. */
export function biasGradVariantFor(gpu: Gpu): BiasGradVariant {
  return gpu.report.software ? 'chunked' : DEFAULT_BIAS_GRAD_VARIANT;
}
/** Rows per chunk in 'split'. */
export const BIAS_GRAD_CHUNK = 64;

/** db[n] (+)= Σ_m dZ[m, n]. */
export class BiasGrad {
  static readonly kernel = 'matmul_bias_grad';

  private constructor(
    private readonly passes: readonly Kernel<string>[],
    private readonly partial: GPUBuffer | null,
    readonly shape: { m: number; n: number },
    readonly variant: BiasGradVariant,
  ) {}

  /**
   * dZ is [m, n]. Uniform bp (fixed): u32 [m, n, chunks, 0]; 'split' sums into partial sums
   * [chunks, n] the kernel owns. `accumulate`: db += sums.
   */
  static async create(
    gpu: Gpu,
    shape: { m: number; n: number },
    opts: { variant?: BiasGradVariant; accumulate?: boolean } = {},
    scope: BufferScope = gpu.buffers,
  ): Promise<BiasGrad> {
    const k = BiasGrad.kernel;
    const variant = opts.variant ?? biasGradVariantFor(gpu);
    if (!BIAS_GRAD_VARIANTS.includes(variant)) throw new KernelError(k, `unknown variant "${String(variant)}"; choose one of ${BIAS_GRAD_VARIANTS.join(', ')}`);
    const { m, n } = shape;
    checkInteger(k, 'm', m, 1);
    checkInteger(k, 'n', n, 1);
    const chunks = Math.ceil(m / BIAS_GRAD_CHUNK);
    const constants = { WG, CHUNK: BIAS_GRAD_CHUNK, ACCUMULATE: Number(opts.accumulate ?? false) };
    const common = { source, params: { bp: [m, n, chunks, 0] }, shape: `dZ [${m}x${n}]` };
    if (variant !== 'split') {
      const spec = { ...common, kernel: `${k}.${variant}`, entry: `bias_grad_${variant}`, constants, sizes: { dz_in: m * n * 4, db: n * 4 }, grid: grid1d(gpu, n, WG) };
      return new BiasGrad([await Kernel.create(gpu, spec, scope)], null, shape, variant);
    }
    const passes = await Promise.all([
      Kernel.create(
        gpu,
        { ...common, kernel: `${k}.partial`, entry: 'bias_grad_partial', constants: { WG, CHUNK: BIAS_GRAD_CHUNK }, sizes: { dz_in: m * n * 4, partial_out: chunks * n * 4 }, grid: grid1d(gpu, chunks * n, WG) },
        scope,
      ),
      Kernel.create(gpu, { ...common, kernel: `${k}.finish`, entry: 'bias_grad_finish', constants, sizes: { partial_in: chunks * n * 4, db: n * 4 }, grid: grid1d(gpu, n, WG) }, scope),
    ]);
    return new BiasGrad(passes, scope.create(`${k}.partial`, chunks * n * 4), shape, variant);
  }

  bind(b: { dz: GPUBuffer; db: GPUBuffer }): Dispatch[] {
    if (b.dz === b.db) throw new KernelError(BiasGrad.kernel, 'db and dz are the same buffer; bind a distinct one');
    if (!this.partial) return [this.passes[0].bind({ dz_in: b.dz, db: b.db })];
    return [this.passes[0].bind({ dz_in: b.dz, partial_out: this.partial }), this.passes[1].bind({ partial_in: this.partial, db: b.db })];
  }
}
