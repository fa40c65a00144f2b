// Inverted dropout with a counter-based hash: element i of stream `stream` at step `step` of a
// run seeded `seed` is kept when the hash of (i, step, seed, stream) is at least
// `threshold` = rate · 2^32, and scaled by 1 / (1 - rate) (so a layer's expected output is
// unchanged and evaluation needs no rescaling). No random state and no stored mask: the
// backward runs this same entry point on the gradient, with the same counters, and gets the
// same mask. Integer arithmetic only, so every GPU (and the CPU reference) draws the same mask.

override WG: u32 = 64u;

struct Params { n: u32, threshold: u32, stream: u32, scale: f32 }

@group(0) @binding(0) var<uniform> p: Params;
// [seed, step]: the host writes the step counter before every step.
@group(0) @binding(1) var<storage, read> seed: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// Threads past 65535 workgroups spill into y; this undoes the split.
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// pcg4d (Jarzynski and Olano, "Hash Functions for GPU Rendering", JCGT 2020): a PCG step on
// each lane, then rounds that mix every lane into every other. u32 arithmetic wraps in WGSL.
fn pcg4d(c: vec4u) -> vec4u {
  var v = c * 1664525u + 1013904223u;
  v.x += v.y * v.w;
  v.y += v.z * v.x;
  v.z += v.x * v.y;
  v.w += v.y * v.z;
  v ^= v >> vec4u(16u);
  v.x += v.y * v.w;
  v.y += v.z * v.x;
  v.z += v.x * v.y;
  v.w += v.y * v.z;
  return v;
}

@compute @workgroup_size(WG)
fn dropout(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= p.n) { return; }
  let draw = pcg4d(vec4u(i, seed[1], seed[0], p.stream)).x;
  out[i] = select(0.0, x[i] * p.scale, draw >= p.threshold);
}
