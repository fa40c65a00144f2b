// MMoE's gate (Ma et al., KDD 2018): a softmax over E experts per row weighs their outputs.
// The experts' outputs sit side by side in one row: expert e's U units at columns e·U .. e·U+U-1.
//
//   p[b, e]   = softmax_e(gate_logits[b, :])          (the row max subtracted: no overflow)
//   out[b, u] = Σ_e p[b, e] · experts[b, e·U + u]
//
// Backward, with s[b, e] = Σ_u dOut[b, u] · experts[b, e·U + u] (the gradient w.r.t. p):
//
//   dExperts[b, e·U + u] = p[b, e] · dOut[b, u]
//   dLogits[b, e]        = p[b, e] · (s[b, e] - Σ_e' p[b, e'] · s[b, e'])   (softmax's Jacobian)
//
// Every thread owns the elements it writes: no atomics, no races. The few experts (E ~ 8) are
// walked in a loop by each thread, in the same order everywhere, so every thread of a row
// computes bit-identical probabilities.

override WG: u32 = 64u;

struct Params { rows: u32, experts: u32, units: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gate_logits: array<f32>;
@group(0) @binding(2) var<storage, read> experts: array<f32>;
// Forward outputs: the mixture [B, U] and the gate's probabilities [B, E] for the backward.
@group(0) @binding(3) var<storage, read_write> mixed: array<f32>;
@group(0) @binding(4) var<storage, read_write> probs: array<f32>;
// Backward inputs (the forward's probabilities, read-only here) and outputs.
@group(0) @binding(5) var<storage, read> grad_mixed: array<f32>;
@group(0) @binding(6) var<storage, read> gate_probs: array<f32>;
@group(0) @binding(7) var<storage, read_write> grad_experts: array<f32>;
@group(0) @binding(8) var<storage, read_write> grad_logits: array<f32>;

// Threads past 65535 workgroups spill into y; this undoes the split.
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// The softmax of row b's gate: its max, and 1 / Σ_e e^(x_e - max).
struct Softmax { m: f32, inv: f32 }

fn softmax_of(b: u32) -> Softmax {
  let base = b * p.experts;
  var m = gate_logits[base];
  for (var e = 1u; e < p.experts; e++) {
    m = max(m, gate_logits[base + e]);
  }
  var total = 0.0;
  for (var e = 0u; e < p.experts; e++) {
    total += exp(gate_logits[base + e] - m);
  }
  return Softmax(m, 1.0 / total);
}

fn prob(b: u32, e: u32, sm: Softmax) -> f32 {
  return exp(gate_logits[b * p.experts + e] - sm.m) * sm.inv;
}

// One thread per output (b, u). Thread u also writes p[b, e] for e = u, u + U, ...: every
// probability once, with the values the mixture used.
@compute @workgroup_size(WG)
fn gate_mix(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.rows * p.units) { return; }
  let b = i / p.units;
  let u = i % p.units;
  let sm = softmax_of(b);
  let row = b * p.experts * p.units;
  var acc = 0.0;
  for (var e = 0u; e < p.experts; e++) {
    let pe = prob(b, e, sm);
    acc += pe * experts[row + e * p.units + u];
    if (e % p.units == u) {
      probs[b * p.experts + e] = pe;
    }
  }
  mixed[i] = acc;
}

// One thread per expert output (b, e·U + u).
@compute @workgroup_size(WG)
fn gate_mix_grad_experts(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  let width = p.experts * p.units;
  if (i >= p.rows * width) { return; }
  let b = i / width;
  let c = i % width;
  grad_experts[i] = gate_probs[b * p.experts + c / p.units] * grad_mixed[b * p.units + c % p.units];
}

// s[b, e]: how the loss moves with p[b, e].
fn score(b: u32, e: u32) -> f32 {
  let row = b * p.experts * p.units;
  var s = 0.0;
  for (var u = 0u; u < p.units; u++) {
    s += grad_mixed[b * p.units + u] * experts[row + e * p.units + u];
  }
  return s;
}

// One thread per gate logit (b, e); each recomputes the row's Σ_e' p s (E·U products: cheap
// next to a barrier, and the same order in every thread).
@compute @workgroup_size(WG)
fn gate_mix_grad_logits(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.rows * p.experts) { return; }
  let b = i / p.experts;
  let e = i % p.experts;
  var mean = 0.0;
  for (var k = 0u; k < p.experts; k++) {
    mean += gate_probs[b * p.experts + k] * score(b, k);
  }
  grad_logits[i] = gate_probs[i] * (score(b, e) - mean);
}
