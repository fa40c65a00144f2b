// Scatter-add by compare-and-swap on the bits of f32 values: the strategy TensorFlow.js and
// jax-js use for an embedding's gradient, kept as the bench baseline for the segmented sum in
// embedding.wgsl. WGSL has no float atomics, so each thread loads a cell's bits, adds its
// value, and swaps the sum in if the cell did not change meanwhile, else retries with what it
// found. The order in which threads win decides the rounding: the result differs from run to
// run, so the engine never trains with this.
//
//   grad_table[idx[i], d] += grad_out[i, d]

override WG: u32 = 64u;

// Threads past 65535 workgroups spill into y; this undoes the split.
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

struct Params { n: u32, dim: u32, rows: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> sp: Params;
@group(0) @binding(1) var<storage, read> grad_out: array<f32>;
@group(0) @binding(2) var<storage, read> indices: array<u32>;
@group(0) @binding(3) var<storage, read_write> grad_table: array<atomic<u32>>;

@compute @workgroup_size(WG)
fn scatter_add_cas(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  if (t >= sp.n * sp.dim) { return; }
  let i = t / sp.dim;
  let row = indices[i];
  // The wrapper rejects bad indices before dispatch; this guard only keeps a stale index
  // buffer from writing another tensor.
  if (row >= sp.rows) { return; }
  let cell = row * sp.dim + (t - i * sp.dim);
  let x = grad_out[t];
  var old = atomicLoad(&grad_table[cell]);
  loop {
    let r = atomicCompareExchangeWeak(&grad_table[cell], old, bitcast<u32>(bitcast<f32>(old) + x));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}

// TF.js clears the output before scattering into it; so does the non-accumulating variant.
struct FillParams { count: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
@group(0) @binding(4) var<uniform> fp: FillParams;
@group(0) @binding(5) var<storage, read_write> cells: array<u32>;

@compute @workgroup_size(WG)
fn zero(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  if (t < fp.count) { cells[t] = 0u; }
}
