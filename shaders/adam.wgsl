// Adam / AdamW in one fused pass per parameter tensor (dense), and the same update on the rows an
// embedding batch touched (lazy). The unfused chain the bench compares them with is in
// bench/baselines/adam-chain.wgsl.
//
// The fused update is torch.optim.Adam's single-tensor path (PyTorch 2.x), op for op:
//   Adam  (L2):        g = g + wd * p
//   AdamW (decoupled): p = p * (1 - lr * wd)
//   m = lerp(m, g, 1 - beta1)            exp_avg.lerp_(grad, 1 - beta1)
//   v = v * beta2 + ((1 - beta2) * g) * g exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
//   denom = sqrt(v) / sqrt(bc2) + eps
//   p = p + (-lr / bc1) * (m / denom)    param.addcdiv_(exp_avg, denom, value=-step_size)
//                                        (CUDA's addcdiv order; PyTorch's CPU kernel divides last)
// Every scalar PyTorch computes in double on the host (1 - beta, lr / bc1, sqrt(bc2),
// 1 - lr * wd) is computed in double by adamStepWords and arrives here rounded once to f32,
// as PyTorch's scalar arguments do.

override WG: u32 = 256u;
// 0: Adam, weight decay as L2 on the gradient; 1: AdamW, decoupled decay of the parameter.
override DECOUPLED: u32 = 0u;
// Decided at compile time when the wrapper knows the optimizer's beta1 and weight decay
// (adamConstants): SwiftShader runs both sides of a branch, so a test left to run time costs
// both of lerp's forms and the L2 term on every element.
// LERP: 0 decides lerp's form per step, 1 takes a + w * (b - a), 2 takes b - (b - a) * (1 - w).
override LERP: u32 = 0u;
// L2: 0 when the weight decay is known to be zero (no L2 term), 1 to test the uniform's.
override L2: u32 = 1u;
const LERP_NEAR_A = 1u;
const LERP_NEAR_B = 2u;

// Elements (adam_table4: quads) per thread in adam and adam_table4: a workgroup covers
// WG * PER consecutive ones, thread lid taking lid, lid + WG, ... (coalesced on a GPU; fewer
// invocations on SwiftShader, where each costs).
override PER: u32 = 1u;

// Threads past 65535 workgroups spill into y; this undoes the split.
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// Element j of a PER-element thread; it grows with j. Undoes the y split as flat_id does.
fn element(wid: vec3u, nwg: vec3u, lid: u32, j: u32) -> u32 {
  return ((wid.x + wid.y * nwg.x) * PER + j) * WG + lid;
}

// The per-step scalars, written by the caller each step (see adamStepWords); one buffer can
// serve every parameter tensor that shares the hyper-parameters.
struct AdamStep {
  beta1: f32, one_minus_beta1: f32, beta2: f32, one_minus_beta2: f32,
  eps: f32, weight_decay: f32, step_size: f32, bc2_sqrt: f32,
  decay: f32, lr: f32, bc1: f32, bc2: f32,
}

@group(0) @binding(0) var<uniform> st: AdamStep;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;

// PyTorch's lerp (ATen Lerp.h): the form that is exact at the end it is closer to.
fn lerp_torch(a: f32, b: f32, w: f32) -> f32 {
  if (LERP == LERP_NEAR_A) { return a + w * (b - a); }
  if (LERP == LERP_NEAR_B) { return b - (b - a) * (1.0 - w); }
  if (abs(w) < 0.5) { return a + w * (b - a); }
  return b - (b - a) * (1.0 - w);
}

fn adam_apply(i: u32, grad_i: f32) {
  var p = param[i];
  var g = grad_i;
  if (DECOUPLED == 1u) {
    p = p * st.decay;
  } else {
    // PyTorch skips a zero decay, which matters only for an infinite p (0 * inf = NaN).
    if (L2 != 0u && st.weight_decay != 0.0) { g = g + st.weight_decay * p; }
  }
  let mi = lerp_torch(m[i], g, st.one_minus_beta1);
  let vi = v[i] * st.beta2 + (st.one_minus_beta2 * g) * g;
  let denom = sqrt(vi) / st.bc2_sqrt + st.eps;
  m[i] = mi;
  v[i] = vi;
  param[i] = p + (-st.step_size) * (mi / denom);
}

fn adam_update(i: u32) {
  adam_apply(i, grad[i]);
}

// ---- dense: every element of one parameter tensor -------------------------------------

struct DenseParams { n: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
@group(0) @binding(1) var<uniform> dp: DenseParams;

@compute @workgroup_size(WG)
fn adam(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  for (var j = 0u; j < PER; j++) {
    let i = element(wid, nwg, lid, j);
    if (i >= dp.n) { return; }
    adam_update(i);
  }
}

// ---- lazy: only the rows of an embedding table that the batch touched -----------------
//
// The touched rows are seg_row of the packed CSR built by packSegments (embedding.ts):
// csr = [nseg | seg_row (cap) | ...]. The dispatch covers the capacity (fixed when the step
// is recorded) and threads past nseg rows return. Untouched rows keep their parameters and
// their moments: unlike dense Adam, their m and v do not decay on steps that skip them.

struct RowParams { dim: u32, cap: u32, rows: u32, _pad: u32 }
@group(0) @binding(6) var<uniform> rp: RowParams;
@group(0) @binding(7) var<storage, read> csr: array<u32>;

@compute @workgroup_size(WG)
fn adam_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  let s = t / rp.dim;
  if (s >= min(csr[0], rp.cap)) { return; }
  let row = csr[1u + s];
  // packSegments checks its rows; this guard only keeps a stale csr from writing elsewhere.
  if (row >= rp.rows) { return; }
  adam_update(row * rp.dim + (t - s * rp.dim));
}

