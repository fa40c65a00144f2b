// Fused losses: one dispatch writes each element's (or row's) loss AND the gradient w.r.t. the
// inputs. A separate reduction sums the losses, so masked-out elements write a loss of 0.
//
// `scale` is one f32 the host writes with each batch (1/batch, 1/number of labelled rows, ...).
// Both the losses and the gradients are multiplied by it: the sum of the written losses is the
// mean loss, and the gradients are those of that mean.
//
// Optional inputs (weights, masks) and outputs (accuracy flags) are separate entry points, not
// runtime branches on a flag: WebGPU's automatic layout includes every binding an entry point
// names, so each entry point names only the buffers it really uses. The per-element math
// lives in plain functions; each entry point is a few lines around one of them.

override WG: u32 = 64u;
// Pairwise ranking loss of d = pos - neg: 0 = CS330's 1 - sigmoid(d), 1 = BPR's -log sigmoid(d).
override RANKING: u32 = 0u;

// Below this, log1p uses its Taylor series (5 terms are exact to f32 there).
const LOG1P_SERIES_BELOW: f32 = 0.015625;
// The lowest finite f32: the running maximum of a softmax over no columns yet.
const LOWEST: f32 = -0x1.fffffep+127f;
// An argmax index that loses every tie.
const NO_INDEX: u32 = 0xffffffffu;

// Threads past 65535 workgroups spill into y; this undoes the split.
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// log(1 + z) for z >= -1/2. WGSL has no log1p, and log(1 + z) alone loses z's low bits in the
// rounding of 1 + z: the series covers small |z|; beyond it, z / (u - 1) (exact: u - 1 is)
// corrects that rounding, as in Goldberg's "What every computer scientist should know".
fn log1p(z: f32) -> f32 {
  if (abs(z) < LOG1P_SERIES_BELOW) {
    return z * (1.0 - z * (0.5 - z * (1.0 / 3.0 - z * (0.25 - z * 0.2))));
  }
  let u = 1.0 + z;
  return log(u) * (z / (u - 1.0));
}

// log(1 + e^x), never overflowing: e^-|x| is in (0, 1].
fn softplus(x: f32) -> f32 {
  return max(x, 0.0) + log1p(exp(-abs(x)));
}

// 1 / (1 + e^-x) from e^-|x|, so neither sign overflows (e^1e4 would be inf).
fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, x >= 0.0);
}

