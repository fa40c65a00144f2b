// Matrix multiply with a fused dense-layer epilogue, and the dense layer's backward helpers.
//
// Forward:  C[M,N] (+)= act(op(A)[M,K] · op(B)[K,N] + bias[N])
//   op(X) is X or Xᵀ (TRANS_A / TRANS_B), all storage row-major, so the backward pass reads
//   dA = dC·Bᵀ and dB = Aᵀ·dC straight from the forward's buffers, with no transposing copy.
//   A is [M,K] or, transposed, [K,M]; B is [K,N] or, transposed, [N,K].
// Backward helpers: dZ = dY ⊙ act'(Y) from the layer's output Y, and db = column sums of dZ.
//
// Three ways to compute the same product (one entry point each), because the fastest one
// depends on the hardware: on a GPU workgroup-memory tiles win; on SwiftShader (a CPU)
// barriers are costly and a per-thread register tile wins. Every variant adds the K terms of
// each output in ascending k, one at a time, so they agree to rounding (and usually to the bit).

// Prepended: matmul-epilogue.wgsl (options, uniform, bias, C, the epilogue).

@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;

// op(A)[m, k] and op(B)[k, n]; the callers keep the indices in range.
fn a_at(m: u32, k: u32) -> f32 {
  if (TRANS_A) { return a[k * p.m + m]; }
  return a[m * p.k + k];
}

fn b_at(k: u32, n: u32) -> f32 {
  if (TRANS_B) { return b[n * p.k + k]; }
  return b[k * p.n + n];
}

// ---- naive: one thread per output ----------------------------------------------------------

@compute @workgroup_size(TILE, TILE)
fn matmul_naive(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  let m = gid.y;
  if (m >= p.m || n >= p.n) { return; }
  var acc = 0.0;
  for (var k = 0u; k < p.k; k++) {
    acc += a_at(m, k) * b_at(k, n);
  }
  store(m, n, acc);
}

// ---- tiled: TILE x TILE tiles of A and B staged in workgroup memory ------------------------

var<workgroup> tile_a: array<f32, TILE * TILE>;
var<workgroup> tile_b: array<f32, TILE * TILE>;

@compute @workgroup_size(TILE, TILE)
fn matmul_tiled(@builtin(global_invocation_id) gid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let n = gid.x;
  let m = gid.y;
  let tx = lid.x;
  let ty = lid.y;
  var acc = 0.0;
  // Every thread, in range or not, stays for every barrier (uniform control flow); loads
  // past the edges stage zeros, which add nothing.
  for (var k0 = 0u; k0 < p.k; k0 += TILE) {
    let ka = k0 + tx;
    let kb = k0 + ty;
    tile_a[ty * TILE + tx] = select(0.0, a_at(min(m, p.m - 1u), min(ka, p.k - 1u)), m < p.m && ka < p.k);
    tile_b[ty * TILE + tx] = select(0.0, b_at(min(kb, p.k - 1u), min(n, p.n - 1u)), kb < p.k && n < p.n);
    workgroupBarrier();
    let kend = min(TILE, p.k - k0);
    for (var j = 0u; j < kend; j++) {
      acc += tile_a[ty * TILE + j] * tile_b[j * TILE + tx];
    }
    workgroupBarrier();
  }
  if (m < p.m && n < p.n) { store(m, n, acc); }
}

// ---- reg4x4: each thread a 4x4 block of C in registers, no workgroup memory ----------------

