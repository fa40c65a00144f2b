// Deterministic reductions and their backward broadcasts.
//
// row_dot:     out[r] (+)= sum_c x[r, c] * y[r, c]       (the factorization score u . q)
// row_sum:     out[r] (+)= scale * sum_c x[r, c]         (scale 1: sum, 1 / cols: mean)
// row_scale:   out[r, c] (+)= g[r] * x[r, c]             (row_dot's backward, once per input)
// broadcast:   out[t] (+)= scale * g[offset + (t / inner) % outer]
//              (the backward of every sum and mean: scalar, per row or per column)
// tree_sum:    a workgroup tree over a fixed chunk of the input, one partial per workgroup;
//              run twice (input -> partials -> one scalar) for a whole-tensor sum or mean
// sum_serial:  one thread sums everything in order: the baseline tree_sum is measured against
// col_sum:     [rows, cols] -> [groups, cols], each group a fixed block of rows summed in order;
//              run twice (blocks -> partials -> [cols]) for a per-column sum or mean
//
// WGSL has no float atomics, and atomics would add in a different order every run. Every sum
// here has a shape fixed by the tensor's shape alone (the chunk and group sizes are set when
// the kernel is created), never by how the device schedules workgroups, so the same input
// gives the same bits on every run.

override WG: u32 = 64u;
// 1: add the result into the output (losses summed over steps, gradients from several ops).
override ACCUMULATE: u32 = 0u;

// Threads past 65535 workgroups spill into y; this undoes the split.
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// ---- row ops: one thread per row, columns in ascending order ---------------------------
//
// Rows here are embedding-sized (tens to hundreds of columns) and there are many of them,
// so a thread per row keeps every core busy without barriers.

struct RowParams { rows: u32, cols: u32, scale: f32, _pad: u32 }

@group(0) @binding(0) var<uniform> rp: RowParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> row_out: array<f32>;

fn put_row(i: u32, v: f32) {
  if (ACCUMULATE == 1u) {
    row_out[i] = row_out[i] + v;
  } else {
    row_out[i] = v;
  }
}

@compute @workgroup_size(WG)
fn row_dot(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_id(gid, nwg);
  if (r >= rp.rows) { return; }
  let base = r * rp.cols;
  var acc = 0.0;
  for (var c = 0u; c < rp.cols; c++) {
    acc += x[base + c] * y[base + c];
  }
  put_row(r, acc);
}

@compute @workgroup_size(WG)
fn row_sum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_id(gid, nwg);
  if (r >= rp.rows) { return; }
  let base = r * rp.cols;
  var acc = 0.0;
  for (var c = 0u; c < rp.cols; c++) {
    acc += x[base + c];
  }
  put_row(r, acc * rp.scale);
}

// row_dot's backward for one input: d_a = g * b (x = b) or d_b = g * a (x = a).
@group(0) @binding(4) var<storage, read> row_grad: array<f32>;

@compute @workgroup_size(WG)
fn row_scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  if (t >= rp.rows * rp.cols) { return; }
  put_row(t, row_grad[t / rp.cols] * x[t]);
}

// ---- broadcast (backward of sums and means) ---------------------------------------------
//
// scalar: inner = n, outer = 1 -> g[offset]; per row of [R, C]: inner = C, outer = R -> g[r];
// per column of [R, C]: inner = 1, outer = C -> g[c].

struct BroadcastParams { n: u32, inner: u32, outer: u32, offset: u32, scale: f32, _pad0: u32, _pad1: u32, _pad2: u32 }

@group(0) @binding(5) var<uniform> bcp: BroadcastParams;
@group(0) @binding(6) var<storage, read> bc_grad: array<f32>;
@group(0) @binding(7) var<storage, read_write> bc_out: array<f32>;

@compute @workgroup_size(WG)
fn broadcast(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  if (t >= bcp.n) { return; }
  let v = bc_grad[bcp.offset + (t / bcp.inner) % bcp.outer] * bcp.scale;
  if (ACCUMULATE == 1u) {
    bc_out[t] = bc_out[t] + v;
  } else {
    bc_out[t] = v;
  }
}

// ---- whole-tensor sum --------------------------------------------------------------------
//
// Workgroup p owns elements [p * WG * per_thread, (p + 1) * WG * per_thread). Lane l first
// adds its elements p * chunk + l + j * WG for j = 0, 1, ... in order (consecutive lanes read
// consecutive addresses), then the WG lane sums are added pairwise in a fixed tree (WG is a
// power of two), and lane 0 writes out[offset + p] (+)= scale * total. The second pass runs
// the same code on the partials with one workgroup.

struct TreeParams { n: u32, per_thread: u32, offset: u32, scale: f32 }

@group(0) @binding(8) var<uniform> tp: TreeParams;
@group(0) @binding(9) var<storage, read> tree_in: array<f32>;
@group(0) @binding(10) var<storage, read_write> tree_out: array<f32>;

var<workgroup> lanes: array<f32, WG>;

fn put_tree(i: u32, v: f32) {
  if (ACCUMULATE == 1u) {
    tree_out[i] = tree_out[i] + v;
  } else {
    tree_out[i] = v;
  }
}

@compute @workgroup_size(WG)
fn tree_sum(
  @builtin(local_invocation_index) l: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let chunk = WG * tp.per_thread;
  let p = wid.x + wid.y * nwg.x;
  // Whole workgroups past the end (the 2D grid rounds up) leave together: the barriers below
  // stay in uniform control flow.
  if (p * chunk >= tp.n) { return; }
  var acc = 0.0;
  for (var j = 0u; j < tp.per_thread; j++) {
    let i = p * chunk + j * WG + l;
    if (i < tp.n) { acc += tree_in[i]; }
  }
  lanes[l] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (l < s) { lanes[l] = lanes[l] + lanes[l + s]; }
    workgroupBarrier();
  }
  if (l == 0u) { put_tree(tp.offset + p, lanes[0] * tp.scale); }
}

@compute @workgroup_size(1)
fn sum_serial() {
  var acc = 0.0;
  for (var i = 0u; i < tp.n; i++) {
    acc += tree_in[i];
  }
  put_tree(tp.offset, acc * tp.scale);
}

// ---- per-column sum ----------------------------------------------------------------------
//
// One thread per (group, column) adds its group's rows in order; consecutive threads read
// consecutive columns of a row. Columns already give D-way parallelism, so no workgroup
// memory and no barriers (which are slow on CPU adapters such as SwiftShader).

struct ColParams { rows: u32, cols: u32, rows_per_group: u32, groups: u32, scale: f32, _pad0: u32, _pad1: u32, _pad2: u32 }

@group(0) @binding(11) var<uniform> cp: ColParams;
@group(0) @binding(12) var<storage, read> col_in: array<f32>;
@group(0) @binding(13) var<storage, read_write> col_out: array<f32>;

@compute @workgroup_size(WG)
fn col_sum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  if (t >= cp.groups * cp.cols) { return; }
  let g = t / cp.cols;
  let c = t - g * cp.cols;
  let r0 = g * cp.rows_per_group;
  let r1 = min(cp.rows, r0 + cp.rows_per_group);
  var acc = 0.0;
  for (var r = r0; r < r1; r++) {
    acc += col_in[r * cp.cols + c];
  }
  let v = acc * cp.scale;
  if (ACCUMULATE == 1u) {
    col_out[t] = col_out[t] + v;
  } else {
    col_out[t] = v;
  }
}
