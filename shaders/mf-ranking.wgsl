// The factorization head of CS330 homework 0 with its ranking loss, forward and backward in one
// pass, one thread per rating:
//   pos = u·q⁺ + a + b⁺,  neg = u·q⁻ + a + b⁻,  d = pos - neg
//   L = scale · (1 - σ(d)) = scale · σ(-d),   dL/dd = -scale · σ(d) σ(-d)
//   du = dL/dd · (q⁺ - q⁻),  dq⁺ = dL/dd · u,  dq⁻ = -dL/dd · u,  db⁺ = dL/dd,  db⁻ = -dL/dd,
//   da = dL/dd - dL/dd = 0 (the user's bias cancels in d, as it does in PyTorch's autograd).
// The items arrive as one gathered batch: rows [0, n) are the positives, [n, 2n) the negatives.
// Replaces two row dots, four adds, the loss, two row-dot backwards and the row splits.

override WG: u32 = 64u;

// scale: the indexed entry point's weight / n (the other reads its storage binding).
struct Params { n: u32, dim: u32, scale: f32, _pad0: u32 }

@group(0) @binding(0) var<uniform> p: Params;
// weight / n: the loss is a weighted mean over the batch.
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read> u: array<f32>;       // [n, dim]
@group(0) @binding(3) var<storage, read> q: array<f32>;       // [2n, dim]
@group(0) @binding(4) var<storage, read> a: array<f32>;       // [n], or the user bias table (indexed)
@group(0) @binding(5) var<storage, read> b: array<f32>;       // [2n], or the item bias table (indexed)
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

// Rating r, with its user's bias and its two items' biases already read, and the loss scale k.
fn mf_rating(r: u32, a_r: f32, b_pos: f32, b_neg: f32, k: f32) {
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
  let pos = (dot_p + a_r) + b_pos;
  let neg = (dot_n + a_r) + b_neg;
  let d = pos - neg;
  let down = sigmoid(-d);
  let g = -sigmoid(d) * down * k;
  loss[r] = down * k;
  for (var j = 0u; j < p.dim; j++) {
    du[ur + j] = g * (q[qp + j] - q[qn + j]);
    dq[qp + j] = g * u[ur + j];
    dq[qn + j] = -g * u[ur + j];
  }
  db[r] = g;
  db[p.n + r] = -g;
}

// a and b hold the batch's gathered biases: [n] and [2n].
@compute @workgroup_size(WG)
fn mf_ranking(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_id(gid, nwg);
  if (r >= p.n) { return; }
  mf_rating(r, a[r], b[r], b[p.n + r], scale[0]);
  da[r] = 0.0;
}

// a and b are the whole bias tables, read at the batch's indices: no gather dispatches. The
// scale comes from the uniform and da (always zero) is not written, so the entry point binds
// ten storage buffers, what browsers allow.
@group(0) @binding(11) var<storage, read> user_idx: array<u32>;   // [n]
@group(0) @binding(12) var<storage, read> item_idx: array<u32>;   // [2n]

@compute @workgroup_size(WG)
fn mf_ranking_indexed(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_id(gid, nwg);
  if (r >= p.n) { return; }
  mf_rating(r, a[user_idx[r]], b[item_idx[r]], b[item_idx[p.n + r]], p.scale);
}
