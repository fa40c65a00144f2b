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
import { bindGroup, checkBindingSize, checkBufferSize, checkInteger, grid1d, KernelError, pipeline, type Dispatch } from './kernel.ts';
import type { RankingKind } from './losses-ref.ts';

export { bceWithLogitsRef, mseRef, rankingRef, softmaxCrossEntropyRef, type RankingKind } from './losses-ref.ts';

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

function checkElementwise(gpu: Gpu, kernel: string, s: ElementwiseShape): void {
  // An empty batch has no mean loss; a recorded step always has work.
  checkInteger(kernel, 'n', s.n, 1);
  checkBindingSize(gpu, kernel, `a tensor of ${s.n} elements`, s.n * 4);
}

/** An optional binding: present exactly when the kernel was created with `flag`. */
function optionalBuffer(
  kernel: string,
  name: string,
  flag: string,
  enabled: boolean,
  buffer: GPUBuffer | undefined,
  bytes: number,
  shape: string,
): GPUBuffer | undefined {
  if (enabled && !buffer) throw new KernelError(kernel, `was created with ${flag}: true, so bind needs ${name}`);
  if (!enabled && buffer) throw new KernelError(kernel, `got ${name} but was created without ${flag}: true; create it with ${flag}: true`);
  if (buffer) checkBufferSize(kernel, name, buffer, bytes, shape);
  return buffer;
}

function withOptional(resources: Record<number, GPUBuffer>, binding: number, buffer: GPUBuffer | undefined): Record<number, GPUBuffer> {
  if (buffer) resources[binding] = buffer;
  return resources;
}

// ---- sigmoid + binary cross-entropy ------------------------------------------------------

export interface BceOptions {
  /** Per-element weights: loss and gradient times w. */
  weighted?: boolean;
  /** A per-element f32 mask: 0 = no label there (loss 0, gradient 0; the label may be NaN). */
  masked?: boolean;
}

/**
 * Sigmoid + binary cross-entropy from logits x and labels y in [0, 1]:
 * loss = max(x, 0) - x y + log1p(e^-|x|), d loss / dx = sigmoid(x) - y, both times scale (and w).
 * Finite for any finite x. Bindings: 0 params {n}, 1 scale, 2 loss (rw), 3 weights, 4 mask,
 * 5 logits, 6 labels, 7 grad (rw) — all f32 [n].
 */
export class BceWithLogits {
  static readonly kernel = 'bce_with_logits';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: ElementwiseShape,
    readonly opts: Readonly<BceOptions>,
  ) {}

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: BceOptions = {}, scope: BufferScope = gpu.buffers): Promise<BceWithLogits> {
    const k = BceWithLogits.kernel;
    checkElementwise(gpu, k, shape);
    const entry = `bce${opts.weighted ? '_weighted' : ''}${opts.masked ? '_masked' : ''}`;
    const pipe = await pipeline(gpu, 'losses', source, entry, { WG });
    const params = scope.uniform(`${k}.params`, [shape.n, 0, 0, 0]);
    return new BceWithLogits(gpu, pipe, params, shape, { ...opts });
  }

  bind(b: { logits: GPUBuffer; labels: GPUBuffer; weights?: GPUBuffer; mask?: GPUBuffer; scale: GPUBuffer; loss: GPUBuffer; grad: GPUBuffer }): Dispatch {
    const k = BceWithLogits.kernel;
    const s = fmtN(this.shape);
    const bytes = this.shape.n * 4;
    checkBufferSize(k, 'logits', b.logits, bytes, s);
    checkBufferSize(k, 'labels', b.labels, bytes, s);
    checkBufferSize(k, 'scale', b.scale, 4, s);
    checkBufferSize(k, 'loss', b.loss, bytes, s);
    checkBufferSize(k, 'grad', b.grad, bytes, s);
    const weights = optionalBuffer(k, 'weights', 'weighted', !!this.opts.weighted, b.weights, bytes, s);
    const mask = optionalBuffer(k, 'mask', 'masked', !!this.opts.masked, b.mask, bytes, s);
    const res: Record<number, GPUBuffer> = { 0: this.params, 1: b.scale, 2: b.loss, 5: b.logits, 6: b.labels, 7: b.grad };
    withOptional(withOptional(res, 3, weights), 4, mask);
    return { label: k, pipeline: this.pipe, bindGroup: bindGroup(this.gpu, this.pipe, k, res), grid: grid1d(this.gpu, this.shape.n, WG) };
  }
}

