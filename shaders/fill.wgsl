// Fills a tensor with one value: zeroing gradients that are written sparsely (embedding
// tables) inside a compute pass, where clearBuffer cannot go.

override WG: u32 = 64u;

struct Params { n: u32, value: f32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) { out[i] = p.value; }
}
