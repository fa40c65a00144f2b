// The regression head's input from a user row u and an item row q: x = [u, q, u ⊙ q], and its
// backward du = dx_u + dx_uq ⊙ q, dq = dx_q + dx_uq ⊙ u. PER (row, column) elements per thread,
// each a dispatch of its own instead of a product, a three-way concat and, backward, a split,
// the product's backward and two adds.

override WG: u32 = 64u;
// Elements per thread: a workgroup covers WG * PER consecutive elements, thread lid taking
// lid, lid + WG, ... (coalesced on a GPU; fewer invocations on SwiftShader).
override PER: u32 = 1u;

struct Params { rows: u32, dim: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> u: array<f32>;    // [rows, dim]
@group(0) @binding(2) var<storage, read> q: array<f32>;    // [rows, dim]
@group(0) @binding(3) var<storage, read_write> x: array<f32>;  // [rows, 3·dim]
@group(0) @binding(4) var<storage, read> dx: array<f32>;   // [rows, 3·dim]
@group(0) @binding(5) var<storage, read_write> du: array<f32>;
@group(0) @binding(6) var<storage, read_write> dq: array<f32>;

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

// A thread's elements are t0, t0 + WG, ...: (r, j) advance by (WG / dim, WG % dim) with a
// carry, so a thread divides twice, not once per element (integer division costs as much as
// a memory access on SwiftShader).
struct Walk { t: u32, r: u32, j: u32, dr: u32, dj: u32 }

fn walk_start(wid: vec3u, nwg: vec3u, lid: u32) -> Walk {
  let t = element(wid, nwg, lid, 0u);
  let r = t / p.dim;
  let dr = WG / p.dim;
  return Walk(t, r, t - r * p.dim, dr, WG - dr * p.dim);
}

fn walk_next(w: Walk) -> Walk {
  var n = Walk(w.t + WG, w.r + w.dr, w.j + w.dj, w.dr, w.dj);
  if (n.j >= p.dim) {
    n.j -= p.dim;
    n.r += 1u;
  }
  return n;
}

@compute @workgroup_size(WG)
fn pair_features(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  var w = walk_start(wid, nwg, lid);
  for (var k = 0u; k < PER; k++) {
    if (w.t >= p.rows * p.dim) { return; }
    forward_at(w.t, w.r, w.j);
    w = walk_next(w);
  }
}

@compute @workgroup_size(WG)
fn pair_features_backward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  var w = walk_start(wid, nwg, lid);
  for (var k = 0u; k < PER; k++) {
    if (w.t >= p.rows * p.dim) { return; }
    backward_at(w.t, w.r, w.j);
    w = walk_next(w);
  }
}
