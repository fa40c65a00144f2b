// Row ops (dot, sum, mean), whole-tensor and per-column sums and means, and their backward
// broadcasts: GPU wrappers. Float64 references and f32 emulations are in reduce-ref.ts.
//
// Every sum has a fixed shape chosen at create from the tensor's shape (and the options),
// never from the device's scheduling: the same input gives the same bits on every run.
import source from '../../shaders/reduce.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import type { AccumulateOption } from './elementwise.ts';
import { checkInteger, f32Bits, grid1d, KernelError, type Dispatch } from './kernel.ts';
import { Kernel, type EntrySpec } from './spec.ts';
import { defaultRowsPerGroup, treePlan, treeShape, type TreePass } from './reduce-ref.ts';

export * from './reduce-ref.ts';

const WG = 64;

/** A row-major matrix [rows, cols]. */
export interface RowShape {
  rows: number;
  cols: number;
}

const fmtRows = (s: RowShape): string => `[${s.rows}, ${s.cols}]`;

function checkRows(kernel: string, s: RowShape): void {
  // An empty tensor is a caller's mistake: a recorded step always has work.
  checkInteger(kernel, 'rows', s.rows, 1);
  checkInteger(kernel, 'cols', s.cols, 1);
}

function accumulateFlags(kernel: string, acc: boolean | readonly boolean[] | undefined, count: number): boolean[] {
  if (Array.isArray(acc) && acc.length !== count) throw new KernelError(kernel, `accumulate has ${acc.length} flags, expected ${count}`);
  return Array.from({ length: count }, (_, i) => (Array.isArray(acc) ? !!acc[i] : !!acc));
}

export interface MeanOption extends AccumulateOption {
  /** Divide by the number of elements summed (multiplies by f32(1 / count)). */
  mean?: boolean;
}

// ---- row ops: one thread per row -----------------------------------------------------------

/** The spec of a reduce.wgsl entry point: WG lanes, ACCUMULATE, uniform `name` with its words. */
function reduceSpec<B extends string>(
  gpu: Gpu,
  kernel: string,
  entry: string,
  accumulate: boolean,
  params: Record<string, number[]>,
  sizes: Record<B, number>,
  shape: string,
  threads: number,
  wg = WG,
): EntrySpec<B> {
  return { kernel, source, entry, constants: { WG: wg, ACCUMULATE: accumulate ? 1 : 0 }, params, sizes, shape, grid: grid1d(gpu, threads, wg) };
}

/** out[r] (+)= sum_c a[r, c] * b[r, c], columns added in order. */
export class RowDot {
  static readonly kernel = 'row_dot';

  private constructor(
    private readonly k: Kernel<'x' | 'y' | 'row_out'>,
    readonly shape: RowShape,
  ) {}

  static async create(gpu: Gpu, shape: RowShape, opts: AccumulateOption = {}, scope: BufferScope = gpu.buffers): Promise<RowDot> {
    const kernel = RowDot.kernel;
    checkRows(kernel, shape);
    const { rows, cols } = shape;
    const params = { rp: [rows, cols, f32Bits(1), 0] };
    const spec = reduceSpec(gpu, kernel, 'row_dot', !!opts.accumulate, params, { x: rows * cols * 4, y: rows * cols * 4, row_out: rows * 4 }, fmtRows(shape), rows);
    return new RowDot(await Kernel.create(gpu, spec, scope), shape);
  }

  bind(b: { a: GPUBuffer; b: GPUBuffer; out: GPUBuffer }): Dispatch {
    return this.k.bind({ x: b.a, y: b.b, row_out: b.out });
  }
}

/** gradA (+)= g[r] * b[r, :] and gradB (+)= g[r] * a[r, :]: one dispatch per gradient asked for. */
export class RowDotBackward {
  static readonly kernel = 'row_dot_backward';

  private constructor(private readonly ks: [Kernel<'x' | 'row_grad' | 'row_out'>, Kernel<'x' | 'row_grad' | 'row_out'>]) {}

  /** `accumulate`: one flag for both gradients, or [forA, forB]. */
  static async create(gpu: Gpu, shape: RowShape, opts: { accumulate?: boolean | readonly boolean[] } = {}, scope: BufferScope = gpu.buffers): Promise<RowDotBackward> {
    const kernel = RowDotBackward.kernel;
    checkRows(kernel, shape);
    const { rows, cols } = shape;
    const flags = accumulateFlags(kernel, opts.accumulate, 2);
    const sizes = { x: rows * cols * 4, row_grad: rows * 4, row_out: rows * cols * 4 };
    const ks = await Promise.all(
      flags.map((acc) => Kernel.create(gpu, reduceSpec(gpu, kernel, 'row_scale', acc, { rp: [rows, cols, f32Bits(1), 0] }, sizes, fmtRows(shape), rows * cols), scope)),
    );
    return new RowDotBackward([ks[0], ks[1]]);
  }

