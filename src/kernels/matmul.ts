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
import { bindGroup, checkBindingSize, checkBufferSize, checkInteger, elementsPerThread, grid1d, gridPerThread, KernelError, pipeline, type Dispatch } from './kernel.ts';
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

function checkGrid(gpu: Gpu, kernel: string, grid: readonly [number, number], what: string): void {
  const max = gpu.device.limits.maxComputeWorkgroupsPerDimension;
  if (grid[0] > max || grid[1] > max) {
    throw new KernelError(kernel, `${what} needs a grid of ${grid[0]}x${grid[1]} workgroups, more than this adapter's maxComputeWorkgroupsPerDimension (${max}); split the product`);
  }
}

export class Matmul {
  static readonly kernel = 'matmul';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    /** Bound in place of a bias when there is none: 'auto' layouts keep the binding. */
    private readonly noBias: GPUBuffer | null,
    private readonly grid: [number, number],
    readonly shape: MatmulShape,
    readonly options: Readonly<Required<MatmulOptions>>,
  ) {}

  /**
   * Uniform (binding 0, fixed at create): u32 [m, n, k, 0]. Nothing changes per step.
   * Bindings: 1 A, 2 B, 3 bias (or a dummy), 4 C (read_write).
   */
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
    checkBindingSize(gpu, k, `A of ${what}`, shape.m * shape.k * 4);
    checkBindingSize(gpu, k, `B of ${what}`, shape.k * shape.n * 4);
    checkBindingSize(gpu, k, `C of ${what}`, shape.m * shape.n * 4);
    const grid: [number, number] = [Math.ceil(shape.n / geo.span[0]), Math.ceil(shape.m / geo.span[1])];
    checkGrid(gpu, k, grid, `${what} with variant ${o.variant}`);
    const code = o.variant === 'reg4x4v' ? vec4Source : sgCols !== undefined ? sgSource : source;
    const pipe = await pipeline(gpu, 'matmul', code, geo.entryPoint, {
      TILE: geo.tile,
      TRANS_A: Number(o.transA),
      TRANS_B: Number(o.transB),
      HAS_BIAS: Number(o.bias),
      ACT: ACTIVATIONS[o.activation],
      ACCUMULATE: Number(o.accumulate),
      ...(sgCols !== undefined ? { FULL_TILES: Number(fullTiles(shape, geo)) } : {}),
    });
    const params = scope.uniform(`${k}.params`, [shape.m, shape.n, shape.k, 0]);
    const noBias = o.bias ? null : scope.create(`${k}.no-bias`, 16);
    return new Matmul(gpu, pipe, params, noBias, grid, shape, o);
  }

  /** A [m,k] (or [k,m] with transA), B [k,n] (or [n,k] with transB), bias [n] when created with `bias`, C [m,n]. */
  bind(bufs: { a: GPUBuffer; b: GPUBuffer; c: GPUBuffer; bias?: GPUBuffer }): Dispatch {
    const { m, n, k } = this.shape;
    const name = Matmul.kernel;
    const what = fmtShape(this.shape, this.options);
    checkBufferSize(name, 'a', bufs.a, m * k * 4, what);
    checkBufferSize(name, 'b', bufs.b, k * n * 4, what);
    checkBufferSize(name, 'c', bufs.c, m * n * 4, what);
    if (this.options.bias) {
      if (!bufs.bias) throw new KernelError(name, `created with bias: bind a bias buffer of ${n} floats`);
      checkBufferSize(name, 'bias', bufs.bias, n * 4, what);
    } else if (bufs.bias) {
      throw new KernelError(name, 'a bias buffer was given but the kernel was created without bias: create it with { bias: true }');
    }
    if (bufs.c === bufs.a || bufs.c === bufs.b || bufs.c === bufs.bias) {
      throw new KernelError(name, 'c must not be the same buffer as an input (WebGPU forbids a written binding that aliases a read one)');
    }
    const bias = bufs.bias ?? this.noBias;
    if (!bias) throw new KernelError(name, 'internal: no bias buffer');
    return {
      label: `${name}.${this.options.variant}`,
      pipeline: this.pipe,
      bindGroup: bindGroup(this.gpu, this.pipe, name, { 0: this.params, 1: bufs.a, 2: bufs.b, 3: bias, 4: bufs.c }),
      grid: this.grid,
    };
  }
}

const WG = 64;