struct Params { n: u32, cols: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;
// Per-element (per-row for softmax cross-entropy) weights: loss and gradient times w. For
// BCE and MSE a weight of 0 means no label here, like the mask: loss 0 and gradient 0 even
// where the label is NaN (0 * NaN would be NaN).
@group(0) @binding(3) var<storage, read> weight: array<f32>;
// 0 = no label here: loss 0 and gradient 0, whatever the label holds (NaN included).
@group(0) @binding(4) var<storage, read> mask: array<f32>;

// ---- sigmoid + binary cross-entropy from logits ---------------------------------------

@group(0) @binding(5) var<storage, read> logits: array<f32>;
@group(0) @binding(6) var<storage, read> labels: array<f32>;
@group(0) @binding(7) var<storage, read_write> grad_logits: array<f32>;

// loss = max(x, 0) - x y + log1p(e^-|x|), grad = sigmoid(x) - y. For x >= 0 they are written
// x (1 - y) + ... and (1 - y) - sigmoid(-x), so that a large x with a hard label y = 1 keeps
// its small loss and gradient (e.g. -2e-9 at x = 20) instead of rounding 1 - 1e-9 to 1.
fn put_bce(i: u32, w: f32, keep: bool) {
  let x = logits[i];
  let y = labels[i];
  let e = exp(-abs(x));
  let small = e / (1.0 + e); // sigmoid(-|x|)
  let lin = select(-x * y, x * (1.0 - y), x >= 0.0);
  let g = select(small - y, (1.0 - y) - small, x >= 0.0);
  let k = scale[0] * w;
  loss[i] = select(0.0, (lin + log1p(e)) * k, keep);
  grad_logits[i] = select(0.0, g * k, keep);
}

@compute @workgroup_size(WG)
fn bce(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  put_bce(i, 1.0, true);
}

@compute @workgroup_size(WG)
fn bce_weighted(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  let w = weight[i];
  put_bce(i, w, w != 0.0);
}

@compute @workgroup_size(WG)
fn bce_masked(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  put_bce(i, 1.0, mask[i] != 0.0);
}

@compute @workgroup_size(WG)
fn bce_weighted_masked(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  let w = weight[i];
  put_bce(i, w, w != 0.0 && mask[i] != 0.0);
}

// ---- pairwise ranking losses on d = pos - neg ------------------------------------------

@group(0) @binding(8) var<storage, read> pos: array<f32>;
@group(0) @binding(9) var<storage, read> neg: array<f32>;
@group(0) @binding(10) var<storage, read_write> grad_pos: array<f32>;
@group(0) @binding(11) var<storage, read_write> grad_neg: array<f32>;

// CS330: L = 1 - sigmoid(d) = sigmoid(-d) (computed directly: no 1 - 0.9999 cancellation),
//        dL/dd = -sigmoid(d) sigmoid(-d).
// BPR:   L = -log sigmoid(d) = softplus(-d), dL/dd = -sigmoid(-d).
// dL/dpos = dL/dd, dL/dneg = -dL/dd.
@compute @workgroup_size(WG)
fn ranking(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  let d = pos[i] - neg[i];
  let down = sigmoid(-d);
  var l: f32;
  var g: f32;
  if (RANKING == 0u) {
    l = down;
    g = -sigmoid(d) * down;
  } else {
    l = softplus(-d);
    g = -down;
  }
  let k = scale[0];
  loss[i] = l * k;
  grad_pos[i] = g * k;
  grad_neg[i] = -g * k;
}

// ---- mean squared error -----------------------------------------------------------------

@group(0) @binding(12) var<storage, read> pred: array<f32>;
@group(0) @binding(13) var<storage, read> truth: array<f32>;
@group(0) @binding(14) var<storage, read_write> grad_pred: array<f32>;

// loss = (pred - truth)^2, grad = 2 (pred - truth), both times scale (and w); the truth is
// data: it gets no gradient.
fn put_mse(i: u32, w: f32, keep: bool) {
  let e = pred[i] - truth[i];
  let k = scale[0] * w;
  loss[i] = select(0.0, e * e * k, keep);
  grad_pred[i] = select(0.0, 2.0 * e * k, keep);
}

@compute @workgroup_size(WG)
fn mse(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  put_mse(i, 1.0, true);
}

@compute @workgroup_size(WG)
fn mse_masked(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  put_mse(i, 1.0, mask[i] != 0.0);
}

@compute @workgroup_size(WG)
fn mse_weighted(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  let w = weight[i];
  put_mse(i, w, w != 0.0);
}

@compute @workgroup_size(WG)
fn mse_weighted_masked(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  let w = weight[i];
  put_mse(i, w, w != 0.0 && mask[i] != 0.0);
}

// ---- softmax cross-entropy over the last dimension ----------------------------------------
//
// logits [n = rows, cols] (binding 5), one u32 class label per row, gradient into grad_logits
// (binding 7), the loss per row into `loss`, optional per-row weights (binding 3) and an
// optional argmax-correct flag per row.
//   loss_r = logsumexp(x_r) - x_r[label] = (m - x_r[label]) + log1p(t)
//   grad_r = softmax(x_r) - onehot(label)
// with m the row's max and t = sum of e^(x_j - m) over every column but the argmax: keeping
// the argmax's 1 out of t lets log1p keep the loss's precision when one class dominates
// (where log(1 + t) would round it to 0). Both are times scale * weight. A label >= cols
// cannot be scored: the wrapper's checkLabels rejects it on the host; here it only yields a
// loss, gradient and flag of 0 instead of reading past the row.

@group(0) @binding(15) var<storage, read> class_labels: array<u32>;
@group(0) @binding(16) var<storage, read_write> correct: array<f32>;

// A softmax summary of some columns: their max m, t = sum of e^(x_j - m) over all of them
// but the argmax, and the argmax (the lowest column among equal maxima). No columns:
// (LOWEST, -1, NO_INDEX), which every merge below leaves unchanged.
struct Online { m: f32, t: f32, arg: u32 }

fn push(a: Online, v: f32, j: u32) -> Online {
  if (v > a.m) {
    return Online(v, (a.t + 1.0) * exp(a.m - v), j);
  }
  return Online(a.m, a.t + exp(v - a.m), a.arg);
}

fn merge(a: Online, b: Online) -> Online {
  var hi = b;
  var lo = a;
  if (a.m > b.m || (a.m == b.m && a.arg < b.arg)) {
    hi = a;
    lo = b;
  }
  return Online(hi.m, hi.t + (lo.t + 1.0) * exp(lo.m - hi.m), hi.arg);
}

// Columns first, first + step, ... of the row starting at base.
fn scan(base: u32, first: u32, step: u32) -> Online {
  var o = Online(LOWEST, -1.0, NO_INDEX);
  for (var j = first; j < p.cols; j += step) {
    o = push(o, logits[base + j], j);
  }
  return o;
}

fn put_grad(base: u32, o: Online, label: u32, k: f32, first: u32, step: u32) {
  let inv = 1.0 / (1.0 + o.t);
  for (var j = first; j < p.cols; j += step) {
    let y = exp(logits[base + j] - o.m) * inv;
    // At the label: y - 1, which is -t / (1 + t) exactly when the label is the argmax: a
    // confident right answer keeps its small gradient instead of rounding to 0.
    let g = select(y, select(y - 1.0, -o.t * inv, j == o.arg), j == label);
    grad_logits[base + j] = select(0.0, g * k, label < p.cols);
  }
}

// Row r's loss; returns its correct flag (0 for a row of weight 0: it is not scored).
fn finish(r: u32, o: Online, label: u32, w: f32) -> f32 {
  let known = label < p.cols;
  let xl = logits[r * p.cols + min(label, p.cols - 1u)];
  loss[r] = select(0.0, ((o.m - xl) + log1p(o.t)) * scale[0] * w, known);
  return select(0.0, 1.0, known && w != 0.0 && o.arg == label);
}

// One thread per row: suits the usual few classes (2..64), and any count, slowly.
fn ce_row(r: u32, w: f32) -> f32 {
  let base = r * p.cols;
  let label = class_labels[r];
  let o = scan(base, 0u, 1u);
  put_grad(base, o, label, scale[0] * w, 0u, 1u);
  return finish(r, o, label, w);
}

@compute @workgroup_size(WG)
fn ce_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_id(gid, nwg);
  if (r >= p.n) { return; }
  _ = ce_row(r, 1.0);
}