  /**
   * `gradA` / `gradB` null: that input needs no gradient. They are written by separate
   * dispatches, so for a . a they may be one buffer (with accumulate [false, true] it receives 2 g a).
   */
  bind(b: { grad: GPUBuffer; a: GPUBuffer; b: GPUBuffer; gradA: GPUBuffer | null; gradB: GPUBuffer | null }): Dispatch[] {
    const k = RowDotBackward.kernel;
    for (const [name, g] of [['gradA', b.gradA], ['gradB', b.gradB]] as const) {
      for (const [other, x] of [['grad', b.grad], ['a', b.a], ['b', b.b]] as const) {
        if (g && g === x) throw new KernelError(k, `${name} and ${other} are the same buffer; bind a distinct one`);
      }
    }
    // d(a . b)/da = b, d(a . b)/db = a.
    const targets = [
      { name: 'gradA', grad: b.gradA, other: b.b, k: this.ks[0] },
      { name: 'gradB', grad: b.gradB, other: b.a, k: this.ks[1] },
    ];
    return targets.filter((t) => t.grad).map((t) => ({ ...t.k.bind({ x: t.other, row_grad: b.grad, row_out: t.grad as GPUBuffer }), label: `${k}.${t.name}` }));
  }
}

/** out[r] (+)= sum (or mean) of row r, columns added in order. */
export class RowReduce {
  private constructor(private readonly k: Kernel<'x' | 'row_out'>) {}

  static async create(gpu: Gpu, shape: RowShape, opts: MeanOption = {}, scope: BufferScope = gpu.buffers): Promise<RowReduce> {
    const kernel = opts.mean ? 'row_mean' : 'row_sum';
    checkRows(kernel, shape);
    const { rows, cols } = shape;
    const params = { rp: [rows, cols, f32Bits(opts.mean ? 1 / cols : 1), 0] };
    return new RowReduce(await Kernel.create(gpu, reduceSpec(gpu, kernel, 'row_sum', !!opts.accumulate, params, { x: rows * cols * 4, row_out: rows * 4 }, fmtRows(shape), rows), scope));
  }

  bind(b: { x: GPUBuffer; out: GPUBuffer }): Dispatch {
    return this.k.bind({ x: b.x, row_out: b.out });
  }
}

// ---- backward broadcasts ---------------------------------------------------------------------
//
// Uniform bcp: [n, inner, outer, offset, scale (f32 bits), 0, 0, 0]; thread t writes
// gradX[t] (+)= scale * grad[offset + (t / inner) % outer].

class Broadcast {
  protected constructor(private readonly k: Kernel<'bc_grad' | 'bc_out'>) {}

  /** `gradWords`: elements grad must hold. */
  protected static spec(
    gpu: Gpu,
    kernel: string,
    n: number,
    b: { inner: number; outer: number; offset: number; scale: number; gradWords: number; shape: string },
    accumulate: boolean,
  ): EntrySpec<'bc_grad' | 'bc_out'> {
    const params = { bcp: [n, b.inner, b.outer, b.offset, f32Bits(b.scale), 0, 0, 0] };
    return reduceSpec(gpu, kernel, 'broadcast', accumulate, params, { bc_grad: b.gradWords * 4, bc_out: n * 4 }, b.shape, n);
  }

  bind(b: { grad: GPUBuffer; gradX: GPUBuffer }): Dispatch {
    return this.k.bind({ bc_grad: b.grad, bc_out: b.gradX });
  }
}

/** Row sum's (mean's) backward: gradX[r, c] (+)= grad[r] (/ cols). */
export class RowReduceBackward extends Broadcast {
  static async create(gpu: Gpu, shape: RowShape, opts: MeanOption = {}, scope: BufferScope = gpu.buffers): Promise<RowReduceBackward> {
    const kernel = opts.mean ? 'row_mean_backward' : 'row_sum_backward';
    checkRows(kernel, shape);
    const b = { inner: shape.cols, outer: shape.rows, offset: 0, scale: opts.mean ? 1 / shape.cols : 1, gradWords: shape.rows, shape: fmtRows(shape) };
    return new RowReduceBackward(await Kernel.create(gpu, Broadcast.spec(gpu, kernel, shape.rows * shape.cols, b, !!opts.accumulate), scope));
  }
}

