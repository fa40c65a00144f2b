// Row ops (dot, sum, mean), whole-tensor and per-column sums and means, and their backward
// broadcasts: GPU wrappers. Float64 references and f32 emulations are in reduce-ref.ts.
//
// Every sum has a fixed shape chosen at create from the tensor's shape (and the options),
// never from the device's scheduling: the same input gives the same bits on every run.
import source from '../../shaders/reduce.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import { checkDistinct, type AccumulateOption } from './elementwise.ts';
import { bindGroup, checkBindingSize, checkBufferSize, checkInteger, f32Bits, grid1d, KernelError, pipeline, type BindingResource, type Dispatch } from './kernel.ts';
import { defaultRowsPerGroup, treePlan, treeShape, type TreePass } from './reduce-ref.ts';

export * from './reduce-ref.ts';

const WG = 64;

function dispatch(gpu: Gpu, label: string, pipe: GPUComputePipeline, resources: Record<number, BindingResource>, threads: number, wg = WG): Dispatch {
  return { label, pipeline: pipe, bindGroup: bindGroup(gpu, pipe, label, resources), grid: grid1d(gpu, threads, wg) };
}

const reducePipeline = (gpu: Gpu, entry: string, accumulate: boolean, wg = WG): Promise<GPUComputePipeline> =>
  pipeline(gpu, 'reduce', source, entry, { WG: wg, ACCUMULATE: accumulate ? 1 : 0 });

/** A row-major matrix [rows, cols]. */
export interface RowShape {
  rows: number;
  cols: number;
}

const fmtRows = (s: RowShape): string => `[${s.rows}, ${s.cols}]`;

function checkRows(gpu: Gpu, kernel: string, s: RowShape): void {
  // An empty tensor is a caller's mistake: a recorded step always has work.
  checkInteger(kernel, 'rows', s.rows, 1);
  checkInteger(kernel, 'cols', s.cols, 1);
  checkBindingSize(gpu, kernel, `a ${fmtRows(s)} matrix`, s.rows * s.cols * 4);
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
//
// Uniform at binding 0 for all of them: [rows, cols, scale (f32 bits), 0].

/** out[r] (+)= sum_c a[r, c] * b[r, c], columns added in order. */
export class RowDot {
  static readonly kernel = 'row_dot';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: RowShape,
  ) {}

  static async create(gpu: Gpu, shape: RowShape, opts: AccumulateOption = {}, scope: BufferScope = gpu.buffers): Promise<RowDot> {
    const k = RowDot.kernel;
    checkRows(gpu, k, shape);
    const pipe = await reducePipeline(gpu, 'row_dot', !!opts.accumulate);
    return new RowDot(gpu, pipe, scope.uniform(`${k}.params`, [shape.rows, shape.cols, f32Bits(1), 0]), shape);
  }

  bind(b: { a: GPUBuffer; b: GPUBuffer; out: GPUBuffer }): Dispatch {
    const k = RowDot.kernel;
    const { rows, cols } = this.shape;
    checkBufferSize(k, 'a', b.a, rows * cols * 4, fmtRows(this.shape));
    checkBufferSize(k, 'b', b.b, rows * cols * 4, fmtRows(this.shape));
    checkBufferSize(k, 'out', b.out, rows * 4, fmtRows(this.shape));
    checkDistinct(k, { out: b.out }, { a: b.a, b: b.b });
    return dispatch(this.gpu, k, this.pipe, { 0: this.params, 1: b.a, 2: b.b, 3: b.out }, rows);
  }
}