@compute @workgroup_size(WG)
fn ce_rows_weighted(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_id(gid, nwg);
  if (r >= p.n) { return; }
  _ = ce_row(r, weight[r]);
}

@compute @workgroup_size(WG)
fn ce_rows_acc(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_id(gid, nwg);
  if (r >= p.n) { return; }
  correct[r] = ce_row(r, 1.0);
}

@compute @workgroup_size(WG)
fn ce_rows_weighted_acc(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_id(gid, nwg);
  if (r >= p.n) { return; }
  correct[r] = ce_row(r, weight[r]);
}

// One workgroup per row (WG a power of two): for many classes. Thread i summarizes columns
// i, i + WG, ...; a fixed tree merges the summaries (same order every run); all threads then
// write the gradient of their columns.
var<workgroup> tree_m: array<f32, WG>;
var<workgroup> tree_t: array<f32, WG>;
var<workgroup> tree_arg: array<u32, WG>;

fn ce_group(r: u32, lid: u32, w: f32) -> f32 {
  let base = r * p.cols;
  let label = class_labels[r];
  let mine = scan(base, lid, WG);
  tree_m[lid] = mine.m;
  tree_t[lid] = mine.t;
  tree_arg[lid] = mine.arg;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) {
      let o = merge(Online(tree_m[lid], tree_t[lid], tree_arg[lid]), Online(tree_m[lid + half], tree_t[lid + half], tree_arg[lid + half]));
      tree_m[lid] = o.m;
      tree_t[lid] = o.t;
      tree_arg[lid] = o.arg;
    }
    workgroupBarrier();
  }
  let o = Online(tree_m[0], tree_t[0], tree_arg[0]);
  put_grad(base, o, label, scale[0] * w, lid, WG);
  if (lid != 0u) { return 0.0; }
  return finish(r, o, label, w);
}

