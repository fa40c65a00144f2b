// Float64 references for the LSTM: one cell (what the GPU kernels compute) and a whole layer
// over T steps with plain JS matmuls (what the kernels plus the caller's matmuls compose to).
// Gate order i, f, g, o as in PyTorch; weights are stored input-major, W_ih [I, 4H] and
// W_hh [H, 4H], so the projections are x . W_ih and h . W_hh (PyTorch stores the transposes).

export const sigmoidRef = (x: number): number => 1 / (1 + Math.exp(-x));

export interface CellForwardRef {
  /** [B, 4H] post-activation gates. */
  gates: Float64Array;
  /** [B, H] */
  c: Float64Array;
  /** [B, H] */
  h: Float64Array;
}

/** One step from the pre-activations `pre` = gx[t] + gh [B, 4H] and c[t-1] (null: zero). */
export function lstmCellForwardRef(pre: ArrayLike<number>, cPrev: ArrayLike<number> | null, batch: number, hidden: number): CellForwardRef {
  const H = hidden;
  const gates = new Float64Array(batch * 4 * H);
  const c = new Float64Array(batch * H);
  const h = new Float64Array(batch * H);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < H; j++) {
      const r = b * 4 * H + j;
      const i = sigmoidRef(pre[r]);
      const f = sigmoidRef(pre[r + H]);
      const g = Math.tanh(pre[r + 2 * H]);
      const o = sigmoidRef(pre[r + 3 * H]);
      gates[r] = i;
      gates[r + H] = f;
      gates[r + 2 * H] = g;
      gates[r + 3 * H] = o;
      const k = b * H + j;
      c[k] = f * (cPrev ? cPrev[k] : 0) + i * g;
      h[k] = o * Math.tanh(c[k]);
    }
  }
  return { gates, c, h };
}

export interface CellBackwardRef {
  /** [B, 4H] gradients of the pre-activations. */
  dGates: Float64Array;
  /** [B, H] */
  dcPrev: Float64Array;
}

/**
 * One step backward from the saved post-activation gates [B, 4H], c[t-1] (null: zero), c[t],
 * the total gradient dh of h[t] and the gradient dcNext of c[t] from later steps (null: zero).
 */
export function lstmCellBackwardRef(
  gates: ArrayLike<number>,
  cPrev: ArrayLike<number> | null,
  c: ArrayLike<number>,
  dh: ArrayLike<number>,
  dcNext: ArrayLike<number> | null,
  batch: number,
  hidden: number,
): CellBackwardRef {
  const H = hidden;
  const dGates = new Float64Array(batch * 4 * H);
  const dcPrev = new Float64Array(batch * H);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < H; j++) {
      const r = b * 4 * H + j;
      const k = b * H + j;
      const [i, f, g, o] = [gates[r], gates[r + H], gates[r + 2 * H], gates[r + 3 * H]];
      const tc = Math.tanh(c[k]);
      const dc = (dcNext ? dcNext[k] : 0) + dh[k] * o * (1 - tc * tc);
      dGates[r] = dc * g * i * (1 - i);
      dGates[r + H] = dc * (cPrev ? cPrev[k] : 0) * f * (1 - f);
      dGates[r + 2 * H] = dc * i * (1 - g * g);
      dGates[r + 3 * H] = dh[k] * tc * o * (1 - o);
      dcPrev[k] = dc * f;
    }
  }
  return { dGates, dcPrev };
}

// ---- plain matmuls ---------------------------------------------------------------------

/** C [m, n] = A [m, k] . B [k, n], row-major, in float64. */
export function matmulRef(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let r = 0; r < m; r++) {
    for (let p = 0; p < k; p++) {
      const av = a[r * k + p];
      if (av === 0) continue;
      for (let q = 0; q < n; q++) c[r * n + q] += av * b[p * n + q];
    }
  }
  return c;
}

/** The [cols, rows] transpose of a row-major [rows, cols] matrix. */
export function transposeRef(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let q = 0; q < cols; q++) t[q * rows + r] = a[r * cols + q];
  return t;
}

// ---- a whole layer ---------------------------------------------------------------------

export interface LstmLayerShape {
  steps: number;
  batch: number;
  input: number;
  hidden: number;
}

export interface LstmWeights {
  /** [I, 4H] */
  wIh: ArrayLike<number>;
  /** [H, 4H] */
  wHh: ArrayLike<number>;
  /** [4H], added once (PyTorch's b_ih + b_hh). */
  bias: ArrayLike<number>;
}

