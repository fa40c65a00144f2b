// Float64 references for the matmul family: the product with its fused epilogue, the
// activation backward, the bias gradient, and a whole dense layer forward and backward.

export type Activation = 'none' | 'relu' | 'sigmoid' | 'tanh';

/** The product's shape: op(A) is [m, k], op(B) is [k, n], C is [m, n]. */
export interface MatmulShape {
  m: number;
  n: number;
  k: number;
}

export interface MatmulRefOptions {
  /** A is stored [k, m] and used transposed. */
  transA?: boolean;
  /** B is stored [n, k] and used transposed. */
  transB?: boolean;
  bias?: ArrayLike<number>;
  activation?: Activation;
  /** C's previous contents: the result is added to them. */
  accumulateInto?: ArrayLike<number>;
}

export function activateRef(z: number, act: Activation): number {
  switch (act) {
    case 'relu':
      return z > 0 ? z : 0;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-z));
    case 'tanh':
      return Math.tanh(z);
    case 'none':
      return z;
  }
}

/** act'(z) written in terms of y = act(z), as the GPU computes it. */
export function activationSlopeRef(y: number, act: Activation): number {
  switch (act) {
    case 'relu':
      return y > 0 ? 1 : 0;
    case 'sigmoid':
      return y * (1 - y);
    case 'tanh':
      return (1 - y) * (1 + y);
    case 'none':
      return 1;
  }
}

/** op(A)[i, kk] and op(B)[kk, j] as readers over row-major storage. */
function readers(a: ArrayLike<number>, b: ArrayLike<number>, s: MatmulShape, transA: boolean, transB: boolean) {
  const aAt = transA ? (i: number, kk: number) => a[kk * s.m + i] : (i: number, kk: number) => a[i * s.k + kk];
  const bAt = transB ? (kk: number, j: number) => b[j * s.k + kk] : (kk: number, j: number) => b[kk * s.n + j];
  return { aAt, bAt };
}

/** C = act(op(A)·op(B) + bias) (+ C's previous contents). */
export function matmulRef(a: ArrayLike<number>, b: ArrayLike<number>, s: MatmulShape, o: MatmulRefOptions = {}): Float64Array {
  const { aAt, bAt } = readers(a, b, s, o.transA ?? false, o.transB ?? false);
  const act = o.activation ?? 'none';
  const c = new Float64Array(s.m * s.n);
  for (let i = 0; i < s.m; i++) {
    for (let j = 0; j < s.n; j++) {
      let acc = 0;
      for (let kk = 0; kk < s.k; kk++) acc += aAt(i, kk) * bAt(kk, j);
      if (o.bias) acc += o.bias[j];
      c[i * s.n + j] = activateRef(acc, act) + (o.accumulateInto ? o.accumulateInto[i * s.n + j] : 0);
    }
  }
  return c;
}

/** Σ_k |op(A)[i,k]|·|op(B)[k,j]|: the scale of an output's rounding error. */
export function matmulAbsRef(a: ArrayLike<number>, b: ArrayLike<number>, s: MatmulShape, transA = false, transB = false): Float64Array {
  const { aAt, bAt } = readers(a, b, s, transA, transB);
  const c = new Float64Array(s.m * s.n);
  for (let i = 0; i < s.m; i++) {
    for (let j = 0; j < s.n; j++) {
      let acc = 0;
      for (let kk = 0; kk < s.k; kk++) acc += Math.abs(aAt(i, kk) * bAt(kk, j));
      c[i * s.n + j] = acc;
    }
  }
  return c;
}

/** dZ = dY ⊙ act'(Z), from the output Y = act(Z). */
export function actBackwardRef(dy: ArrayLike<number>, y: ArrayLike<number>, act: Activation): Float64Array {
  const dz = new Float64Array(dy.length);
  for (let i = 0; i < dy.length; i++) dz[i] = dy[i] * activationSlopeRef(y[i], act);
  return dz;
}

/** db[j] = Σ_i dZ[i, j] over an [m, n] dZ. */
export function biasGradRef(dz: ArrayLike<number>, m: number, n: number): Float64Array {
  const db = new Float64Array(n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) db[j] += dz[i * n + j];
  return db;
}

/** A dense layer Y = act(X·W + b): X [batch, in], W [in, out], b [out]. */
export interface DenseShape {
  batch: number;
  in: number;
  out: number;
}

export function denseForwardRef(x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number>, s: DenseShape, act: Activation): Float64Array {
  return matmulRef(x, w, { m: s.batch, k: s.in, n: s.out }, { bias: b, activation: act });
}

/** Given dY and the forward's Y: dX = dZ·Wᵀ, dW = Xᵀ·dZ, db = Σ_rows dZ. */
export function denseBackwardRef(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  y: ArrayLike<number>,
  dy: ArrayLike<number>,
  s: DenseShape,
  act: Activation,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dz = actBackwardRef(dy, y, act);
  return {
    dx: matmulRef(dz, w, { m: s.batch, k: s.out, n: s.in }, { transB: true }),
    dw: matmulRef(x, dz, { m: s.in, k: s.batch, n: s.out }, { transA: true }),
    db: biasGradRef(dz, s.batch, s.out),
  };
}

/**
 * Per element, how far an f32 product may be from matmulRef: 4·sqrt(k+1)·eps·(Σ|a||b| + |bias|)
 * (abs: matmulAbsRef) plus 16·eps·|ref| for the epilogue's rounding. Tests and bench use it.
 */
export function matmulErrorBound(ref: ArrayLike<number>, abs: ArrayLike<number>, k: number, n: number, bias?: ArrayLike<number>): Float64Array {
  const eps = 2 ** -23;
  return Float64Array.from({ length: ref.length }, (_, i) => {
    const scale = abs[i] + (bias ? Math.abs(bias[i % n]) : 0);
    return 4 * Math.sqrt(k + 1) * eps * scale + 16 * eps * Math.abs(ref[i]) + 1e-30;
  });
}