// Rows past M and columns past N are clamped to the last one, so every load is in range
// without a branch; their results are simply not stored.
@compute @workgroup_size(TILE, TILE)
fn matmul_reg4x4(@builtin(global_invocation_id) gid: vec3u) {
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= p.m || n0 >= p.n) { return; }
  let r = min(vec4u(m0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.m - 1u));
  let cl = min(vec4u(n0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.n - 1u));
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  let k4 = p.k & ~3u;
  for (var k = 0u; k < k4; k += 4u) {
    // A's 4 rows x 4 k's and B's 4 k's x 4 columns: 16 + 16 loads for 64 multiply-adds.
    let a0 = vec4f(a_at(r.x, k), a_at(r.x, k + 1u), a_at(r.x, k + 2u), a_at(r.x, k + 3u));
    let a1 = vec4f(a_at(r.y, k), a_at(r.y, k + 1u), a_at(r.y, k + 2u), a_at(r.y, k + 3u));
    let a2 = vec4f(a_at(r.z, k), a_at(r.z, k + 1u), a_at(r.z, k + 2u), a_at(r.z, k + 3u));
    let a3 = vec4f(a_at(r.w, k), a_at(r.w, k + 1u), a_at(r.w, k + 2u), a_at(r.w, k + 3u));
    let b0 = vec4f(b_at(k, cl.x), b_at(k, cl.y), b_at(k, cl.z), b_at(k, cl.w));
    let b1 = vec4f(b_at(k + 1u, cl.x), b_at(k + 1u, cl.y), b_at(k + 1u, cl.z), b_at(k + 1u, cl.w));
    let b2 = vec4f(b_at(k + 2u, cl.x), b_at(k + 2u, cl.y), b_at(k + 2u, cl.z), b_at(k + 2u, cl.w));
    let b3 = vec4f(b_at(k + 3u, cl.x), b_at(k + 3u, cl.y), b_at(k + 3u, cl.z), b_at(k + 3u, cl.w));
    // One k at a time, so each output sums its terms in ascending k like the other variants.
    acc0 += a0.x * b0; acc0 += a0.y * b1; acc0 += a0.z * b2; acc0 += a0.w * b3;
    acc1 += a1.x * b0; acc1 += a1.y * b1; acc1 += a1.z * b2; acc1 += a1.w * b3;
    acc2 += a2.x * b0; acc2 += a2.y * b1; acc2 += a2.z * b2; acc2 += a2.w * b3;
    acc3 += a3.x * b0; acc3 += a3.y * b1; acc3 += a3.z * b2; acc3 += a3.w * b3;
  }
  for (var k = k4; k < p.k; k++) {
    let bk = vec4f(b_at(k, cl.x), b_at(k, cl.y), b_at(k, cl.z), b_at(k, cl.w));
    acc0 += a_at(r.x, k) * bk;
    acc1 += a_at(r.y, k) * bk;
    acc2 += a_at(r.z, k) * bk;
    acc3 += a_at(r.w, k) * bk;
  }
  let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    if (m >= p.m) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (n0 + j < p.n) { store(m, n0 + j, accs[i][j]); }
    }
  }
}

// ---- backward helpers (1D, elementwise or per column) --------------------------------------

override WG: u32 = 64u;

// Threads past 65535 workgroups spill into y; this undoes the split.
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// dZ = dY ⊙ act'(Z), with act' written in terms of the layer's output Y = act(Z), so the
// forward keeps only Y: relu → [Y > 0], sigmoid → Y(1 - Y), tanh → 1 - Y² computed as
// (1 - Y)(1 + Y), which keeps its relative precision as |Y| nears 1 (1 - Y is then exact).
struct CountParams { count: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(5) var<uniform> ap: CountParams;
@group(0) @binding(6) var<storage, read> dy: array<f32>;
@group(0) @binding(7) var<storage, read> y_out: array<f32>;
@group(0) @binding(8) var<storage, read_write> dz: array<f32>;

// Elements per act_backward thread: a workgroup covers WG * PER consecutive elements, thread
// lid taking lid, lid + WG, ... (coalesced on a GPU; fewer invocations on SwiftShader).
override PER: u32 = 1u;

fn act_backward_at(t: u32) {
  let g = dy[t];
  let y = y_out[t];
  switch (ACT) {
    case 1u: { dz[t] = select(0.0, g, y > 0.0); }
    case 2u: { dz[t] = g * (y * (1.0 - y)); }
    case 3u: { dz[t] = g * ((1.0 - y) * (1.0 + y)); }
    default: { dz[t] = g; }
  }
}

@compute @workgroup_size(WG)
fn act_backward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  // Workgroups past 65535 spill into y; (wid.x + wid.y * nwg.x) undoes the split.
  let base = (wid.x + wid.y * nwg.x) * PER * WG + lid;
  for (var j = 0u; j < PER; j++) {
    let t = base + j * WG;
    if (t >= ap.count) { return; }
    act_backward_at(t);
  }
}

