// LSTM cell for one time step t, forward and backward side by side (gate order i, f, g, o as
// in PyTorch). One invocation owns one (batch row b, hidden unit j): it reads its four gate
// pre-activations and writes everything that depends on them, so the whole cell is one
// dispatch and nothing is shared between invocations (no barriers, no atomics: same bits on
// every run).
//
// Forward:   i, f, o = sigmoid(gx[t] + gh),  g = tanh(gx[t] + gh)
//            c[t] = f * c[t-1] + i * g      (c[-1] = 0)
//            h[t] = o * tanh(c[t])
// Backward:  dh   = dh_out[t] + dh_rec      (dh_rec = d_gates[t+1] . W_hh^T; 0 at t = T-1)
//            dc   = dc_in + dh * o * (1 - tanh(c[t])^2)   (dc_in = 0 at t = T-1)
//            d_gates[t] = pre-activation gradients; dc_in <- dc * f  (becomes dc_in of t-1)
//
// Sequences are [T, B, H] (states) and [T, B, 4H] (gates) and the step t comes from a
// per-step uniform: storage-buffer offsets must be 256-byte aligned, so a step cannot be
// addressed by binding offsets. The state c[t-1] is read from the same read_write binding that
// c[t] is written to (another step's element, never another invocation's), and dc is updated
// in place (each invocation reads then overwrites only its own element): neither needs a
// separate read-only alias of a buffer that is also written, which WebGPU forbids.
//
// sigmoid, tanh_f, flat_id and the Step struct come from lstm-common.wgsl; the arithmetic here
// must stay expression for expression the same as bench/baselines/lstm-unfused.wgsl (tested bit for bit).

override WG: u32 = 64u;

// ---- forward -------------------------------------------------------------------------

@group(0) @binding(0) var<uniform> fp: Step;
@group(0) @binding(1) var<storage, read> gx: array<f32>;             // [T, B, 4H]
@group(0) @binding(2) var<storage, read> gh: array<f32>;             // [B, 4H]
@group(0) @binding(3) var<storage, read_write> gates: array<f32>;    // [T, B, 4H] post-activation
@group(0) @binding(4) var<storage, read_write> c_seq: array<f32>;    // [T, B, H]
@group(0) @binding(5) var<storage, read_write> h_seq: array<f32>;    // [T, B, H]

@compute @workgroup_size(WG)
fn cell_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_id(gid, nwg);
  if (k >= fp.bh) { return; }
  let hd = fp.hidden;
  let b = k / hd;
  let j = k - b * hd;
  let r = b * 4u * hd + j;           // gate i of (b, j) in a [B, 4H] block
  let a = fp.t * 4u * fp.bh + r;     // the same in step t of [T, B, 4H]
  let ig = sigmoid(gx[a] + gh[r]);
  let fg = sigmoid(gx[a + hd] + gh[r + hd]);
  let gg = tanh_f(gx[a + 2u * hd] + gh[r + 2u * hd]);
  let og = sigmoid(gx[a + 3u * hd] + gh[r + 3u * hd]);
  gates[a] = ig;
  gates[a + hd] = fg;
  gates[a + 2u * hd] = gg;
  gates[a + 3u * hd] = og;
  let s = fp.t * fp.bh + k;
  var c_prev = 0.0;
  if (fp.t > 0u) { c_prev = c_seq[s - fp.bh]; }
  let c = fg * c_prev + ig * gg;
  c_seq[s] = c;
  h_seq[s] = og * tanh_f(c);
}

// ---- backward ------------------------------------------------------------------------

@group(0) @binding(6) var<uniform> bp: Step;
@group(0) @binding(7) var<storage, read> saved_gates: array<f32>;    // [T, B, 4H] post-activation
@group(0) @binding(8) var<storage, read> saved_c: array<f32>;        // [T, B, H]
@group(0) @binding(9) var<storage, read> dh_out: array<f32>;         // [T, B, H] from the layer above
@group(0) @binding(10) var<storage, read> dh_rec: array<f32>;        // [B, H] from step t+1
@group(0) @binding(11) var<storage, read_write> dc: array<f32>;      // [B, H] in: dc[t], out: dc[t-1]
@group(0) @binding(12) var<storage, read_write> d_gates: array<f32>; // [T, B, 4H] pre-activation

@compute @workgroup_size(WG)
fn cell_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_id(gid, nwg);
  if (k >= bp.bh) { return; }
  let hd = bp.hidden;
  let b = k / hd;
  let j = k - b * hd;
  let a = bp.t * 4u * bp.bh + b * 4u * hd + j;
  let ig = saved_gates[a];
  let fg = saved_gates[a + hd];
  let gg = saved_gates[a + 2u * hd];
  let og = saved_gates[a + 3u * hd];
  let s = bp.t * bp.bh + k;
  var c_prev = 0.0;
  if (bp.t > 0u) { c_prev = saved_c[s - bp.bh]; }
  // Recomputing tanh(c) costs the same read as saving it and saves a [T, B, H] buffer.
  let tc = tanh_f(saved_c[s]);
  // The last step has no step after it: its recurrent inputs are zero whatever the buffers hold.
  let has_next = bp.t + 1u < bp.steps;
  let dh = dh_out[s] + select(0.0, dh_rec[k], has_next);
  let dct = select(0.0, dc[k], has_next) + dh * og * (1.0 - tc * tc);
  let di = dct * gg;
  let df = dct * c_prev;
  let dg = dct * ig;
  let d_o = dh * tc;
  dc[k] = dct * fg;
  d_gates[a] = di * (ig * (1.0 - ig));
  d_gates[a + hd] = df * (fg * (1.0 - fg));
  d_gates[a + 2u * hd] = dg * (1.0 - gg * gg);
  d_gates[a + 3u * hd] = d_o * (og * (1.0 - og));
}
