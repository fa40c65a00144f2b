// Fused loss kernels (shaders/losses.wgsl): each dispatch writes the per-element (or per-row)
// losses and the gradient w.r.t. the inputs. References are in losses-ref.ts.
//
// Every wrapper binds `scale`: a storage buffer whose first f32 the caller writes with each
// batch (e.g. 1/batch, or 1/number of labelled rows). Losses and gradients are both times
// scale, so the sum of the loss buffer (reduced by another kernel) is the mean loss and the
// gradients are that mean's. Masked-out and unscored elements write a loss of 0.
import source from '../../shaders/losses.wgsl';
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import { checkInteger, grid1d, KernelError, type Dispatch } from './kernel.ts';
import { Kernel, type EntrySpec } from './spec.ts';
import type { RankingKind } from './losses-ref.ts';

export { bceOnProductRef, bceWithLogitsRef, mseRef, rankingRef, softmaxCrossEntropyRef, type RankingKind } from './losses-ref.ts';

const WG = 64;

/** Elementwise losses: n elements (or pairs). */
export interface ElementwiseShape {
  n: number;
}

/** Softmax cross-entropy: logits [rows, cols], one class label per row. */
export interface ClassesShape {
  rows: number;
  cols: number;
}

const fmtN = (s: ElementwiseShape): string => `[n=${s.n}]`;
const fmtRows = (s: ClassesShape): string => `[rows=${s.rows}, cols=${s.cols}]`;

function checkElementwise(kernel: string, s: ElementwiseShape): void {
  checkInteger(kernel, 'n', s.n, 1);
}

/** An optional binding: present exactly when the kernel was created with `flag`. */
function checkOptional(kernel: string, name: string, flag: string, enabled: boolean, buffer: GPUBuffer | undefined): void {
  if (enabled && !buffer) throw new KernelError(kernel, `was created with ${flag}: true, so bind needs ${name}`);
  if (!enabled && buffer) throw new KernelError(kernel, `got ${name} but was created without ${flag}: true; create it with ${flag}: true`);
}

/** The entries of `r` whose value is given: an optional binding absent from the spec stays unbound. */
function present<T extends Record<string, GPUBuffer | number | undefined>>(r: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

// ---- sigmoid + binary cross-entropy ------------------------------------------------------

export interface BceOptions {
  /** Per-element weights: loss and gradient times w (0 = no label there, as the mask). */
  weighted?: boolean;
  /** A per-element f32 mask: 0 = no label there (loss 0, gradient 0; the label may be NaN). */
  masked?: boolean;
}

/**
 * Sigmoid + binary cross-entropy from logits x and labels y in [0, 1]:
 * loss = max(x, 0) - x y + log1p(e^-|x|), d loss / dx = sigmoid(x) - y, both times scale (and w).
 * Finite for any finite x. All buffers f32 [n]; scale [1].
 */
export class BceWithLogits {
  static readonly kernel = 'bce_with_logits';

  private constructor(
    private readonly k: Kernel<string>,
    readonly shape: ElementwiseShape,
    readonly opts: Readonly<BceOptions>,
  ) {}

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: BceOptions = {}, scope: BufferScope = gpu.buffers): Promise<BceWithLogits> {
    const kernel = BceWithLogits.kernel;
    checkElementwise(kernel, shape);
    const bytes = shape.n * 4;
    const spec: EntrySpec<string> = {
      kernel,
      source,
      entry: `bce${opts.weighted ? '_weighted' : ''}${opts.masked ? '_masked' : ''}`,
      constants: { WG },
      params: { p: [shape.n, 0, 0, 0] },
      sizes: present({ scale: 4, loss: bytes, weight: opts.weighted ? bytes : undefined, mask: opts.masked ? bytes : undefined, logits: bytes, labels: bytes, grad_logits: bytes }),
      shape: fmtN(shape),
      grid: grid1d(gpu, shape.n, WG),
    };
    return new BceWithLogits(await Kernel.create(gpu, spec, scope), shape, { ...opts });
  }

  bind(b: { logits: GPUBuffer; labels: GPUBuffer; weights?: GPUBuffer; mask?: GPUBuffer; scale: GPUBuffer; loss: GPUBuffer; grad: GPUBuffer }): Dispatch {
    const k = BceWithLogits.kernel;
    checkOptional(k, 'weights', 'weighted', !!this.opts.weighted, b.weights);
    checkOptional(k, 'mask', 'masked', !!this.opts.masked, b.mask);
    return this.k.bind(present({ scale: b.scale, loss: b.loss, weight: b.weights, mask: b.mask, logits: b.logits, labels: b.labels, grad_logits: b.grad }));
  }
}