// ---- pairwise ranking --------------------------------------------------------------------

/**
 * Pairwise ranking loss of d = pos - neg over n pairs: 'cs330' 1 - sigmoid(d) (CS330's
 * homework), 'bpr' -log sigmoid(d) = softplus(-d); gradients w.r.t. both scores, times scale.
 * Bindings: 0 params {n}, 1 scale, 2 loss (rw), 8 pos, 9 neg, 10 gradPos (rw), 11 gradNeg (rw).
 */
export class RankingLoss {
  static readonly kernel = 'ranking_loss';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: ElementwiseShape,
    readonly kind: RankingKind,
  ) {}

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: { kind: RankingKind }, scope: BufferScope = gpu.buffers): Promise<RankingLoss> {
    const k = RankingLoss.kernel;
    if (opts.kind !== 'cs330' && opts.kind !== 'bpr') throw new KernelError(k, `kind must be 'cs330' or 'bpr', got '${String(opts.kind)}'`);
    checkElementwise(gpu, k, shape);
    const pipe = await pipeline(gpu, 'losses', source, 'ranking', { WG, RANKING: opts.kind === 'cs330' ? 0 : 1 });
    const params = scope.uniform(`${k}.params`, [shape.n, 0, 0, 0]);
    return new RankingLoss(gpu, pipe, params, shape, opts.kind);
  }

  bind(b: { pos: GPUBuffer; neg: GPUBuffer; scale: GPUBuffer; loss: GPUBuffer; gradPos: GPUBuffer; gradNeg: GPUBuffer }): Dispatch {
    const k = RankingLoss.kernel;
    const s = fmtN(this.shape);
    const bytes = this.shape.n * 4;
    checkBufferSize(k, 'pos', b.pos, bytes, s);
    checkBufferSize(k, 'neg', b.neg, bytes, s);
    checkBufferSize(k, 'scale', b.scale, 4, s);
    checkBufferSize(k, 'loss', b.loss, bytes, s);
    checkBufferSize(k, 'gradPos', b.gradPos, bytes, s);
    checkBufferSize(k, 'gradNeg', b.gradNeg, bytes, s);
    const res = { 0: this.params, 1: b.scale, 2: b.loss, 8: b.pos, 9: b.neg, 10: b.gradPos, 11: b.gradNeg };
    return { label: `${k}.${this.kind}`, pipeline: this.pipe, bindGroup: bindGroup(this.gpu, this.pipe, k, res), grid: grid1d(this.gpu, this.shape.n, WG) };
  }
}

// ---- mean squared error --------------------------------------------------------------------

/**
 * (pred - target)^2 and its gradient 2 (pred - target) w.r.t. pred, times scale; optional f32
 * mask (0 = no target there; the target may be NaN). Bindings: 0 params {n}, 1 scale,
 * 2 loss (rw), 4 mask, 12 pred, 13 target, 14 grad (rw).
 */