/** gradA (+)= g[r] * b[r, :] and gradB (+)= g[r] * a[r, :]: one dispatch per gradient asked for. */
export class RowDotBackward {
  static readonly kernel = 'row_dot_backward';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipes: [GPUComputePipeline, GPUComputePipeline],
    private readonly params: GPUBuffer,
    readonly shape: RowShape,
  ) {}

  /** `accumulate`: one flag for both gradients, or [forA, forB]. */
  static async create(gpu: Gpu, shape: RowShape, opts: { accumulate?: boolean | readonly boolean[] } = {}, scope: BufferScope = gpu.buffers): Promise<RowDotBackward> {
    const k = RowDotBackward.kernel;
    checkRows(gpu, k, shape);
    const [accA, accB] = accumulateFlags(k, opts.accumulate, 2);
    const pipes: [GPUComputePipeline, GPUComputePipeline] = [await reducePipeline(gpu, 'row_scale', accA), await reducePipeline(gpu, 'row_scale', accB)];
    return new RowDotBackward(gpu, pipes, scope.uniform(`${k}.params`, [shape.rows, shape.cols, f32Bits(1), 0]), shape);
  }

  /** `gradA` / `gradB` null: that input needs no gradient. */
  bind(b: { grad: GPUBuffer; a: GPUBuffer; b: GPUBuffer; gradA: GPUBuffer | null; gradB: GPUBuffer | null }): Dispatch[] {
    const k = RowDotBackward.kernel;
    const { rows, cols } = this.shape;
    const f = fmtRows(this.shape);
    checkBufferSize(k, 'grad', b.grad, rows * 4, f);
    checkBufferSize(k, 'a', b.a, rows * cols * 4, f);
    checkBufferSize(k, 'b', b.b, rows * cols * 4, f);
    // gradA and gradB are written by separate dispatches, so for a . a they may be one buffer
    // (with accumulate [false, true] it receives 2 g a).
    checkDistinct(k, { gradA: b.gradA }, { grad: b.grad, a: b.a, b: b.b });
    checkDistinct(k, { gradB: b.gradB }, { grad: b.grad, a: b.a, b: b.b });
    const out: Dispatch[] = [];
    // d(a . b)/da = b, d(a . b)/db = a.
    const targets = [
      { name: 'gradA', grad: b.gradA, other: b.b, pipe: this.pipes[0] },
      { name: 'gradB', grad: b.gradB, other: b.a, pipe: this.pipes[1] },
    ];
    for (const t of targets) {
      if (!t.grad) continue;
      checkBufferSize(k, t.name, t.grad, rows * cols * 4, f);
      out.push(dispatch(this.gpu, `${k}.${t.name}`, t.pipe, { 0: this.params, 1: t.other, 4: b.grad, 3: t.grad }, rows * cols));
    }
    return out;
  }
}

/** out[r] (+)= sum (or mean) of row r, columns added in order. */
export class RowReduce {
  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: RowShape,
    readonly kernel: string,
  ) {}

  static async create(gpu: Gpu, shape: RowShape, opts: MeanOption = {}, scope: BufferScope = gpu.buffers): Promise<RowReduce> {
    const k = opts.mean ? 'row_mean' : 'row_sum';
    checkRows(gpu, k, shape);
    const pipe = await reducePipeline(gpu, 'row_sum', !!opts.accumulate);
    const scale = opts.mean ? 1 / shape.cols : 1;
    return new RowReduce(gpu, pipe, scope.uniform(`${k}.params`, [shape.rows, shape.cols, f32Bits(scale), 0]), shape, k);
  }

  bind(b: { x: GPUBuffer; out: GPUBuffer }): Dispatch {
    const { rows, cols } = this.shape;
    checkBufferSize(this.kernel, 'x', b.x, rows * cols * 4, fmtRows(this.shape));
    checkBufferSize(this.kernel, 'out', b.out, rows * 4, fmtRows(this.shape));
    checkDistinct(this.kernel, { out: b.out }, { x: b.x });
    return dispatch(this.gpu, this.kernel, this.pipe, { 0: this.params, 1: b.x, 3: b.out }, rows);
  }
}

// ---- backward broadcasts ---------------------------------------------------------------------
//
// Uniform at binding 5: [n, inner, outer, offset, scale (f32 bits), 0, 0, 0]; thread t writes
// gradX[t] (+)= scale * grad[offset + (t / inner) % outer].

class Broadcast {
  protected constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly kernel: string,
    /** Elements of gradX. */
    readonly n: number,
    /** Elements grad must hold. */
    private readonly gradWords: number,
    private readonly shapeText: string,
  ) {}

  protected static async build(
    gpu: Gpu,
    kernel: string,
    n: number,
    inner: number,
    outer: number,
    offset: number,
    scale: number,
    accumulate: boolean,
    scope: BufferScope,
  ): Promise<{ pipe: GPUComputePipeline; params: GPUBuffer }> {
    const pipe = await reducePipeline(gpu, 'broadcast', accumulate);
    const params = scope.uniform(`${kernel}.params`, [n, inner, outer, offset, f32Bits(scale), 0, 0, 0]);
    return { pipe, params };
  }

  bind(b: { grad: GPUBuffer; gradX: GPUBuffer }): Dispatch {
    checkBufferSize(this.kernel, 'grad', b.grad, this.gradWords * 4, this.shapeText);
    checkBufferSize(this.kernel, 'gradX', b.gradX, this.n * 4, this.shapeText);
    checkDistinct(this.kernel, { gradX: b.gradX }, { grad: b.grad });
    return dispatch(this.gpu, this.kernel, this.pipe, { 5: this.params, 6: b.grad, 7: b.gradX }, this.n);
  }
}