// ---- BCE on a product of probabilities ----------------------------------------------------

/**
 * ESMM's loss: BCE(y, σ(a) · σ(b)) from the two logits, with gradients w.r.t. a and b, times
 * scale (and w; a weight of 0 drops the element, NaN label included). Stable for any finite
 * logits, p near 0 and near 1 (see shaders/losses.wgsl). All buffers f32 [n]; scale [1].
 */
export class BceOnProduct {
  static readonly kernel = 'bce_on_product';

  private constructor(
    private readonly k: Kernel<string>,
    readonly shape: ElementwiseShape,
    readonly weighted: boolean,
  ) {}

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: { weighted?: boolean } = {}, scope: BufferScope = gpu.buffers): Promise<BceOnProduct> {
    const kernel = BceOnProduct.kernel;
    checkElementwise(kernel, shape);
    const bytes = shape.n * 4;
    const spec: EntrySpec<string> = {
      kernel,
      source,
      entry: opts.weighted ? 'bce_product_weighted' : 'bce_product',
      constants: { WG },
      params: { p: [shape.n, 0, 0, 0] },
      sizes: present({ scale: 4, loss: bytes, weight: opts.weighted ? bytes : undefined, logits_a: bytes, logits_b: bytes, labels: bytes, grad_a: bytes, grad_b: bytes }),
      shape: fmtN(shape),
      grid: grid1d(gpu, shape.n, WG),
    };
    return new BceOnProduct(await Kernel.create(gpu, spec, scope), shape, !!opts.weighted);
  }

  bind(b: { a: GPUBuffer; b: GPUBuffer; labels: GPUBuffer; weights?: GPUBuffer; scale: GPUBuffer; loss: GPUBuffer; gradA: GPUBuffer; gradB: GPUBuffer }): Dispatch {
    checkOptional(BceOnProduct.kernel, 'weights', 'weighted', this.weighted, b.weights);
    return this.k.bind(present({ scale: b.scale, loss: b.loss, weight: b.weights, logits_a: b.a, logits_b: b.b, labels: b.labels, grad_a: b.gradA, grad_b: b.gradB }));
  }
}

// ---- pairwise ranking --------------------------------------------------------------------

/**
 * Pairwise ranking loss of d = pos - neg over n pairs: 'cs330' 1 - sigmoid(d) (CS330's
 * homework), 'bpr' -log sigmoid(d) = softplus(-d); gradients w.r.t. both scores, times scale.
 */
export class RankingLoss {
  static readonly kernel = 'ranking_loss';

