// LSTM cell for one time step, the unfused way (the bench baseline for shaders/lstm.wgsl): the gate
// activations and the cell update are separate dispatches that meet in the [T, B, 4H] gates
// buffer, as a framework composing elementwise ops would run them.
//
// Forward:  gate_act (one invocation per gate element, B * 4H) then cell_update (per B * H).
// Backward: cell_backward writes the post-activation gate gradients into d_gates[t] and
//           updates dc in place; gate_act_backward then multiplies d_gates[t] in place by the
//           activation derivative.
//
// Layouts, the per-step uniform and the in-place rules are those of lstm.wgsl. The arithmetic
// (sigmoid, tanh_f and every product, in the same order) must stay the same as there: the
// two are tested to give identical bits.

override WG: u32 = 64u;

// ---- forward: activations ------------------------------------------------------------

@group(0) @binding(0) var<uniform> ap: Step;
@group(0) @binding(1) var<storage, read> gx: array<f32>;             // [T, B, 4H]
@group(0) @binding(2) var<storage, read> gh: array<f32>;             // [B, 4H]
@group(0) @binding(3) var<storage, read_write> gates: array<f32>;    // [T, B, 4H]

@compute @workgroup_size(WG)
fn gate_act(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = flat_id(gid, nwg);
  if (q >= 4u * ap.bh) { return; }
  let col = q % (4u * ap.hidden);
  let a = ap.t * 4u * ap.bh + q;
  let x = gx[a] + gh[q];
  // Columns [2H, 3H) are the candidate g (tanh); i, f, o are sigmoids.
  if (col >= 2u * ap.hidden && col < 3u * ap.hidden) {
    gates[a] = tanh_f(x);
  } else {
    gates[a] = sigmoid(x);
  }
}

// ---- forward: cell update ------------------------------------------------------------

@group(0) @binding(4) var<uniform> up: Step;
@group(0) @binding(5) var<storage, read> act: array<f32>;            // [T, B, 4H]
@group(0) @binding(6) var<storage, read_write> c_seq: array<f32>;    // [T, B, H]
@group(0) @binding(7) var<storage, read_write> h_seq: array<f32>;    // [T, B, H]

@compute @workgroup_size(WG)
fn cell_update(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_id(gid, nwg);
  if (k >= up.bh) { return; }
  let hd = up.hidden;
  let b = k / hd;
  let j = k - b * hd;
  let a = up.t * 4u * up.bh + b * 4u * hd + j;
  let ig = act[a];
  let fg = act[a + hd];
  let gg = act[a + 2u * hd];
  let og = act[a + 3u * hd];
  let s = up.t * up.bh + k;
  var c_prev = 0.0;
  if (up.t > 0u) { c_prev = c_seq[s - up.bh]; }
  let c = fg * c_prev + ig * gg;
  c_seq[s] = c;
  h_seq[s] = og * tanh_f(c);
}

// ---- backward: cell ------------------------------------------------------------------

@group(0) @binding(8) var<uniform> cp: Step;
@group(0) @binding(9) var<storage, read> saved_gates: array<f32>;    // [T, B, 4H]
@group(0) @binding(10) var<storage, read> saved_c: array<f32>;       // [T, B, H]
@group(0) @binding(11) var<storage, read> dh_out: array<f32>;        // [T, B, H]
@group(0) @binding(12) var<storage, read> dh_rec: array<f32>;        // [B, H]
@group(0) @binding(13) var<storage, read_write> dc: array<f32>;      // [B, H]
@group(0) @binding(14) var<storage, read_write> d_post: array<f32>;  // [T, B, 4H]

@compute @workgroup_size(WG)
fn cell_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_id(gid, nwg);
  if (k >= cp.bh) { return; }
  let hd = cp.hidden;
  let b = k / hd;
  let j = k - b * hd;
  let a = cp.t * 4u * cp.bh + b * 4u * hd + j;
  let ig = saved_gates[a];
  let fg = saved_gates[a + hd];
  let gg = saved_gates[a + 2u * hd];
  let og = saved_gates[a + 3u * hd];
  let s = cp.t * cp.bh + k;
  var c_prev = 0.0;
  if (cp.t > 0u) { c_prev = saved_c[s - cp.bh]; }
  let tc = tanh_f(saved_c[s]);
  let has_next = cp.t + 1u < cp.steps;
  let dh = dh_out[s] + select(0.0, dh_rec[k], has_next);
  let dct = select(0.0, dc[k], has_next) + dh * og * (1.0 - tc * tc);
  dc[k] = dct * fg;
  d_post[a] = dct * gg;
  d_post[a + hd] = dct * c_prev;
  d_post[a + 2u * hd] = dct * ig;
  d_post[a + 3u * hd] = dh * tc;
}

// ---- backward: activations -----------------------------------------------------------

@group(0) @binding(15) var<uniform> gp: Step;
@group(0) @binding(16) var<storage, read> post: array<f32>;          // [T, B, 4H] saved gates
@group(0) @binding(17) var<storage, read_write> d_pre: array<f32>;   // [T, B, 4H] in place

@compute @workgroup_size(WG)
fn gate_act_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = flat_id(gid, nwg);
  if (q >= 4u * gp.bh) { return; }
  let col = q % (4u * gp.hidden);
  let a = gp.t * 4u * gp.bh + q;
  let y = post[a];
  if (col >= 2u * gp.hidden && col < 3u * gp.hidden) {
    d_pre[a] = d_pre[a] * (1.0 - y * y);
  } else {
    d_pre[a] = d_pre[a] * (y * (1.0 - y));
  }
}
