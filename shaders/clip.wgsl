// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_: with total_norm the
// L2 norm over every gradient, each gradient is scaled by min(1, max_norm / (total_norm + 1e-6)).
// The sum of squares comes from the deterministic tree sum (reduce.wgsl) of squared_into's
// output; this file holds the two element-wise ends.

override WG: u32 = 64u;

fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

struct Params { n: u32, max_norm: f32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> sq: array<f32>;

// sq = x * x, the terms of the squared norm.
@compute @workgroup_size(WG)
fn squared(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i < p.n) { sq[i] = x[i] * x[i]; }
}

@group(0) @binding(3) var<storage, read> sumsq: array<f32>;   // [1]: the squared global norm
@group(0) @binding(4) var<storage, read_write> clipped: array<f32>;

// clipped = x * min(1, max_norm / (sqrt(sumsq) + 1e-6)).
@compute @workgroup_size(WG)
fn clip(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  let coef = min(1.0, p.max_norm / (sqrt(sumsq[0]) + 1e-6));
  clipped[i] = x[i] * coef;
}