  private constructor(
    private readonly k: Kernel<'scale' | 'loss' | 'pos' | 'neg' | 'grad_pos' | 'grad_neg'>,
    readonly shape: ElementwiseShape,
    readonly kind: RankingKind,
  ) {}

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: { kind: RankingKind }, scope: BufferScope = gpu.buffers): Promise<RankingLoss> {
    const kernel = RankingLoss.kernel;
    if (opts.kind !== 'cs330' && opts.kind !== 'bpr') throw new KernelError(kernel, `kind must be 'cs330' or 'bpr', got '${String(opts.kind)}'`);
    checkElementwise(kernel, shape);
    const bytes = shape.n * 4;
    const spec = {
      kernel,
      source,
      entry: 'ranking',
      constants: { WG, RANKING: opts.kind === 'cs330' ? 0 : 1 },
      params: { p: [shape.n, 0, 0, 0] },
      sizes: { scale: 4, loss: bytes, pos: bytes, neg: bytes, grad_pos: bytes, grad_neg: bytes },
      shape: fmtN(shape),
      grid: grid1d(gpu, shape.n, WG),
    };
    return new RankingLoss(await Kernel.create(gpu, spec, scope), shape, opts.kind);
  }

  bind(b: { pos: GPUBuffer; neg: GPUBuffer; scale: GPUBuffer; loss: GPUBuffer; gradPos: GPUBuffer; gradNeg: GPUBuffer }): Dispatch {
    const d = this.k.bind({ scale: b.scale, loss: b.loss, pos: b.pos, neg: b.neg, grad_pos: b.gradPos, grad_neg: b.gradNeg });
    return { ...d, label: `${RankingLoss.kernel}.${this.kind}` };
  }
}

// ---- mean squared error --------------------------------------------------------------------

export interface MseOptions {
  /** Per-element weights: loss and gradient times w (0 = no target there, as the mask). */
  weighted?: boolean;
  /** A per-element f32 mask: 0 = no target there (loss 0, gradient 0; the target may be NaN). */
  masked?: boolean;
}

/**
 * (pred - target)^2 and its gradient 2 (pred - target) w.r.t. pred, times scale (and w);
 * optional f32 weights and mask.
 */
export class MseLoss {
  static readonly kernel = 'mse_loss';

  private constructor(
    private readonly k: Kernel<string>,
    readonly shape: ElementwiseShape,
    readonly opts: Readonly<MseOptions>,
  ) {}

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: MseOptions = {}, scope: BufferScope = gpu.buffers): Promise<MseLoss> {
    const kernel = MseLoss.kernel;
    checkElementwise(kernel, shape);
    const bytes = shape.n * 4;
    const spec: EntrySpec<string> = {
      kernel,
      source,
      entry: `mse${opts.weighted ? '_weighted' : ''}${opts.masked ? '_masked' : ''}`,
      constants: { WG },
      params: { p: [shape.n, 0, 0, 0] },
      sizes: present({ scale: 4, loss: bytes, weight: opts.weighted ? bytes : undefined, mask: opts.masked ? bytes : undefined, pred: bytes, truth: bytes, grad_pred: bytes }),
      shape: fmtN(shape),
      grid: grid1d(gpu, shape.n, WG),
    };
    return new MseLoss(await Kernel.create(gpu, spec, scope), shape, { ...opts });
  }

  bind(b: { pred: GPUBuffer; target: GPUBuffer; weights?: GPUBuffer; mask?: GPUBuffer; scale: GPUBuffer; loss: GPUBuffer; grad: GPUBuffer }): Dispatch {
    checkOptional(MseLoss.kernel, 'weights', 'weighted', !!this.opts.weighted, b.weights);
    checkOptional(MseLoss.kernel, 'mask', 'masked', !!this.opts.masked, b.mask);
    return this.k.bind(present({ scale: b.scale, loss: b.loss, weight: b.weights, mask: b.mask, pred: b.pred, truth: b.target, grad_pred: b.grad }));
  }
}

// ---- softmax cross-entropy -------------------------------------------------------------------

/**
 * 'rows': one thread per row, for the usual few classes. 'groups': one workgroup per row with
 * a fixed reduction tree, for many classes (hundreds and up).
 */
export type CrossEntropyStrategy = 'rows' | 'groups';

export interface CrossEntropyOptions {
  /** Per-row f32 weights (0 = the row is not trained on, e.g. a support row of an episode). */
  weighted?: boolean;
  /** Also write a per-row f32 flag: 1 where the first maximal logit is the label (and the weight is not 0). */
  accuracy?: boolean;
  /** Default: 'rows' below 256 classes, 'groups' from there. */
  strategy?: CrossEntropyStrategy;
  /** Threads per workgroup for 'groups' (a power of two; default 64). */
  groupSize?: number;
}

