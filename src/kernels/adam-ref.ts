// Adam's hyper-parameters, the per-step uniform words, and the float64 references.
import { KernelError } from './kernel.ts';

export interface AdamHyper {
  lr: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** L2 (Adam) or decoupled (AdamW) per the kernel's `decoupled` option. Default 0. */
  weightDecay?: number;
}

/** The hyper-parameters' defaults (PyTorch's). */
export const ADAM_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } as const;

/** The scalars of step t, in float64, in AdamStep's word order. */
export interface AdamScalars {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  eps: number;
  weightDecay: number;
  /** lr / bc1 */
  stepSize: number;
  /** sqrt(bc2) */
  bc2Sqrt: number;
  /** 1 - lr * weightDecay (AdamW's parameter decay) */
  decay: number;
  lr: number;
  /** 1 - beta1^t */
  bc1: number;
  /** 1 - beta2^t */
  bc2: number;
}

/**
 * Layout of the step uniform (struct AdamStep in shaders/adam.wgsl), 12 f32 words, 48 bytes:
 *   0 beta1        1 1 - beta1    2 beta2            3 1 - beta2
 *   4 eps          5 weight_decay 6 lr / bc1         7 sqrt(bc2)
 *   8 1 - lr * wd  9 lr          10 bc1 = 1 - beta1^t 11 bc2 = 1 - beta2^t
 */
export const ADAM_STEP_WORDS = 12;
export const ADAM_STEP_BYTES = ADAM_STEP_WORDS * 4;

const KERNEL = 'adam_step';

/** Step t's scalars, computed in float64 as PyTorch computes them on the host. Checks PyTorch's ranges. */
export function adamScalars(t: number, hp: AdamHyper): AdamScalars {
  const { lr, beta1 = ADAM_DEFAULTS.beta1, beta2 = ADAM_DEFAULTS.beta2, eps = ADAM_DEFAULTS.eps, weightDecay = ADAM_DEFAULTS.weightDecay } = hp;
  if (!Number.isInteger(t) || t < 1) throw new KernelError(KERNEL, `the step count must be an integer >= 1 (the first step is 1), got ${t}`);
  if (!(lr >= 0 && Number.isFinite(lr))) throw new KernelError(KERNEL, `lr must be a finite number >= 0, got ${lr}`);
  if (!(beta1 >= 0 && beta1 < 1)) throw new KernelError(KERNEL, `beta1 must be in [0, 1), got ${beta1}`);
  if (!(beta2 >= 0 && beta2 < 1)) throw new KernelError(KERNEL, `beta2 must be in [0, 1), got ${beta2}`);
  if (!(eps >= 0 && Number.isFinite(eps))) throw new KernelError(KERNEL, `eps must be a finite number >= 0, got ${eps}`);
  if (!(weightDecay >= 0 && Number.isFinite(weightDecay))) throw new KernelError(KERNEL, `weightDecay must be a finite number >= 0, got ${weightDecay}`);
  const bc1 = 1 - beta1 ** t;
  const bc2 = 1 - beta2 ** t;
  return {
    beta1,
    oneMinusBeta1: 1 - beta1,
    beta2,
    oneMinusBeta2: 1 - beta2,
    eps,
    weightDecay,
    stepSize: lr / bc1,
    bc2Sqrt: Math.sqrt(bc2),
    decay: 1 - lr * weightDecay,
    lr,
    bc1,
    bc2,
  };
}

/** The 12 f32 words of the step uniform for step t (1-based). Write them before each step. */
export function adamStepWords(t: number, hp: AdamHyper, out = new Float32Array(ADAM_STEP_WORDS)): Float32Array {
  const s = adamScalars(t, hp);
  out.set([s.beta1, s.oneMinusBeta1, s.beta2, s.oneMinusBeta2, s.eps, s.weightDecay, s.stepSize, s.bc2Sqrt, s.decay, s.lr, s.bc1, s.bc2]);
  return out;
}

/** Adam state a reference updates in place: Float64Array for float64, Float32Array to emulate f32. */
export interface AdamRefState {
  param: Float64Array | Float32Array;
  m: Float64Array | Float32Array;
  v: Float64Array | Float32Array;
}

export interface AdamRefOptions {
  decoupled?: boolean;
  /**
   * Rounding after every op: identity (default) for the float64 reference; Math.fround
   * emulates the shader's f32 order of operations (scalars rounded once, as in the uniform).
   */
  round?: (x: number) => number;
}

function lerpTorch(a: number, b: number, w: number, r: (x: number) => number): number {
  return Math.abs(w) < 0.5 ? r(a + r(w * r(b - a))) : r(b - r(r(b - a) * r(1 - w)));
}

function update(s: AdamRefState, grad: ArrayLike<number>, i: number, c: AdamScalars, decoupled: boolean, r: (x: number) => number): void {
  let p = s.param[i];
  let g = grad[i];
  if (decoupled) p = r(p * c.decay);
  else if (c.weightDecay !== 0) g = r(g + r(c.weightDecay * p));
  const m = lerpTorch(s.m[i], g, c.oneMinusBeta1, r);
  const v = r(r(s.v[i] * c.beta2) + r(r(c.oneMinusBeta2 * g) * g));
  const denom = r(r(r(Math.sqrt(v)) / c.bc2Sqrt) + c.eps);
  s.m[i] = m;
  s.v[i] = v;
  s.param[i] = r(p + r(-c.stepSize * r(m / denom)));
}

function scalarsFor(t: number, hp: AdamHyper, r: (x: number) => number): AdamScalars {
  const c = adamScalars(t, hp);
  for (const k of Object.keys(c) as (keyof AdamScalars)[]) c[k] = r(c[k]);
  return c;
}

const identity = (x: number): number => x;

/** One dense Adam step t (1-based) over every element, in place. */
export function adamRef(s: AdamRefState, grad: ArrayLike<number>, t: number, hp: AdamHyper, opts: AdamRefOptions = {}): void {
  const r = opts.round ?? identity;
  const c = scalarsFor(t, hp, r);
  for (let i = 0; i < s.param.length; i++) update(s, grad, i, c, opts.decoupled ?? false, r);
}

/** One lazy Adam step: only the listed rows (each once) of a [rows, dim] table, in place. */
export function lazyAdamRef(
  s: AdamRefState,
  grad: ArrayLike<number>,
  touchedRows: Iterable<number>,
  dim: number,
  t: number,
  hp: AdamHyper,
  opts: AdamRefOptions = {},
): void {
  const r = opts.round ?? identity;
  const c = scalarsFor(t, hp, r);
  for (const row of new Set(touchedRows)) {
    for (let d = 0; d < dim; d++) update(s, grad, row * dim + d, c, opts.decoupled ?? false, r);
  }
}