/** Row sum's (mean's) backward: gradX[r, c] (+)= grad[r] (/ cols). */
export class RowReduceBackward extends Broadcast {
  static async create(gpu: Gpu, shape: RowShape, opts: MeanOption = {}, scope: BufferScope = gpu.buffers): Promise<RowReduceBackward> {
    const k = opts.mean ? 'row_mean_backward' : 'row_sum_backward';
    checkRows(gpu, k, shape);
    const n = shape.rows * shape.cols;
    const { pipe, params } = await Broadcast.build(gpu, k, n, shape.cols, shape.rows, 0, opts.mean ? 1 / shape.cols : 1, !!opts.accumulate, scope);
    return new RowReduceBackward(gpu, pipe, params, k, n, shape.rows, fmtRows(shape));
  }
}

/** Column sum's (mean's) backward: gradX[r, c] (+)= grad[c] (/ rows). */
export class ColumnReduceBackward extends Broadcast {
  static async create(gpu: Gpu, shape: RowShape, opts: MeanOption = {}, scope: BufferScope = gpu.buffers): Promise<ColumnReduceBackward> {
    const k = opts.mean ? 'column_mean_backward' : 'column_sum_backward';
    checkRows(gpu, k, shape);
    const n = shape.rows * shape.cols;
    const { pipe, params } = await Broadcast.build(gpu, k, n, 1, shape.cols, 0, opts.mean ? 1 / shape.rows : 1, !!opts.accumulate, scope);
    return new ColumnReduceBackward(gpu, pipe, params, k, n, shape.cols, fmtRows(shape));
  }
}

export interface SumBackwardOptions extends MeanOption {
  /** Where the scalar gradient sits in `grad`, in elements (default 0). */
  gradOffset?: number;
}