/** Rejects labels that are not classes, naming the kernel, the first bad row and the class count. */
export function checkLabels(labels: ArrayLike<number>, cols: number, kernel = SoftmaxCrossEntropy.kernel): void {
  for (let r = 0; r < labels.length; r++) {
    const v = labels[r];
    if (!(Number.isInteger(v) && v >= 0 && v < cols)) throw new KernelError(kernel, `label ${v} of row ${r} is not a class in [0, ${cols})`);
  }
}

/**
 * Softmax cross-entropy over the last dimension of logits [rows, cols] with u32 class labels:
 * loss_r = logsumexp(x_r) - x_r[label], grad = softmax(x_r) - onehot(label), both times scale
 * (and the row's weight). A label >= cols is a host error (see checkLabels); the kernel then
 * scores the row 0 rather than read past it. logits and grad are [rows, cols], labels u32
 * [rows], loss, weights and correct [rows].
 */
export class SoftmaxCrossEntropy {
  static readonly kernel = 'softmax_cross_entropy';

  private constructor(
    private readonly k: Kernel<string>,
    readonly shape: ClassesShape,
    readonly opts: Readonly<Required<CrossEntropyOptions>>,
  ) {}

  static async create(gpu: Gpu, shape: ClassesShape, opts: CrossEntropyOptions = {}, scope: BufferScope = gpu.buffers): Promise<SoftmaxCrossEntropy> {
    const kernel = SoftmaxCrossEntropy.kernel;
    const { rows, cols } = shape;
    checkInteger(kernel, 'rows', rows, 1);
    checkInteger(kernel, 'cols', cols, 1);
    const strategy = opts.strategy ?? (cols < 256 ? 'rows' : 'groups');
    if (strategy !== 'rows' && strategy !== 'groups') throw new KernelError(kernel, `strategy must be 'rows' or 'groups', got '${String(strategy)}'`);
    const groupSize = opts.groupSize ?? 64;
    const maxGroup = gpu.device.limits.maxComputeInvocationsPerWorkgroup;
    if (!(Number.isInteger(groupSize) && groupSize >= 1 && (groupSize & (groupSize - 1)) === 0 && groupSize <= maxGroup)) {
      throw new KernelError(kernel, `groupSize must be a power of two in [1, ${maxGroup}], got ${groupSize}`);
    }
    const full = { weighted: !!opts.weighted, accuracy: !!opts.accuracy, strategy, groupSize };
    const spec: EntrySpec<string> = {
      kernel,
      source,
      entry: `ce_${strategy}${full.weighted ? '_weighted' : ''}${full.accuracy ? '_acc' : ''}`,
      constants: { WG: strategy === 'rows' ? WG : groupSize },
      params: { p: [rows, cols, 0, 0] },
      sizes: present({
        scale: 4,
        loss: rows * 4,
        weight: full.weighted ? rows * 4 : undefined,
        logits: rows * cols * 4,
        grad_logits: rows * cols * 4,
        class_labels: rows * 4,
        correct: full.accuracy ? rows * 4 : undefined,
      }),
      shape: fmtRows(shape),
      grid: strategy === 'rows' ? grid1d(gpu, rows, WG) : grid1d(gpu, rows * groupSize, groupSize),
    };
    return new SoftmaxCrossEntropy(await Kernel.create(gpu, spec, scope), shape, full);
  }

  bind(b: { logits: GPUBuffer; labels: GPUBuffer; weights?: GPUBuffer; scale: GPUBuffer; loss: GPUBuffer; grad: GPUBuffer; correct?: GPUBuffer }): Dispatch {
    const k = SoftmaxCrossEntropy.kernel;
    checkOptional(k, 'weights', 'weighted', this.opts.weighted, b.weights);
    checkOptional(k, 'correct', 'accuracy', this.opts.accuracy, b.correct);
    const d = this.k.bind(present({ scale: b.scale, loss: b.loss, weight: b.weights, logits: b.logits, grad_logits: b.grad, class_labels: b.labels, correct: b.correct }));
    return { ...d, label: `${k}.${this.opts.strategy}` };
  }
}