@compute @workgroup_size(WG)
fn ce_groups(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= p.n) { return; }
  _ = ce_group(r, lid, 1.0);
}

@compute @workgroup_size(WG)
fn ce_groups_weighted(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= p.n) { return; }
  _ = ce_group(r, lid, weight[r]);
}

@compute @workgroup_size(WG)
fn ce_groups_acc(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= p.n) { return; }
  let c = ce_group(r, lid, 1.0);
  if (lid == 0u) { correct[r] = c; }
}

@compute @workgroup_size(WG)
fn ce_groups_weighted_acc(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= p.n) { return; }
  let c = ce_group(r, lid, weight[r]);
  if (lid == 0u) { correct[r] = c; }
}

// ---- BCE on a product of probabilities (ESMM's pCTCVR = pCTR · pCVR) ------------------------
//
// p = σ(a) σ(b) from two logits, loss = -y log p - (1 - y) log(1 - p). Forming p and then
// log(1 - p) fails at both ends: p rounds to 1 (log 0) once a and b pass ~17, and log(1 - p)
// loses every digit of a small p. Here, with log σ(x) = -softplus(-x):
//   log p     = -softplus(-a) - softplus(-b)                         (a sum: no cancellation)
//   log(1-p)  = log1p(-p)                              where p <= 1/2 (p itself is accurate)
//             = log(σ(-a) + σ(a) σ(-b))                where p > 1/2: two positive terms,
//               = logaddexp(-softplus(a), -softplus(-a) - softplus(b))   added in log space
// (the same value as log(e^-a + e^-b + e^-(a+b)) - softplus(-a) - softplus(-b), which cancels
// when p is small). With q = 1 - p, d loss / da = σ(-a) ((1 - y) p / q - y), written as
//   (1 - y) e^(log p + log σ(-a) - log q) - y σ(-a)
// whose exponent is <= log p <= 0 (σ(-a) <= q): no overflow, no 0/0 at p = 1. Likewise for b.
// Both times scale (and w); finite for any finite a and b.

@group(0) @binding(17) var<storage, read> logits_a: array<f32>;
@group(0) @binding(18) var<storage, read> logits_b: array<f32>;
@group(0) @binding(19) var<storage, read_write> grad_a: array<f32>;
@group(0) @binding(20) var<storage, read_write> grad_b: array<f32>;

// Below this p, log(1 - p) is log1p(-p); above, the sum of two positive terms.
const PRODUCT_SPLIT: f32 = 0.5;

// log(e^u + e^v), never overflowing.
fn logaddexp(u: f32, v: f32) -> f32 {
  return max(u, v) + log1p(exp(-abs(u - v)));
}

fn put_bce_product(i: u32, w: f32, keep: bool) {
  let a = logits_a[i];
  let b = logits_b[i];
  let y = labels[i];
  let log_p = -softplus(-a) - softplus(-b);
  let prob = exp(log_p);
  let log_q = select(logaddexp(-softplus(a), -softplus(-a) - softplus(b)), log1p(-prob), prob <= PRODUCT_SPLIT);
  let k = scale[0] * w;
  let ga = (1.0 - y) * exp(log_p - softplus(a) - log_q) - y * sigmoid(-a);
  let gb = (1.0 - y) * exp(log_p - softplus(b) - log_q) - y * sigmoid(-b);
  loss[i] = select(0.0, (-y * log_p - (1.0 - y) * log_q) * k, keep);
  grad_a[i] = select(0.0, ga * k, keep);
  grad_b[i] = select(0.0, gb * k, keep);
}

@compute @workgroup_size(WG)
fn bce_product(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  put_bce_product(i, 1.0, true);
}

@compute @workgroup_size(WG)
fn bce_product_weighted(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  let w = weight[i];
  put_bce_product(i, w, w != 0.0);
}