// ---- dense over an embedding table, gradient summed in the same pass ------------------
//
// Dense Adam moves every row of a table each step (PyTorch's behaviour), but only the rows
// the batch touched have a non-zero gradient. Instead of zero-filling a [rows, dim] gradient,
// scattering the batch into it and reading it back, each element sums its row's segment of
// the batch here (the CSR and order of embedding.wgsl's segment_sum, so the same bits) and
// updates at once. seg_of_row[r] is 1 + r's segment in the CSR, or 0 for an untouched row.

@group(0) @binding(8) var<uniform> tp: RowParams;
@group(0) @binding(9) var<storage, read> table_csr: array<u32>;
@group(0) @binding(10) var<storage, read> seg_of_row: array<u32>;
@group(0) @binding(11) var<storage, read> grad_rows: array<f32>;

@compute @workgroup_size(WG)
fn adam_table(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= tp.rows * tp.dim) { return; }
  let r = i / tp.dim;
  let d = i - r * tp.dim;
  let seg = seg_of_row[r];
  var acc = 0.0;
  if (seg != 0u) {
    let s = seg - 1u;
    let starts_at = 1u + tp.cap;
    let perm_at = 2u + 2u * tp.cap;
    for (var k = table_csr[starts_at + s]; k < table_csr[starts_at + s + 1u]; k++) {
      acc += grad_rows[table_csr[perm_at + k] * tp.dim + d];
    }
  }
  adam_apply(i, acc);
}

// The same on quads, four consecutive elements of a row (dim % 4 == 0), PER quads per thread:
// vec4 loads and element-wise vec4 math, which rounds exactly as the scalar code does. On
// SwiftShader the per-invocation cost dominates this memory-light update, so fewer threads is
// most of it.

@group(0) @binding(12) var<storage, read_write> param4: array<vec4f>;
@group(0) @binding(13) var<storage, read_write> m4: array<vec4f>;
@group(0) @binding(14) var<storage, read_write> v4: array<vec4f>;
@group(0) @binding(15) var<storage, read> grad_rows4: array<vec4f>;

fn lerp_torch4(a: vec4f, b: vec4f, w: f32) -> vec4f {
  if (LERP == LERP_NEAR_A) { return a + w * (b - a); }
  if (LERP == LERP_NEAR_B) { return b - (b - a) * (1.0 - w); }
  if (abs(w) < 0.5) { return a + w * (b - a); }
  return b - (b - a) * (1.0 - w);
}

// p, m and v of four elements.
struct Quad { p: vec4f, m: vec4f, v: vec4f }

// One Adam step on a quad with the given gradient and step scalars: adam_apply's arithmetic
// on vec4s. The deferred table update (adam-deferred.wgsl) replays skipped steps through it.
fn adam_step4(x: Quad, grad: vec4f, step_size: f32, bc2_sqrt: f32, decay: f32) -> Quad {
  var p = x.p;
  var g = grad;
  if (DECOUPLED == 1u) {
    p = p * decay;
  } else {
    if (L2 != 0u && st.weight_decay != 0.0) { g = g + st.weight_decay * p; }
  }
  let mi = lerp_torch4(x.m, g, st.one_minus_beta1);
  let vi = x.v * st.beta2 + (st.one_minus_beta2 * g) * g;
  let denom = sqrt(vi) / bc2_sqrt + st.eps;
  return Quad(p + (-step_size) * (mi / denom), mi, vi);
}

// The gradient of quad dq of the row whose CSR segment is s: its positions summed in order.
fn segment_grad4(s: u32, quads: u32, dq: u32) -> vec4f {
  let starts_at = 1u + tp.cap;
  let perm_at = 2u + 2u * tp.cap;
  var g = vec4f(0.0);
  for (var k = table_csr[starts_at + s]; k < table_csr[starts_at + s + 1u]; k++) {
    g += grad_rows4[table_csr[perm_at + k] * quads + dq];
  }
  return g;
}

// Quad q of the table, quads = dim / 4 per row.
fn adam_quad(q: u32, quads: u32) {
  let r = q / quads;
  let seg = seg_of_row[r];
  var g = vec4f(0.0);
  if (seg != 0u) { g = segment_grad4(seg - 1u, quads, q - r * quads); }
  let x = adam_step4(Quad(param4[q], m4[q], v4[q]), g, st.step_size, st.bc2_sqrt, st.decay);
  m4[q] = x.m;
  v4[q] = x.v;
  param4[q] = x.p;
}

@compute @workgroup_size(WG)
fn adam_table4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  let quads = tp.dim / 4u;
  for (var j = 0u; j < PER; j++) {
    let q = element(wid, nwg, lid, j);
    if (q >= tp.rows * quads) { return; }
    adam_quad(q, quads);
  }
}