/** Column sum's (mean's) backward: gradX[r, c] (+)= grad[c] (/ rows). */
export class ColumnReduceBackward extends Broadcast {
  static async create(gpu: Gpu, shape: RowShape, opts: MeanOption = {}, scope: BufferScope = gpu.buffers): Promise<ColumnReduceBackward> {
    const kernel = opts.mean ? 'column_mean_backward' : 'column_sum_backward';
    checkRows(kernel, shape);
    const b = { inner: 1, outer: shape.cols, offset: 0, scale: opts.mean ? 1 / shape.rows : 1, gradWords: shape.cols, shape: fmtRows(shape) };
    return new ColumnReduceBackward(await Kernel.create(gpu, Broadcast.spec(gpu, kernel, shape.rows * shape.cols, b, !!opts.accumulate), scope));
  }
}

export interface SumBackwardOptions extends MeanOption {
  /** Where the scalar gradient sits in `grad`, in elements (default 0). */
  gradOffset?: number;
}

/** Whole-tensor sum's (mean's) backward: gradX[i] (+)= grad[gradOffset] (/ n). */
export class SumBackward extends Broadcast {
  static async create(gpu: Gpu, shape: { n: number }, opts: SumBackwardOptions = {}, scope: BufferScope = gpu.buffers): Promise<SumBackward> {
    const kernel = opts.mean ? 'mean_backward' : 'sum_backward';
    const { n } = shape;
    checkInteger(kernel, 'n', n, 1);
    const offset = opts.gradOffset ?? 0;
    checkInteger(kernel, 'gradOffset', offset, 0);
    const b = { inner: n, outer: 1, offset, scale: opts.mean ? 1 / n : 1, gradWords: offset + 1, shape: `[${n}] (gradient at element ${offset})` };
    return new SumBackward(await Kernel.create(gpu, Broadcast.spec(gpu, kernel, n, b, !!opts.accumulate), scope));
  }
}

// ---- whole-tensor sum and mean ---------------------------------------------------------------

export interface SumOptions extends MeanOption {
  /** Write the scalar at this element of `dst` (default 0), so several losses share one metrics buffer. */
  dstOffset?: number;
  /** 'tree' (default): workgroup trees and a pass over the partials. 'serial': one thread, the baseline. */
  strategy?: 'tree' | 'serial';
  /** Lanes per workgroup, a power of two (default 64). */
  workgroup?: number;
  /** Elements each lane adds before the tree (default: treeShape's, at least 16): a workgroup covers workgroup * perThread. */
  perThread?: number;
}

const isPow2 = (v: number): boolean => Number.isInteger(v) && v >= 2 && (v & (v - 1)) === 0;

/**
 * dst[dstOffset] (+)= sum (or mean) of x. With `accumulate`, losses add up over steps on the GPU
 * and the host reads them every K steps. Uniform tp of each pass:
 * [n, perThread, offset, scale (f32 bits)]. The partials live in a buffer this kernel owns; the
 * dispatches of two binds must not interleave.
 */
export class Sum {
  private constructor(
    private readonly passes: readonly Kernel<'tree_in' | 'tree_out'>[],
    private readonly partials: GPUBuffer | null,
    readonly kernel: string,
    readonly n: number,
    readonly dstOffset: number,
  ) {}

  static async create(gpu: Gpu, shape: { n: number }, opts: SumOptions = {}, scope: BufferScope = gpu.buffers): Promise<Sum> {
    const kernel = opts.mean ? 'reduce_mean' : 'reduce_sum';
    const { n } = shape;
    checkInteger(kernel, 'n', n, 1);
    const offset = opts.dstOffset ?? 0;
    checkInteger(kernel, 'dstOffset', offset, 0);
    const scale = f32Bits(opts.mean ? 1 / n : 1);
    const acc = !!opts.accumulate;
    const what = `[${n}] into element ${offset}`;
    if ((opts.strategy ?? 'tree') === 'serial') {
      const spec = reduceSpec(gpu, kernel, 'sum_serial', acc, { tp: [n, 0, offset, scale] }, { tree_in: n * 4, tree_out: (offset + 1) * 4 }, what, 1);
      return new Sum([await Kernel.create(gpu, spec, scope)], null, kernel, n, offset);
    }
    const { workgroup: wg, perThread } = treeShape(n, opts);
    const maxWg = Math.min(gpu.device.limits.maxComputeInvocationsPerWorkgroup, gpu.device.limits.maxComputeWorkgroupSizeX);
    if (!(isPow2(wg) && wg <= maxWg)) throw new KernelError(kernel, `workgroup must be a power of two in [2, ${maxWg}], got ${wg}`);
    checkInteger(kernel, 'perThread', perThread, 1);
    const plan: TreePass[] = treePlan(n, wg, perThread);
    const passes = await Promise.all(
      plan.map((p, i) => {
        const last = i === plan.length - 1;
        const params = { tp: last ? [p.n, p.perThread, offset, scale] : [p.n, p.perThread, 0, f32Bits(1)] };
        const sizes = { tree_in: p.n * 4, tree_out: last ? (offset + 1) * 4 : p.groups * 4 };
        return Kernel.create(gpu, reduceSpec(gpu, kernel, 'tree_sum', last && acc, params, sizes, what, p.groups * wg, wg), scope);
      }),
    );
    const partials = plan.length > 1 ? scope.create(`${kernel}.partials`, plan[0].groups * 4) : null;
    return new Sum(passes, partials, kernel, n, offset);
  }

