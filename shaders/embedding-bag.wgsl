// Embedding bag: each output row is the sum of a list of source rows, the lists in CSR form.
//
//   out[r, :] = Σ_{k = off[r]}^{off[r+1]-1} src[idx[k], :]   (+ bias[:])
//
// Forward, src is the table and the lists are a batch row's active indices (the pixels that
// are 1 in a binary image, plus its label column): x · W for a 0/1 x, without the zeros.
// Backward, src is d_out and the lists are the transposed CSR (for each table row, the batch
// rows that hold it): dW = xᵀ · d_out, a scatter-add computed as a gather, so no float atomics.
// One thread owns one (row, VEC columns) and adds its list in ascending k: the host sorts each
// list, so the sums have a fixed order and the same bits on every run. With ascending lists and
// the bias added last, the result is bit for bit what the dense matmul of shaders/matmul.wgsl
// gives for a 0/1 x (its zero terms add nothing).
//
// csr, u32: [off (rows + 1) | idx (capacity)]. off[0] = 0, off is non-decreasing, off[rows] <=
// capacity; the host checks this and idx < src_rows before upload, the guards below only keep
// a stale buffer from reading out of range.

override WG: u32 = 64u;
override HAS_BIAS: bool = false;

// Threads past 65535 workgroups spill into y; this undoes the split.
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// dim is in columns; cols4 = dim / 4 for the vec4 entry point.
struct Params { rows: u32, dim: u32, src_rows: u32, capacity: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> csr: array<u32>;

// ---- one column per thread ------------------------------------------------------------

@group(0) @binding(2) var<storage, read> src: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn bag_sum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  if (t >= p.rows * p.dim) { return; }
  let r = t / p.dim;
  let d = t - r * p.dim;
  let idx_at = p.rows + 1u;
  let end = min(csr[r + 1u], p.capacity);
  var acc = 0.0;
  for (var k = csr[r]; k < end; k++) {
    let row = csr[idx_at + k];
    if (row < p.src_rows) { acc += src[row * p.dim + d]; }
  }
  if (HAS_BIAS) { acc += bias[d]; }
  out[t] = acc;
}

// ---- four columns per thread (dim a multiple of 4): a quarter of the index loads -------

@group(0) @binding(5) var<storage, read> src4: array<vec4f>;
@group(0) @binding(6) var<storage, read> bias4: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> out4: array<vec4f>;

@compute @workgroup_size(WG)
fn bag_sum_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  let cols4 = p.dim / 4u;
  if (t >= p.rows * cols4) { return; }
  let r = t / cols4;
  let d = t - r * cols4;
  let idx_at = p.rows + 1u;
  let end = min(csr[r + 1u], p.capacity);
  var acc = vec4f(0.0);
  for (var k = csr[r]; k < end; k++) {
    let row = csr[idx_at + k];
    if (row < p.src_rows) { acc += src4[row * cols4 + d]; }
  }
  if (HAS_BIAS) { acc += bias4[d]; }
  out4[t] = acc;
}

// ---- 32 columns per thread (dim a multiple of 32): eight vec4 sums per index read ----------
// On SwiftShader (a CPU) a thread's loop costs more than its loads: this one does a sixteenth
// of vec4's loop trips and an eighth of its index reads for the same sums, in the same order
// (the same bits). Measured there on the few-shot shapes: about 2× vec4, 2.5× with the 2× unroll.

@compute @workgroup_size(WG)
fn bag_sum_vec4x8(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  let cols4 = p.dim / 4u;
  let groups = cols4 / 8u;
  if (t >= p.rows * groups) { return; }
  let r = t / groups;
  let d = (t - r * groups) * 8u;
  let idx_at = p.rows + 1u;
  let end = min(csr[r + 1u], p.capacity);
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  var a4 = vec4f(0.0);
  var a5 = vec4f(0.0);
  var a6 = vec4f(0.0);
  var a7 = vec4f(0.0);
  // Two list entries per trip (each accumulator still adds them in list order): fewer trips of
  // a loop that SwiftShader's JIT does not unroll by itself.
  // Indices are clamped rather than tested (the host checked them; a stale buffer must only
  // not read out of range): no branch in the loop.
  let last = p.src_rows - 1u;
  var k = csr[r];
  for (; k + 1u < end; k += 2u) {
    let b = min(csr[idx_at + k], last) * cols4 + d;
    let c = min(csr[idx_at + k + 1u], last) * cols4 + d;
    a0 += src4[b];
    a1 += src4[b + 1u];
    a2 += src4[b + 2u];
    a3 += src4[b + 3u];
    a4 += src4[b + 4u];
    a5 += src4[b + 5u];
    a6 += src4[b + 6u];
    a7 += src4[b + 7u];
    a0 += src4[c];
    a1 += src4[c + 1u];
    a2 += src4[c + 2u];
    a3 += src4[c + 3u];
    a4 += src4[c + 4u];
    a5 += src4[c + 5u];
    a6 += src4[c + 6u];
    a7 += src4[c + 7u];
  }
  if (k < end) {
    let b = min(csr[idx_at + k], last) * cols4 + d;
    a0 += src4[b];
    a1 += src4[b + 1u];
    a2 += src4[b + 2u];
    a3 += src4[b + 3u];
    a4 += src4[b + 4u];
    a5 += src4[b + 5u];
    a6 += src4[b + 6u];
    a7 += src4[b + 7u];
  }
  if (HAS_BIAS) {
    a0 += bias4[d];
    a1 += bias4[d + 1u];
    a2 += bias4[d + 2u];
    a3 += bias4[d + 3u];
    a4 += bias4[d + 4u];
    a5 += bias4[d + 5u];
    a6 += bias4[d + 6u];
    a7 += bias4[d + 7u];
  }
  let o = r * cols4 + d;
  out4[o] = a0;
  out4[o + 1u] = a1;
  out4[o + 2u] = a2;
  out4[o + 3u] = a3;
  out4[o + 4u] = a4;
  out4[o + 5u] = a5;
  out4[o + 6u] = a6;
  out4[o + 7u] = a7;
}