/** dZ = dY ⊙ act'(Z) from the layer's output Y = act(Z): relu → [Y > 0], sigmoid → Y(1-Y), tanh → 1-Y². */
export class ActBackward {
  static readonly kernel = 'matmul_act_backward';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly count: number,
    readonly activation: Activation,
    private readonly per: number,
  ) {}

  /**
   * `count` elements. Uniform (binding 5, fixed): u32 [count, 0, 0, 0].
   * Bindings: 6 dY, 7 Y, 8 dZ (read_write; must be a third buffer).
   */
  static async create(gpu: Gpu, count: number, opts: { activation: Activation }, scope: BufferScope = gpu.buffers): Promise<ActBackward> {
    const k = ActBackward.kernel;
    checkInteger(k, 'count', count, 1);
    if (!(opts.activation in ACTIVATIONS)) throw new KernelError(k, `unknown activation "${String(opts.activation)}"; choose one of ${Object.keys(ACTIVATIONS).join(', ')}`);
    checkBindingSize(gpu, k, `dZ of ${count} elements`, count * 4);
    const per = elementsPerThread(gpu);
    const pipe = await pipeline(gpu, 'matmul', source, 'act_backward', { WG, PER: per, ACT: ACTIVATIONS[opts.activation] });
    const params = scope.uniform(`${k}.params`, [count, 0, 0, 0]);
    return new ActBackward(gpu, pipe, params, count, opts.activation, per);
  }

  bind(b: { dy: GPUBuffer; y: GPUBuffer; dz: GPUBuffer }): Dispatch {
    const k = ActBackward.kernel;
    const what = `${this.count} elements (${this.activation})`;
    checkBufferSize(k, 'dy', b.dy, this.count * 4, what);
    checkBufferSize(k, 'y', b.y, this.count * 4, what);
    checkBufferSize(k, 'dz', b.dz, this.count * 4, what);
    if (b.dz === b.dy || b.dz === b.y) throw new KernelError(k, 'dz must not be the same buffer as dy or y (WebGPU forbids a written binding that aliases a read one)');
    return {
      label: k,
      pipeline: this.pipe,
      bindGroup: bindGroup(this.gpu, this.pipe, k, { 5: this.params, 6: b.dy, 7: b.y, 8: b.dz }),
      grid: gridPerThread(this.gpu, this.count, WG, this.per),
    };
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
    private readonly gpu: Gpu,
    private readonly pipes: GPUComputePipeline[],
    private readonly params: GPUBuffer,
    private readonly partial: GPUBuffer | null,
    readonly shape: { m: number; n: number },
    readonly variant: BiasGradVariant,
  ) {}

  /**
   * dZ is [m, n]. Uniform (binding 9, fixed): u32 [m, n, chunks, 0]. Bindings: 10 dZ, 11/12 the
   * kernel's own partial sums [chunks, n] ('split'), 13 db (read_write). `accumulate`: db += sums.
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
    checkInteger(k, 'm', shape.m, 1);
    checkInteger(k, 'n', shape.n, 1);
    checkBindingSize(gpu, k, `dZ [${shape.m}x${shape.n}]`, shape.m * shape.n * 4);
    const chunks = Math.ceil(shape.m / BIAS_GRAD_CHUNK);
    const constants = { WG, CHUNK: BIAS_GRAD_CHUNK, ACCUMULATE: Number(opts.accumulate ?? false) };
    const params = scope.uniform(`${k}.params`, [shape.m, shape.n, chunks, 0]);
    if (variant !== 'split') {
      const pipe = await pipeline(gpu, 'matmul', source, `bias_grad_${variant}`, constants);
      return new BiasGrad(gpu, [pipe], params, null, shape, variant);
    }
    const pipes = await Promise.all([
      pipeline(gpu, 'matmul', source, 'bias_grad_partial', { WG, CHUNK: BIAS_GRAD_CHUNK }),
      pipeline(gpu, 'matmul', source, 'bias_grad_finish', constants),
    ]);
    const partial = scope.create(`${k}.partial`, chunks * shape.n * 4);
    return new BiasGrad(gpu, pipes, params, partial, shape, variant);
  }

  bind(b: { dz: GPUBuffer; db: GPUBuffer }): Dispatch[] {
    const k = BiasGrad.kernel;
    const { m, n } = this.shape;
    const what = `dZ [${m}x${n}]`;
    checkBufferSize(k, 'dz', b.dz, m * n * 4, what);
    checkBufferSize(k, 'db', b.db, n * 4, what);
    if (b.dz === b.db) throw new KernelError(k, 'db must not be the same buffer as dz');
    if (!this.partial) {
      return [{ label: `${k}.${this.variant}`, pipeline: this.pipes[0], bindGroup: bindGroup(this.gpu, this.pipes[0], k, { 9: this.params, 10: b.dz, 13: b.db }), grid: grid1d(this.gpu, n, WG) }];
    }
    const chunks = Math.ceil(m / BIAS_GRAD_CHUNK);
    return [
      {
        label: `${k}.partial`,
        pipeline: this.pipes[0],
        bindGroup: bindGroup(this.gpu, this.pipes[0], k, { 9: this.params, 10: b.dz, 11: this.partial }),
        grid: grid1d(this.gpu, chunks * n, WG),
      },
      {
        label: `${k}.finish`,
        pipeline: this.pipes[1],
        bindGroup: bindGroup(this.gpu, this.pipes[1], k, { 9: this.params, 12: this.partial, 13: b.db }),
        grid: grid1d(this.gpu, n, WG),
      },
    ];
  }
}
