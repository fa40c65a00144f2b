// Weight initialisers, as PyTorch defines them, drawing from the one seeded Rng. Each returns a
// fresh Float32Array for Graph.param. Matrices are row-major; say which layout you store: the
// engine keeps weights input-major ([in, out]) where PyTorch keeps [out, in].
import type { Rng } from '../random.ts';

function check(what: string, n: number, min = 1): void {
  if (!Number.isInteger(n) || n < min) throw new Error(`${what} must be an integer >= ${min}, got ${n}`);
}

/**
 * An initialiser as a layer uses it: the values of one parameter of `shape`, drawn from `rng`.
 * 2-D weights are stored input-major [in, out], so fan-in is shape[0] and PyTorch's [out, in]
 * matrix is the transpose.
 */
export type Init = (rng: Rng, shape: readonly number[]) => Float32Array;

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function matrix(what: string, shape: readonly number[]): [number, number] {
  if (shape.length !== 2) throw new Error(`${what} initialises a 2-D [in, out] weight, got shape [${shape.join(', ')}]`);
  return [shape[0], shape[1]];
}

/** The named initialisers, as layer options: `new Linear(rng, 4, 8, { init: init.xavier() })`. */
export const init = {
  /** uniform(±bound): PyTorch's Linear default for weight and bias is bound = 1/√fan_in. */
  uniform: (bound: number): Init => (rng, shape) => uniformInit(rng, bound, sizeOf(shape)),
  /** normal(0, std²) (torch.nn.init.normal_). */
  normal: (std: number): Init => (rng, shape) => normalInit(rng, std, sizeOf(shape)),
  /** Zeros; draws nothing. */
  zeros: (): Init => (_rng, shape) => new Float32Array(sizeOf(shape)),
  /** Glorot uniform (torch.nn.init.xavier_uniform_) of an [in, out] weight. */
  xavier: (gain = 1): Init => (rng, shape) => xavierUniform(rng, ...matrix('xavier', shape), gain),
  /** torch.nn.init.orthogonal_ of PyTorch's [out, in] weight, stored transposed as [in, out]. */
  orthogonal: (gain = 1): Init => (rng, shape) => {
    const [fanIn, fanOut] = matrix('orthogonal', shape);
    return transpose(orthogonal(rng, fanOut, fanIn, gain), fanOut, fanIn);
  },
};

/** `count` values normal(0, std²), one Rng.normal() each. */
export function normalInit(rng: Rng, std: number, count: number): Float32Array {
  check('count', count, 0);
  if (!(std >= 0 && Number.isFinite(std))) throw new Error(`the standard deviation must be a finite number >= 0, got ${std}`);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = std * rng.normal();
  return out;
}

/** `count` values uniform in [-bound, bound). */
export function uniformInit(rng: Rng, bound: number, count: number): Float32Array {
  check('count', count, 0);
  if (!(bound >= 0 && Number.isFinite(bound))) throw new Error(`the bound must be a finite number >= 0, got ${bound}`);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (rng.uniform() * 2 - 1) * bound;
  return out;
}

/**
 * PyTorch nn.Linear's default for its weight and its bias alike: uniform(±1/√fanIn)
 * (kaiming_uniform_ with a = √5 works out to exactly this bound).
 */
export function linearInit(rng: Rng, fanIn: number, count: number): Float32Array {
  check('fanIn', fanIn);
  return uniformInit(rng, 1 / Math.sqrt(fanIn), count);
}

/** Glorot / torch.nn.init.xavier_uniform_: uniform(±gain·√(6 / (fanIn + fanOut))), fanIn·fanOut values. */
export function xavierUniform(rng: Rng, fanIn: number, fanOut: number, gain = 1): Float32Array {
  check('fanIn', fanIn);
  check('fanOut', fanOut);
  return uniformInit(rng, gain * Math.sqrt(6 / (fanIn + fanOut)), fanIn * fanOut);
}

/** The [cols, rows] transpose of a row-major [rows, cols] matrix. */
export function transpose(a: ArrayLike<number>, rows: number, cols: number): Float32Array {
  if (a.length !== rows * cols) throw new Error(`transpose: ${a.length} values are not a [${rows}, ${cols}] matrix`);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/**
 * Q of A = QR for a tall m×n matrix (m >= n, row-major), by Householder reflections in float64,
 * with each column signed so that R's diagonal is positive: the unique thin QR factor.
 */
export function thinQ(a: ArrayLike<number>, m: number, n: number): Float64Array {
  if (m < n) throw new Error(`thinQ needs a tall matrix, got [${m}, ${n}]`);
  const A = Float64Array.from(a);
  const vs: Float64Array[] = [];
  const signs = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += A[i * n + k] ** 2;
    norm = Math.sqrt(norm);
    const x0 = A[k * n + k];
    // alpha = -sign(x0)·|x| avoids cancellation in v = x - alpha·e1; R[k][k] = alpha.
    const alpha = x0 >= 0 ? -norm : norm;
    const v = new Float64Array(m - k);
    for (let i = k; i < m; i++) v[i - k] = A[i * n + k];
    v[0] -= alpha;
    let vn = 0;
    for (const x of v) vn += x * x;
    vn = Math.sqrt(vn);
    if (vn > 0) for (let i = 0; i < v.length; i++) v[i] /= vn;
    vs.push(v);
    signs[k] = alpha < 0 ? -1 : 1;
    // A[k:, k:] -= 2 v (vᵀ A[k:, k:])
    for (let j = k; j < n; j++) {
      let d = 0;
      for (let i = k; i < m; i++) d += v[i - k] * A[i * n + j];
      for (let i = k; i < m; i++) A[i * n + j] -= 2 * v[i - k] * d;
    }
  }
  // Q = H_0 ··· H_{n-1} applied to the first n columns of the identity, right to left.
  const Q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) Q[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k];
    for (let j = 0; j < n; j++) {
      let d = 0;
      for (let i = k; i < m; i++) d += v[i - k] * Q[i * n + j];
      for (let i = k; i < m; i++) Q[i * n + j] -= 2 * v[i - k] * d;
    }
  }
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) Q[i * n + j] *= signs[j];
  return Q;
}

/**
 * torch.nn.init.orthogonal_ on a [rows, cols] matrix (row-major): a standard normal matrix
 * drawn row by row, QR-factorised (its transpose when it is wide), Q with R's diagonal made
 * positive, times gain. Tall: orthonormal columns; wide: orthonormal rows.
 */
export function orthogonal(rng: Rng, rows: number, cols: number, gain = 1): Float32Array {
  check('rows', rows);
  check('cols', cols);
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  const out = new Float32Array(rows * cols);
  if (rows >= cols) {
    const q = thinQ(a, rows, cols);
    for (let i = 0; i < q.length; i++) out[i] = gain * q[i];
  } else {
    // QR of the [cols, rows] transpose, and Q transposed back.
    const at = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) at[c * rows + r] = a[r * cols + c];
    const q = thinQ(at, cols, rows);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = gain * q[c * rows + r];
  }
  return out;
}