// Y = act(X) on its own, for a layer whose pre-activation is a sum the matmul epilogue cannot
// see (a one-hot layer's embedding rows plus its continuous columns' product).
@group(0) @binding(14) var<storage, read> x_in: array<f32>;

@compute @workgroup_size(WG)
fn act_forward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  let base = (wid.x + wid.y * nwg.x) * PER * WG + lid;
  for (var j = 0u; j < PER; j++) {
    let t = base + j * WG;
    if (t >= ap.count) { return; }
    c[t] = activate(x_in[t]);
  }
}

// db[n] (+)= Σ_m dZ[m, n], always in the same order, so two runs give the same bits.
// 'column': one thread per column walks the rows in order — few threads, long loops.
// 'split': rows in chunks of CHUNK; pass 1 sums each (chunk, column) in row order, pass 2 sums
// a column's chunks in chunk order — more threads for tall dZ (batch x time up to 16k rows).
override CHUNK: u32 = 64u;

struct BiasParams { m: u32, n: u32, chunks: u32, _pad: u32 }

@group(0) @binding(9) var<uniform> bp: BiasParams;
@group(0) @binding(10) var<storage, read> dz_in: array<f32>;
@group(0) @binding(11) var<storage, read_write> partial_out: array<f32>;
@group(0) @binding(12) var<storage, read> partial_in: array<f32>;
@group(0) @binding(13) var<storage, read_write> db: array<f32>;

fn store_db(n: u32, sum: f32) {
  if (ACCUMULATE) {
    db[n] = db[n] + sum;
  } else {
    db[n] = sum;
  }
}

@compute @workgroup_size(WG)
fn bias_grad_column(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = flat_id(gid, nwg);
  if (n >= bp.n) { return; }
  var sum = 0.0;
  for (var m = 0u; m < bp.m; m++) {
    sum += dz_in[m * bp.n + n];
  }
  store_db(n, sum);
}

// 'split's order (rows in chunks of CHUNK, then the chunks) by one thread per column in one
// dispatch: on a CPU a few hundred threads already fill the cores, so split's second dispatch
// costs more than its parallelism buys. Rows four at a time, each still added alone: a loop
// iteration costs SwiftShader about as much as two loads.
@compute @workgroup_size(WG)
fn bias_grad_chunked(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = flat_id(gid, nwg);
  if (n >= bp.n) { return; }
  var sum = 0.0;
  for (var c0 = 0u; c0 < bp.m; c0 += CHUNK) {
    let end = min(bp.m, c0 + CHUNK);
    var part = 0.0;
    var m = c0;
    for (; m + 4u <= end; m += 4u) {
      let i = m * bp.n + n;
      part += dz_in[i];
      part += dz_in[i + bp.n];
      part += dz_in[i + 2u * bp.n];
      part += dz_in[i + 3u * bp.n];
    }
    for (; m < end; m++) {
      part += dz_in[m * bp.n + n];
    }
    sum += part;
  }
  store_db(n, sum);
}

@compute @workgroup_size(WG)
fn bias_grad_partial(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  if (t >= bp.chunks * bp.n) { return; }
  // Neighbouring threads take neighbouring columns of the same rows.
  let chunk = t / bp.n;
  let n = t - chunk * bp.n;
  let end = min(bp.m, (chunk + 1u) * CHUNK);
  var sum = 0.0;
  for (var m = chunk * CHUNK; m < end; m++) {
    sum += dz_in[m * bp.n + n];
  }
  partial_out[t] = sum;
}

@compute @workgroup_size(WG)
fn bias_grad_finish(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = flat_id(gid, nwg);
  if (n >= bp.n) { return; }
  var sum = 0.0;
  for (var c = 0u; c < bp.chunks; c++) {
    sum += partial_in[c * bp.n + n];
  }
  store_db(n, sum);
}