/** Whole-tensor sum's (mean's) backward: gradX[i] (+)= grad[gradOffset] (/ n). */
export class SumBackward extends Broadcast {
  static async create(gpu: Gpu, shape: { n: number }, opts: SumBackwardOptions = {}, scope: BufferScope = gpu.buffers): Promise<SumBackward> {
    const k = opts.mean ? 'mean_backward' : 'sum_backward';
    checkInteger(k, 'n', shape.n, 1);
    checkBindingSize(gpu, k, `a tensor of ${shape.n} elements`, shape.n * 4);
    const offset = opts.gradOffset ?? 0;
    checkInteger(k, 'gradOffset', offset, 0);
    const { pipe, params } = await Broadcast.build(gpu, k, shape.n, shape.n, 1, offset, opts.mean ? 1 / shape.n : 1, !!opts.accumulate, scope);
    return new SumBackward(gpu, pipe, params, k, shape.n, offset + 1, `[${shape.n}] (gradient at element ${offset})`);
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
 * and the host reads them every K steps. Uniform at binding 8 for each pass:
 * [n, perThread, offset, scale (f32 bits)]. The partials live in a buffer this kernel owns; the
 * dispatches of two binds must not interleave.
 */
export class Sum {
  private constructor(
    private readonly gpu: Gpu,
    private readonly passes: { pipe: GPUComputePipeline; params: GPUBuffer; groups: number; toDst: boolean }[],
    private readonly partials: GPUBuffer | null,
    readonly kernel: string,
    readonly n: number,
    readonly dstOffset: number,
    readonly workgroup: number,
  ) {}

  static async create(gpu: Gpu, shape: { n: number }, opts: SumOptions = {}, scope: BufferScope = gpu.buffers): Promise<Sum> {
    const k = opts.mean ? 'reduce_mean' : 'reduce_sum';
    const { n } = shape;
    checkInteger(k, 'n', n, 1);
    checkBindingSize(gpu, k, `a tensor of ${n} elements`, n * 4);
    const offset = opts.dstOffset ?? 0;
    checkInteger(k, 'dstOffset', offset, 0);
    const scale = f32Bits(opts.mean ? 1 / n : 1);
    const acc = !!opts.accumulate;
    if ((opts.strategy ?? 'tree') === 'serial') {
      const pipe = await reducePipeline(gpu, 'sum_serial', acc);
      const params = scope.uniform(`${k}.params`, [n, 0, offset, scale]);
      return new Sum(gpu, [{ pipe, params, groups: 1, toDst: true }], null, k, n, offset, 1);
    }
    const { workgroup: wg, perThread } = treeShape(n, opts);
    const maxWg = Math.min(gpu.device.limits.maxComputeInvocationsPerWorkgroup, gpu.device.limits.maxComputeWorkgroupSizeX);
    if (!(isPow2(wg) && wg <= maxWg)) throw new KernelError(k, `workgroup must be a power of two in [2, ${maxWg}], got ${wg}`);
    checkInteger(k, 'perThread', perThread, 1);
    const plan: TreePass[] = treePlan(n, wg, perThread);
    const passes = await Promise.all(
      plan.map(async (p, i) => {
        const last = i === plan.length - 1;
        const pipe = await reducePipeline(gpu, 'tree_sum', last && acc, wg);
        const params = scope.uniform(`${k}.params${i}`, last ? [p.n, p.perThread, offset, scale] : [p.n, p.perThread, 0, f32Bits(1)]);
        return { pipe, params, groups: p.groups, toDst: last };
      }),
    );
    const partials = plan.length > 1 ? scope.create(`${k}.partials`, plan[0].groups * 4) : null;
    return new Sum(gpu, passes, partials, k, n, offset, wg);
  }

  bind(b: { x: GPUBuffer; dst: GPUBuffer }): Dispatch[] {
    const shape = `[${this.n}] into element ${this.dstOffset}`;
    checkBufferSize(this.kernel, 'x', b.x, this.n * 4, shape);
    checkBufferSize(this.kernel, 'dst', b.dst, (this.dstOffset + 1) * 4, shape);
    checkDistinct(this.kernel, { dst: b.dst }, { x: b.x });
    let input = b.x;
    return this.passes.map((p, i) => {
      const output = p.toDst ? b.dst : (this.partials as GPUBuffer);
      const d = dispatch(this.gpu, `${this.kernel}.pass${i}`, p.pipe, { 8: p.params, 9: input, 10: output }, p.groups * this.workgroup, this.workgroup);
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
 * order into a partial row, then the partial rows summed in order. Uniform at binding 11 for
 * each pass: [rows, cols, rowsPerGroup, groups, scale (f32 bits), 0, 0, 0].
 */
export class ColumnReduce {
  private constructor(
    private readonly gpu: Gpu,
    private readonly passes: { pipe: GPUComputePipeline; params: GPUBuffer; groups: number; toDst: boolean }[],
    private readonly partials: GPUBuffer | null,
    readonly kernel: string,
    readonly shape: RowShape,
    readonly rowsPerGroup: number,
  ) {}

  static async create(gpu: Gpu, shape: RowShape, opts: ColumnReduceOptions = {}, scope: BufferScope = gpu.buffers): Promise<ColumnReduce> {
    const k = opts.mean ? 'column_mean' : 'column_sum';
    checkRows(gpu, k, shape);
    const { rows, cols } = shape;
    const rpg = opts.rowsPerGroup ?? defaultRowsPerGroup(rows);
    checkInteger(k, 'rowsPerGroup', rpg, 1);
    const groups = Math.ceil(rows / rpg);
    const scale = f32Bits(opts.mean ? 1 / rows : 1);
    const acc = !!opts.accumulate;
    const final = { pipe: await reducePipeline(gpu, 'col_sum', acc), groups: 1, toDst: true };
    if (groups <= 1) {
      const params = scope.uniform(`${k}.params`, [rows, cols, rows, 1, scale, 0, 0, 0]);
      return new ColumnReduce(gpu, [{ ...final, params }], null, k, shape, rows);
    }
    const first = {
      pipe: await reducePipeline(gpu, 'col_sum', false),
      params: scope.uniform(`${k}.params0`, [rows, cols, rpg, groups, f32Bits(1), 0, 0, 0]),
      groups,
      toDst: false,
    };
    const second = { ...final, params: scope.uniform(`${k}.params1`, [groups, cols, groups, 1, scale, 0, 0, 0]) };
    return new ColumnReduce(gpu, [first, second], scope.create(`${k}.partials`, groups * cols * 4), k, shape, rpg);
  }

  bind(b: { x: GPUBuffer; out: GPUBuffer }): Dispatch[] {
    const { rows, cols } = this.shape;
    checkBufferSize(this.kernel, 'x', b.x, rows * cols * 4, fmtRows(this.shape));
    checkBufferSize(this.kernel, 'out', b.out, cols * 4, fmtRows(this.shape));
    checkDistinct(this.kernel, { out: b.out }, { x: b.x });
    let input = b.x;
    return this.passes.map((p, i) => {
      const output = p.toDst ? b.out : (this.partials as GPUBuffer);
      const d = dispatch(this.gpu, `${this.kernel}.pass${i}`, p.pipe, { 11: p.params, 12: input, 13: output }, p.groups * cols);
      input = output;
      return d;
    });
  }
}