export interface LayerForwardRef {
  /** [T, B, 4H] x . W_ih + bias: the input projection the GPU cell reads. */
  gx: Float64Array;
  /** [T, B, 4H] post-activation. */
  gates: Float64Array;
  /** [T, B, H] */
  c: Float64Array;
  /** [T, B, H] */
  h: Float64Array;
}

/** x [T, B, I] through the layer from zero state. */
export function lstmLayerForwardRef(x: ArrayLike<number>, w: LstmWeights, s: LstmLayerShape): LayerForwardRef {
  const { steps: T, batch: B, input: I, hidden: H } = s;
  const gx = matmulRef(x, w.wIh, T * B, I, 4 * H);
  for (let r = 0; r < T * B; r++) for (let q = 0; q < 4 * H; q++) gx[r * 4 * H + q] += w.bias[q];
  const gates = new Float64Array(T * B * 4 * H);
  const c = new Float64Array(T * B * H);
  const h = new Float64Array(T * B * H);
  for (let t = 0; t < T; t++) {
    const pre = gx.slice(t * B * 4 * H, (t + 1) * B * 4 * H);
    if (t > 0) {
      const gh = matmulRef(h.subarray((t - 1) * B * H, t * B * H), w.wHh, B, H, 4 * H);
      for (let q = 0; q < pre.length; q++) pre[q] += gh[q];
    }
    const cell = lstmCellForwardRef(pre, t > 0 ? c.subarray((t - 1) * B * H, t * B * H) : null, B, H);
    gates.set(cell.gates, t * B * 4 * H);
    c.set(cell.c, t * B * H);
    h.set(cell.h, t * B * H);
  }
  return { gx, gates, c, h };
}

export interface LayerBackwardRef {
  /** [T, B, 4H] pre-activation gradients. */
  dGates: Float64Array;
  /** [T, B, I] */
  dx: Float64Array;
  /** [I, 4H] */
  dWih: Float64Array;
  /** [H, 4H] */
  dWhh: Float64Array;
  /** [4H] */
  dBias: Float64Array;
}

/** Backpropagation through time of a loss whose gradient with respect to h is dhOut [T, B, H]. */
export function lstmLayerBackwardRef(x: ArrayLike<number>, w: LstmWeights, s: LstmLayerShape, fwd: LayerForwardRef, dhOut: ArrayLike<number>): LayerBackwardRef {
  const { steps: T, batch: B, input: I, hidden: H } = s;
  const BH = B * H;
  const dGates = new Float64Array(T * B * 4 * H);
  const wHhT = transposeRef(w.wHh, H, 4 * H);
  let dhRec: Float64Array = new Float64Array(BH);
  let dc: Float64Array | null = null;
  for (let t = T - 1; t >= 0; t--) {
    const dh = new Float64Array(BH);
    for (let k = 0; k < BH; k++) dh[k] = dhOut[t * BH + k] + dhRec[k];
    const cell = lstmCellBackwardRef(
      fwd.gates.subarray(t * 4 * BH, (t + 1) * 4 * BH),
      t > 0 ? fwd.c.subarray((t - 1) * BH, t * BH) : null,
      fwd.c.subarray(t * BH, (t + 1) * BH),
      dh,
      dc,
      B,
      H,
    );
    dGates.set(cell.dGates, t * 4 * BH);
    dc = cell.dcPrev;
    dhRec = matmulRef(cell.dGates, wHhT, B, 4 * H, H);
  }
  const dx = matmulRef(dGates, transposeRef(w.wIh, I, 4 * H), T * B, 4 * H, I);
  const dWih = matmulRef(transposeRef(x, T * B, I), dGates, I, T * B, 4 * H);
  // h[t-1] meets d_gates[t] for t >= 1: one matmul over the shifted sequences.
  const dWhh = matmulRef(transposeRef(fwd.h.subarray(0, (T - 1) * BH), (T - 1) * B, H), dGates.subarray(4 * BH), H, (T - 1) * B, 4 * H);
  const dBias = new Float64Array(4 * H);
  for (let r = 0; r < T * B; r++) for (let q = 0; q < 4 * H; q++) dBias[q] += dGates[r * 4 * H + q];
  return { dGates, dx, dWih, dWhh, dBias };
}