  bind(b: { x: GPUBuffer; dst: GPUBuffer }): Dispatch[] {
    // Several passes meet in the partials: x and dst must differ even when no one dispatch binds both.
    if (b.dst === b.x) throw new KernelError(this.kernel, 'dst and x are the same buffer; bind a distinct one');
    let input = b.x;
    return this.passes.map((k, i) => {
      const output = i === this.passes.length - 1 ? b.dst : (this.partials as GPUBuffer);
      const d = { ...k.bind({ tree_in: input, tree_out: output }), label: `${this.kernel}.pass${i}` };
      input = output;
      return d;
    });
  }
}

// ---- per-column sum and mean -----------------------------------------------------------------

export interface ColumnReduceOptions extends MeanOption {
  /** Rows each thread of the first pass adds (default about sqrt(rows)). */
  rowsPerGroup?: number;
}

/**
 * out[c] (+)= sum (or mean) over rows of x[:, c]: blocks of rowsPerGroup rows, each summed in
 * order into a partial row, then the partial rows summed in order. Uniform cp of each pass: [rows, cols, rowsPerGroup, groups, scale (f32 bits), 0, 0, 0].
 */
export class ColumnReduce {
  private constructor(
    private readonly passes: readonly Kernel<'col_in' | 'col_out'>[],
    private readonly partials: GPUBuffer | null,
    readonly kernel: string,
    readonly shape: RowShape,
    readonly rowsPerGroup: number,
  ) {}

  static async create(gpu: Gpu, shape: RowShape, opts: ColumnReduceOptions = {}, scope: BufferScope = gpu.buffers): Promise<ColumnReduce> {
    const kernel = opts.mean ? 'column_mean' : 'column_sum';
    checkRows(kernel, shape);
    const { rows, cols } = shape;
    const rpg = opts.rowsPerGroup ?? defaultRowsPerGroup(rows);
    checkInteger(kernel, 'rowsPerGroup', rpg, 1);
    const groups = Math.ceil(rows / rpg);
    const scale = f32Bits(opts.mean ? 1 / rows : 1);
    const acc = !!opts.accumulate;
    const what = fmtRows(shape);
    if (groups <= 1) {
      const spec = reduceSpec(gpu, kernel, 'col_sum', acc, { cp: [rows, cols, rows, 1, scale, 0, 0, 0] }, { col_in: rows * cols * 4, col_out: cols * 4 }, what, cols);
      return new ColumnReduce([await Kernel.create(gpu, spec, scope)], null, kernel, shape, rows);
    }
    const first = reduceSpec(gpu, kernel, 'col_sum', false, { cp: [rows, cols, rpg, groups, f32Bits(1), 0, 0, 0] }, { col_in: rows * cols * 4, col_out: groups * cols * 4 }, what, groups * cols);
    const second = reduceSpec(gpu, kernel, 'col_sum', acc, { cp: [groups, cols, groups, 1, scale, 0, 0, 0] }, { col_in: groups * cols * 4, col_out: cols * 4 }, what, cols);
    const passes = await Promise.all([first, second].map((spec) => Kernel.create(gpu, spec, scope)));
    return new ColumnReduce(passes, scope.create(`${kernel}.partials`, groups * cols * 4), kernel, shape, rpg);
  }

  bind(b: { x: GPUBuffer; out: GPUBuffer }): Dispatch[] {
    if (b.out === b.x) throw new KernelError(this.kernel, 'out and x are the same buffer; bind a distinct one');
    let input = b.x;
    return this.passes.map((k, i) => {
      const output = i === this.passes.length - 1 ? b.out : (this.partials as GPUBuffer);
      const d = { ...k.bind({ col_in: input, col_out: output }), label: `${this.kernel}.pass${i}` };
      input = output;
      return d;
    });
  }
}
