// Embedding lookup and its gradient, side by side.
//
// Forward (gather):      out[i, :] = table[idx[i], :]
// Backward (scatter-add): grad_table[r, :] (+)= sum of grad_out[i, :] over the i with idx[i] = r
//
// WGSL has no float atomics, and atomics would sum in a different order every run. So the
// host, which knows the batch's indices, sorts the positions by row (a CSR: segment s is row
// seg_row[s] with positions perm[seg_start[s] .. seg_start[s+1]]) and one thread sums one
// (segment, column) in ascending position order: the same bits on every run.

override WG: u32 = 64u;
// 1: add into grad_table (a table that feeds several ops); 0: overwrite the rows touched.
override ACCUMULATE: u32 = 0u;

// Elements per gather thread: a workgroup covers WG * PER consecutive outputs, thread lid
// taking lid, lid + WG, ... (coalesced on a GPU; fewer invocations on SwiftShader).
override PER: u32 = 1u;

// Threads past 65535 workgroups spill into y; this undoes the split.
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// Element j of a PER-element thread; it grows with j. Undoes the y split as flat_id does.
fn element(wid: vec3u, nwg: vec3u, lid: u32, j: u32) -> u32 {
  return ((wid.x + wid.y * nwg.x) * PER + j) * WG + lid;
}

// ---- forward -------------------------------------------------------------------------

struct GatherParams { n: u32, dim: u32, rows: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> gp: GatherParams;
@group(0) @binding(1) var<storage, read> table: array<f32>;
@group(0) @binding(2) var<storage, read> indices: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// Output element t = (i, d): out[i, d] = table[indices[i], d].
fn gather_at(t: u32, i: u32, d: u32) {
  let row = indices[i];
  // The wrapper rejects bad indices before dispatch; this guard only keeps a stale
  // index buffer from reading another tensor.
  out[t] = select(0.0, table[min(row, gp.rows - 1u) * gp.dim + d], row < gp.rows);
}

// The thread's elements are t0, t0 + WG, ...; row-walk.wgsl (appended) gives their (i, d).
@compute @workgroup_size(WG)
fn gather(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  let t0 = element(wid, nwg, lid, 0u);
  var w = row_walk(t0, gp.dim);
  for (var j = 0u; j < PER; j++) {
    let t = t0 + j * WG;
    if (t >= gp.n * gp.dim) { return; }
    gather_at(t, w.r, w.c);
    w = row_walk_next(w, gp.dim);
  }
}

// ---- backward ------------------------------------------------------------------------

// csr holds, as u32: [nseg | seg_row (cap) | seg_start (cap + 1) | perm (n)], written by
// the host once per batch, so a recorded step replays with only that upload.
struct SegmentParams { n: u32, dim: u32, cap: u32, _pad: u32 }

@group(0) @binding(4) var<uniform> sp: SegmentParams;
@group(0) @binding(5) var<storage, read> grad_out: array<f32>;
@group(0) @binding(6) var<storage, read> csr: array<u32>;
@group(0) @binding(7) var<storage, read_write> grad_table: array<f32>;

@compute @workgroup_size(WG)
fn segment_sum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  let nseg = csr[0];
  if (t >= nseg * sp.dim) { return; }
  let s = t / sp.dim;
  let d = t - s * sp.dim;
  let rows_at = 1u;
  let starts_at = 1u + sp.cap;
  let perm_at = 2u + 2u * sp.cap;
  var acc = 0.0;
  for (var k = csr[starts_at + s]; k < csr[starts_at + s + 1u]; k++) {
    acc += grad_out[csr[perm_at + k] * sp.dim + d];
  }
  let o = csr[rows_at + s] * sp.dim + d;
  if (ACCUMULATE == 1u) {
    grad_table[o] = grad_table[o] + acc;
  } else {
    grad_table[o] = acc;
  }
}
