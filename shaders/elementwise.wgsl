// Element-wise maps and column-block copies, forward and backward side by side.
//
// add:          out (+)= a + b          backward: the identity (the caller adds g where needed)
// mul:          out (+)= a * b          backward: mul_backward, da (+)= g * b, db (+)= g * a
// scale_shift:  out (+)= alpha * a + beta          backward: scale_shift with (alpha, 0)
// accumulate:   out += a                 (a tensor that feeds several ops sums its gradients)
// copy_block:   dst[r, dst_off + c] (+)= src[r, src_off + c] for c < width
//               concat runs it once per input; split (concat's backward) once per output.
//
// PER elements per thread and no reductions: each output is a fixed expression of its inputs,
// so every run gives the same bits.

override WG: u32 = 64u;
// Elements per thread: a workgroup covers WG * PER consecutive elements, thread lid taking
// lid, lid + WG, ... (coalesced on a GPU; fewer invocations on SwiftShader, where each costs).
override PER: u32 = 1u;
// 1: add the result into the output (a gradient that several ops feed); 0: overwrite it.
override ACCUMULATE: u32 = 0u;

// Element j of this thread; it grows with j, so a thread returns at its first one past the
// end. Workgroups past 65535 spill into y; this undoes the split.
fn element(wid: vec3u, nwg: vec3u, lid: u32, j: u32) -> u32 {
  return ((wid.x + wid.y * nwg.x) * PER + j) * WG + lid;
}

// ---- maps ------------------------------------------------------------------------------

// alpha and beta are only read by scale_shift; they are fixed when the kernel is created.
struct MapParams { n: u32, alpha: f32, beta: f32, _pad: u32 }

@group(0) @binding(0) var<uniform> mp: MapParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn put(i: u32, v: f32) {
  if (ACCUMULATE == 1u) {
    out[i] = out[i] + v;
  } else {
    out[i] = v;
  }
}

@compute @workgroup_size(WG)
fn add(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  for (var j = 0u; j < PER; j++) {
    let i = element(wid, nwg, lid, j);
    if (i >= mp.n) { return; }
    put(i, a[i] + b[i]);
  }
}

@compute @workgroup_size(WG)
fn mul(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  for (var j = 0u; j < PER; j++) {
    let i = element(wid, nwg, lid, j);
    if (i >= mp.n) { return; }
    put(i, a[i] * b[i]);
  }
}

@compute @workgroup_size(WG)
fn scale_shift(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  for (var j = 0u; j < PER; j++) {
    let i = element(wid, nwg, lid, j);
    if (i >= mp.n) { return; }
    put(i, mp.alpha * a[i] + mp.beta);
  }
}

// Always adds, whatever ACCUMULATE says: overwriting would be a plain buffer copy.
@compute @workgroup_size(WG)
fn accumulate(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  for (var j = 0u; j < PER; j++) {
    let i = element(wid, nwg, lid, j);
    if (i >= mp.n) { return; }
    out[i] = out[i] + a[i];
  }
}

// ---- multiply backward -------------------------------------------------------------------

// Both gradients in one pass: g is read once. Reuses mp, a (binding 1) and b (binding 2).
@group(0) @binding(4) var<storage, read> grad: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad_a: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad_b: array<f32>;

fn mul_backward_at(i: u32) {
  let g = grad[i];
  let da = g * b[i];
  let db = g * a[i];
  if (ACCUMULATE == 1u) {
    grad_a[i] = grad_a[i] + da;
    grad_b[i] = grad_b[i] + db;
  } else {
    grad_a[i] = da;
    grad_b[i] = db;
  }
}

@compute @workgroup_size(WG)
fn mul_backward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  for (var j = 0u; j < PER; j++) {
    let i = element(wid, nwg, lid, j);
    if (i >= mp.n) { return; }
    mul_backward_at(i);
  }
}

// ---- column-block copy (concat, split) ---------------------------------------------------

// Row-major matrices: src is [rows, src_stride], dst is [rows, dst_stride]; the block is
// `width` columns starting at src_off in src and at dst_off in dst. Consecutive threads take
// consecutive block elements, so they touch consecutive addresses on both sides.
struct BlockParams {
  rows: u32,
  width: u32,
  src_stride: u32,
  src_off: u32,
  dst_stride: u32,
  dst_off: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(7) var<uniform> bp: BlockParams;
@group(0) @binding(8) var<storage, read> src: array<f32>;
@group(0) @binding(9) var<storage, read_write> dst: array<f32>;

// Block element (r, c).
fn copy_at(r: u32, c: u32) {
  let v = src[r * bp.src_stride + bp.src_off + c];
  let o = r * bp.dst_stride + bp.dst_off + c;
  if (ACCUMULATE == 1u) {
    dst[o] = dst[o] + v;
  } else {
    dst[o] = v;
  }
}

// A thread's block elements are t0, t0 + WG, ...; row-walk.wgsl (appended) gives their (r, c).
@compute @workgroup_size(WG)
fn copy_block(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  let t0 = element(wid, nwg, lid, 0u);
  var w = row_walk(t0, bp.width);
  for (var j = 0u; j < PER; j++) {
    if (t0 + j * WG >= bp.rows * bp.width) { return; }
    copy_at(w.r, w.c);
    w = row_walk_next(w, bp.width);
  }
}
