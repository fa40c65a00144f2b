// Softmax over the last dimension of [rows, cols] (MMoE gates), forward and backward.
//
// Forward:  y_j = e^(x_j - m) / sum_k e^(x_k - m), m = max_k x_k (no overflow for any x)
// Backward: dx = y ⊙ (dy - sum_k dy_k y_k)
//
// One thread per row: gates have a handful of columns (one per expert) and many rows. Each
// row is summed in column order, so two runs give the same bits.

override WG: u32 = 64u;
// 1: add into dx (x feeds several ops); 0: overwrite it.
override ACCUMULATE: u32 = 0u;

// Threads past 65535 workgroups spill into y; this undoes the split.
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

struct Params { rows: u32, cols: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;

// ---- forward -------------------------------------------------------------------------

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn softmax_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_id(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  // One pass for the max and the sum: the sum is rescaled whenever the max grows.
  var m = x[base];
  var s = 1.0;
  for (var j = 1u; j < p.cols; j++) {
    let v = x[base + j];
    if (v > m) {
      s = s * exp(m - v) + 1.0;
      m = v;
    } else {
      s += exp(v - m);
    }
  }
  let inv = 1.0 / s;
  for (var j = 0u; j < p.cols; j++) {
    y[base + j] = exp(x[base + j] - m) * inv;
  }
}

// ---- backward ------------------------------------------------------------------------

@group(0) @binding(3) var<storage, read> y_in: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn softmax_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_id(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  var proj = 0.0; // sum_k dy_k y_k
  for (var j = 0u; j < p.cols; j++) {
    proj += dy[base + j] * y_in[base + j];
  }
  for (var j = 0u; j < p.cols; j++) {
    let g = y_in[base + j] * (dy[base + j] - proj);
    if (ACCUMULATE == 1u) {
      dx[base + j] = dx[base + j] + g;
    } else {
      dx[base + j] = g;
    }
  }
}
