// The regression head's input from a user row u and an item row q: x = [u, q, u ⊙ q], and its
// backward du = dx_u + dx_uq ⊙ q, dq = dx_q + dx_uq ⊙ u. PER (row, column) elements per thread,
// each a dispatch of its own instead of a product, a three-way concat and, backward, a split,
// the product's backward and two adds. pair_features_backward_add also adds reverse mode's other
// contributions (du += add_u, dq += add_q over all of a taller q's rows), in place of an add and
// an add_rows after it.

override WG: u32 = 64u;
// Elements per thread: a workgroup covers WG * PER consecutive elements, thread lid taking
// lid, lid + WG, ... (coalesced on a GPU; fewer invocations on SwiftShader).
override PER: u32 = 1u;
// Which addends pair_features_backward_add reads; an absent one's binding is a stand-in never read.
override ADD_U: bool = false;
override ADD_Q: bool = false;

// q_rows: q's rows (>= rows); only pair_features_backward_add with ADD_Q writes past `rows`.
struct Params { rows: u32, dim: u32, q_rows: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> u: array<f32>;    // [rows, dim]
@group(0) @binding(2) var<storage, read> q: array<f32>;    // [rows, dim]
@group(0) @binding(3) var<storage, read_write> x: array<f32>;  // [rows, 3·dim]
@group(0) @binding(4) var<storage, read> dx: array<f32>;   // [rows, 3·dim]
@group(0) @binding(5) var<storage, read_write> du: array<f32>;
@group(0) @binding(6) var<storage, read_write> dq: array<f32>;  // [rows, dim], or [q_rows, dim] with ADD_Q
@group(0) @binding(7) var<storage, read> add_u: array<f32>;  // [rows, dim]
@group(0) @binding(8) var<storage, read> add_q: array<f32>;  // [q_rows, dim]

// Element j of this thread; it grows with j. Workgroups past 65535 spill into y; this undoes
// the split.
fn element(wid: vec3u, nwg: vec3u, lid: u32, j: u32) -> u32 {
  return ((wid.x + wid.y * nwg.x) * PER + j) * WG + lid;
}

// Element t = (r, j) of u and q.
fn forward_at(t: u32, r: u32, j: u32) {
  let o = r * 3u * p.dim + j;
  x[o] = u[t];
  x[o + p.dim] = q[t];
  x[o + 2u * p.dim] = u[t] * q[t];
}

fn backward_at(t: u32, r: u32, j: u32) {
  let o = r * 3u * p.dim + j;
  let g = dx[o + 2u * p.dim];
  du[t] = dx[o] + g * q[t];
  dq[t] = dx[o + p.dim] + g * u[t];
}

// backward_at's terms, each then added to its addend: the bits of adding the two afterwards.
fn backward_add_at(t: u32, r: u32, j: u32) {
  let o = r * 3u * p.dim + j;
  let g = dx[o + 2u * p.dim];
  let gu = dx[o] + g * q[t];
  let gq = dx[o + p.dim] + g * u[t];
  if (ADD_U) { du[t] = add_u[t] + gu; } else { du[t] = gu; }
  if (ADD_Q) { dq[t] = add_q[t] + gq; } else { dq[t] = gq; }
}

// A thread's elements are t0, t0 + WG, ...; row-walk.wgsl (appended) gives their (r, j).
@compute @workgroup_size(WG)
fn pair_features(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  let t0 = element(wid, nwg, lid, 0u);
  var w = row_walk(t0, p.dim);
  for (var k = 0u; k < PER; k++) {
    let t = t0 + k * WG;
    if (t >= p.rows * p.dim) { return; }
    forward_at(t, w.r, w.c);
    w = row_walk_next(w, p.dim);
  }
}

@compute @workgroup_size(WG)
fn pair_features_backward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  let t0 = element(wid, nwg, lid, 0u);
  var w = row_walk(t0, p.dim);
  for (var k = 0u; k < PER; k++) {
    let t = t0 + k * WG;
    if (t >= p.rows * p.dim) { return; }
    backward_at(t, w.r, w.c);
    w = row_walk_next(w, p.dim);
  }
}

// The grid covers u's rows; with ADD_Q each element's thread also copies the addend's elements
// t + n, t + 2n, ... (q's rows past u's, which the forward did not read). Measured at the
// recommender's shape (256 of 512 rows, dim 32, SwiftShader): ~145 us, against ~195 us for a
// grid over all of q's rows whose later threads only copy (twice the invocations and loop
// iterations).
@compute @workgroup_size(WG)
fn pair_features_backward_add(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  let t0 = element(wid, nwg, lid, 0u);
  let n = p.rows * p.dim;
  let nq = p.q_rows * p.dim;
  var w = row_walk(t0, p.dim);
  for (var k = 0u; k < PER; k++) {
    let t = t0 + k * WG;
    if (t >= n) { return; }
    backward_add_at(t, w.r, w.c);
    if (ADD_Q) {
      for (var c = t + n; c < nq; c += n) { dq[c] = add_q[c]; }
    }
    w = row_walk_next(w, p.dim);
  }
}
