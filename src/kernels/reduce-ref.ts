// Float64 references for the row ops and reductions in reduce.ts, and f32 emulations of the
// GPU's fixed summation orders (the GPU must match those bit for bit, on every adapter).

// ---- row ops -----------------------------------------------------------------------------

/** out[r] = sum_c a[r, c] * b[r, c]. */
export function rowDotRef(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += a[r * cols + c] * b[r * cols + c];
    out[r] = s;
  }
  return out;
}

/** gradA[r, c] = g[r] * b[r, c], gradB[r, c] = g[r] * a[r, c]. */
export function rowDotBackwardRef(
  g: ArrayLike<number>,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rows: number,
  cols: number,
): { gradA: Float64Array; gradB: Float64Array } {
  const gradA = new Float64Array(rows * cols);
  const gradB = new Float64Array(rows * cols);
  for (let t = 0; t < rows * cols; t++) {
    const gr = g[Math.floor(t / cols)];
    gradA[t] = gr * b[t];
    gradB[t] = gr * a[t];
  }
  return { gradA, gradB };
}

/** Row sums (or means) of [rows, cols]. */
export function rowSumRef(x: ArrayLike<number>, rows: number, cols: number, mean = false): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += x[r * cols + c];
    out[r] = mean ? s / cols : s;
  }
  return out;
}

/** Row sum's (mean's) backward: g[r] (divided by cols) broadcast along row r. */
export function rowSumBackwardRef(g: ArrayLike<number>, rows: number, cols: number, mean = false): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let t = 0; t < rows * cols; t++) {
    const v = g[Math.floor(t / cols)];
    out[t] = mean ? v / cols : v;
  }
  return out;
}

// ---- whole-tensor and per-column reductions ------------------------------------------------

export function sumRef(x: ArrayLike<number>, mean = false): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return mean ? s / x.length : s;
}

/** The sum's (mean's) backward: the scalar gradient (divided by n) everywhere. */
export function sumBackwardRef(g: number, n: number, mean = false): Float64Array {
  return new Float64Array(n).fill(mean ? g / n : g);
}

export function colSumRef(x: ArrayLike<number>, rows: number, cols: number, mean = false): Float64Array {
  const out = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c] += x[r * cols + c];
  if (mean) for (let c = 0; c < cols; c++) out[c] /= rows;
  return out;
}

/** The column sum's (mean's) backward: g[c] (divided by rows) down column c. */
export function colSumBackwardRef(g: ArrayLike<number>, rows: number, cols: number, mean = false): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let t = 0; t < rows * cols; t++) out[t] = mean ? g[t % cols] / rows : g[t % cols];
  return out;
}

// ---- the GPU's summation orders, in f32 ----------------------------------------------------

/** The fixed shape of a whole-tensor tree sum: lanes per workgroup (a power of two) and elements per lane. */
export interface TreeShape {
  workgroup: number;
  perThread: number;
}

/** Most workgroups in a tree sum's first pass, unless perThread is given: see treeShape. */
export const TREE_MAX_GROUPS = 128;

/**
 * The default shape for n elements: 64 lanes adding at least 16 elements each, more when that
 * keeps the first pass within TREE_MAX_GROUPS workgroups. A function of n alone, so every
 * device sums in the same order. Few long lanes suit CPU adapters (SwiftShader pays per
 * invocation once a shader has barriers); 128 x 64 lanes still keeps a GPU's memory busy.
 */
export function treeShape(n: number, opts: { workgroup?: number; perThread?: number } = {}): TreeShape {
  const workgroup = opts.workgroup ?? 64;
  const perThread = opts.perThread ?? Math.max(16, Math.ceil(n / (workgroup * TREE_MAX_GROUPS)));
  return { workgroup, perThread };
}

/** Additions on the longest path from an element to the total: the error bound is depth * 2^-24 * sum |x|. */
export function treeDepth(n: number, shape: TreeShape): number {
  const levels = Math.log2(shape.workgroup);
  return treePlan(n, shape.workgroup, shape.perThread).reduce((d, p) => d + p.perThread + levels, 0);
}

/** One tree_sum dispatch: `groups` workgroups of `wg` lanes, each lane adding `perThread` elements. */
export interface TreePass {
  n: number;
  perThread: number;
  groups: number;
}

/** The passes of a whole-tensor tree sum of n elements: one if a workgroup covers them all, else two. */
export function treePlan(n: number, wg: number, perThread: number): TreePass[] {
  const groups = Math.ceil(n / (wg * perThread));
  // One workgroup: no partials, and no lane loops longer than the data.
  if (groups <= 1) return [{ n, perThread: Math.max(1, Math.ceil(n / wg)), groups: 1 }];
  return [
    { n, perThread, groups },
    { n: groups, perThread: Math.ceil(groups / wg), groups: 1 },
  ];
}

function treePassF32(x: Float32Array, wg: number, p: TreePass): Float32Array {
  const f = Math.fround;
  const out = new Float32Array(p.groups);
  const lanes = new Float32Array(wg);
  const chunk = wg * p.perThread;
  for (let g = 0; g < p.groups; g++) {
    for (let l = 0; l < wg; l++) {
      let acc = 0;
      for (let j = 0; j < p.perThread; j++) {
        const i = g * chunk + j * wg + l;
        if (i < p.n) acc = f(acc + x[i]);
      }
      lanes[l] = acc;
    }
    for (let s = wg >> 1; s > 0; s >>= 1) for (let l = 0; l < s; l++) lanes[l] = f(lanes[l] + lanes[l + s]);
    out[g] = lanes[0];
  }
  return out;
}

/**
 * The f32 value the GPU's tree sum writes: the same additions in the same order, then the
 * multiply by scale (f32(1 / n) for a mean), then, if accumulating, the add into `prior`.
 */
export function treeSumF32(x: Float32Array, plan: TreeShape, scale = 1, prior?: number): number {
  let v = x;
  for (const p of treePlan(x.length, plan.workgroup, plan.perThread)) v = treePassF32(v, plan.workgroup, p);
  const out = Math.fround(v[0] * Math.fround(scale));
  return prior === undefined ? out : Math.fround(prior + out);
}

/** Rows per group of a column sum when not given: about sqrt(rows) keeps both passes short. */
export function defaultRowsPerGroup(rows: number): number {
  return Math.max(1, Math.ceil(Math.sqrt(rows)));
}

/** The f32 values the GPU's two-level column sum writes (same order, same rounding). */
export function colSumF32(x: Float32Array, rows: number, cols: number, rowsPerGroup: number, scale = 1): Float32Array {
  const f = Math.fround;
  const groups = Math.ceil(rows / rowsPerGroup);
  const pass = (src: Float32Array, nrows: number, rpg: number, ngroups: number, sc: number): Float32Array => {
    const out = new Float32Array(ngroups * cols);
    for (let g = 0; g < ngroups; g++) {
      for (let c = 0; c < cols; c++) {
        let acc = 0;
        for (let r = g * rpg; r < Math.min(nrows, (g + 1) * rpg); r++) acc = f(acc + src[r * cols + c]);
        out[g * cols + c] = f(acc * f(sc));
      }
    }
    return out;
  };
  if (groups <= 1) return pass(x, rows, rows, 1, scale);
  return pass(pass(x, rows, rowsPerGroup, groups, 1), groups, groups, 1, scale);
}
