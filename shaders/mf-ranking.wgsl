// The factorization head of CS330 homework 0 with its ranking loss, forward and backward in one
// pass, one thread per rating:
//   pos = u·q⁺ + a + b⁺,  neg = u·q⁻ + a + b⁻,  d = pos - neg
//   L = scale · (1 - σ(d)) = scale · σ(-d),   dL/dd = -scale · σ(d) σ(-d)
//   du = dL/dd · (q⁺ - q⁻),  dq⁺ = dL/dd · u,  dq⁻ = -dL/dd · u,  db⁺ = dL/dd,  db⁻ = -dL/dd,
//   da = dL/dd - dL/dd = 0 (the user's bias cancels in d, as it does in PyTorch's autograd).
// The items arrive as one gathered batch: rows [0, n) are the positives, [n, 2n) the negatives.
// Replaces two row dots, four adds, the loss, two row-dot backwards and the row splits.

override WG: u32 = 64u;

struct Params { n: u32, dim: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
// weight / n: the loss is a weighted mean over the batch.
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read> u: array<f32>;       // [n, dim]
@group(0) @binding(3) var<storage, read> q: array<f32>;       // [2n, dim]
@group(0) @binding(4) var<storage, read> a: array<f32>;       // [n]
@group(0) @binding(5) var<storage, read> b: array<f32>;       // [2n]
@group(0) @binding(6) var<storage, read_write> loss: array<f32>;  // [n]
@group(0) @binding(7) var<storage, read_write> du: array<f32>;    // [n, dim]
@group(0) @binding(8) var<storage, read_write> dq: array<f32>;    // [2n, dim]
@group(0) @binding(9) var<storage, read_write> da: array<f32>;    // [n]
@group(0) @binding(10) var<storage, read_write> db: array<f32>;   // [2n]

fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// 1 / (1 + e^-x) from e^-|x|, so neither sign overflows.
fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, x >= 0.0);
}

@compute @workgroup_size(WG)
fn mf_ranking(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_id(gid, nwg);
  if (r >= p.n) { return; }
  let ur = r * p.dim;
  let qp = r * p.dim;
  let qn = (p.n + r) * p.dim;
  // Each dot in ascending d, then the biases, as (u·q + a) + b.
  var dot_p = 0.0;
  var dot_n = 0.0;
  for (var k = 0u; k < p.dim; k++) {
    dot_p += u[ur + k] * q[qp + k];
    dot_n += u[ur + k] * q[qn + k];
  }
  let pos = (dot_p + a[r]) + b[r];
  let neg = (dot_n + a[r]) + b[p.n + r];
  let d = pos - neg;
  let down = sigmoid(-d);
  let k = scale[0];
  let g = -sigmoid(d) * down * k;
  loss[r] = down * k;
  for (var j = 0u; j < p.dim; j++) {
    du[ur + j] = g * (q[qp + j] - q[qn + j]);
    dq[qp + j] = g * u[ur + j];
    dq[qn + j] = -g * u[ur + j];
  }
  da[r] = 0.0;
  db[r] = g;
  db[p.n + r] = -g;
}
