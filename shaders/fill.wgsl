// Fills a tensor with one value: zeroing gradients that are written sparsely (embedding
// tables) inside a compute pass, where clearBuffer cannot go.

override WG: u32 = 64u;
// Elements per thread: a workgroup covers WG * PER consecutive elements, thread lid taking
// lid, lid + WG, ... (coalesced on a GPU; fewer invocations on SwiftShader).
override PER: u32 = 1u;

struct Params { n: u32, value: f32, _a: u32, _b: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

// Workgroups past 65535 spill into y; (wid.x + wid.y * nwg.x) undoes the split.
@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  let base = (wid.x + wid.y * nwg.x) * PER * WG + lid;
  for (var j = 0u; j < PER; j++) {
    let i = base + j * WG;
    if (i >= p.n) { return; }
    out[i] = p.value;
  }
}