export class MseLoss {
  static readonly kernel = 'mse_loss';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: ElementwiseShape,
    readonly masked: boolean,
  ) {}

  static async create(gpu: Gpu, shape: ElementwiseShape, opts: { masked?: boolean } = {}, scope: BufferScope = gpu.buffers): Promise<MseLoss> {
    const k = MseLoss.kernel;
    checkElementwise(gpu, k, shape);
    const pipe = await pipeline(gpu, 'losses', source, opts.masked ? 'mse_masked' : 'mse', { WG });
    const params = scope.uniform(`${k}.params`, [shape.n, 0, 0, 0]);
    return new MseLoss(gpu, pipe, params, shape, !!opts.masked);
  }

  bind(b: { pred: GPUBuffer; target: GPUBuffer; mask?: GPUBuffer; scale: GPUBuffer; loss: GPUBuffer; grad: GPUBuffer }): Dispatch {
    const k = MseLoss.kernel;
    const s = fmtN(this.shape);
    const bytes = this.shape.n * 4;
    checkBufferSize(k, 'pred', b.pred, bytes, s);
    checkBufferSize(k, 'target', b.target, bytes, s);
    checkBufferSize(k, 'scale', b.scale, 4, s);
    checkBufferSize(k, 'loss', b.loss, bytes, s);
    checkBufferSize(k, 'grad', b.grad, bytes, s);
    const mask = optionalBuffer(k, 'mask', 'masked', this.masked, b.mask, bytes, s);
    const res = withOptional({ 0: this.params, 1: b.scale, 2: b.loss, 12: b.pred, 13: b.target, 14: b.grad }, 4, mask);
    return { label: k, pipeline: this.pipe, bindGroup: bindGroup(this.gpu, this.pipe, k, res), grid: grid1d(this.gpu, this.shape.n, WG) };
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
 * scores the row 0 rather than read past it. Bindings: 0 params {rows, cols}, 1 scale,
 * 2 loss [rows] (rw), 3 weights [rows], 5 logits [rows, cols], 7 grad [rows, cols] (rw),
 * 15 labels u32 [rows], 16 correct [rows] (rw).
 */
export class SoftmaxCrossEntropy {
  static readonly kernel = 'softmax_cross_entropy';

  private constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    private readonly params: GPUBuffer,
    readonly shape: ClassesShape,
    readonly opts: Readonly<Required<CrossEntropyOptions>>,
  ) {}

  static async create(gpu: Gpu, shape: ClassesShape, opts: CrossEntropyOptions = {}, scope: BufferScope = gpu.buffers): Promise<SoftmaxCrossEntropy> {
    const k = SoftmaxCrossEntropy.kernel;
    checkInteger(k, 'rows', shape.rows, 1);
    checkInteger(k, 'cols', shape.cols, 1);
    checkBindingSize(gpu, k, `logits ${fmtRows(shape)}`, shape.rows * shape.cols * 4);
    const strategy = opts.strategy ?? (shape.cols < 256 ? 'rows' : 'groups');
    if (strategy !== 'rows' && strategy !== 'groups') throw new KernelError(k, `strategy must be 'rows' or 'groups', got '${String(strategy)}'`);
    const groupSize = opts.groupSize ?? 64;
    const maxGroup = gpu.device.limits.maxComputeInvocationsPerWorkgroup;
    if (!(Number.isInteger(groupSize) && groupSize >= 1 && (groupSize & (groupSize - 1)) === 0 && groupSize <= maxGroup)) {
      throw new KernelError(k, `groupSize must be a power of two in [1, ${maxGroup}], got ${groupSize}`);
    }
    const full = { weighted: !!opts.weighted, accuracy: !!opts.accuracy, strategy, groupSize };
    const entry = `ce_${strategy}${full.weighted ? '_weighted' : ''}${full.accuracy ? '_acc' : ''}`;
    const pipe = await pipeline(gpu, 'losses', source, entry, { WG: strategy === 'rows' ? WG : groupSize });
    const params = scope.uniform(`${k}.params`, [shape.rows, shape.cols, 0, 0]);
    return new SoftmaxCrossEntropy(gpu, pipe, params, shape, full);
  }

  bind(b: { logits: GPUBuffer; labels: GPUBuffer; weights?: GPUBuffer; scale: GPUBuffer; loss: GPUBuffer; grad: GPUBuffer; correct?: GPUBuffer }): Dispatch {
    const k = SoftmaxCrossEntropy.kernel;
    const s = fmtRows(this.shape);
    const { rows, cols } = this.shape;
    checkBufferSize(k, 'logits', b.logits, rows * cols * 4, s);
    checkBufferSize(k, 'labels', b.labels, rows * 4, s);
    checkBufferSize(k, 'scale', b.scale, 4, s);
    checkBufferSize(k, 'loss', b.loss, rows * 4, s);
    checkBufferSize(k, 'grad', b.grad, rows * cols * 4, s);
    const weights = optionalBuffer(k, 'weights', 'weighted', this.opts.weighted, b.weights, rows * 4, s);
    const correct = optionalBuffer(k, 'correct', 'accuracy', this.opts.accuracy, b.correct, rows * 4, s);
    const res: Record<number, GPUBuffer> = { 0: this.params, 1: b.scale, 2: b.loss, 5: b.logits, 7: b.grad, 15: b.labels };
    withOptional(withOptional(res, 3, weights), 16, correct);
    // 'groups' runs one workgroup per row: rows * groupSize threads.
    const grid = this.opts.strategy === 'rows' ? grid1d(this.gpu, rows, WG) : grid1d(this.gpu, rows * this.opts.groupSize, this.opts.groupSize);
    return { label: `${k}.${this.opts.strategy}`, pipeline: this.pipe, bindGroup: bindGroup(this.gpu, this.pipe, k, res), grid };
  }
}
