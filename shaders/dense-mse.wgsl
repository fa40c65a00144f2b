// A dense layer to one output and its mean squared error, forward and backward in two passes:
// the last layer of a regression head (CS330 homework 0's rating MLP ends 64 → 1).
//
//   pred_r = h_r · w + b,   e_r = pred_r - t_r,   L_r = scale · e_r²,   g_r = 2 · scale · e_r
//   rows pass, ROWS_PER thread:      loss_r and g_r
//   columns pass, COLS_PER thread:   dw_j = Σ_r h[r, j] · g_r (rows in order) and dh[r, j] = g_r · w_j
//                                    on the way; one more thread sums db = Σ_r g_r
//
// With RELU the input is the previous layer's pre-activation z and h = max(z, 0) is taken
// here (the matmul epilogue's relu); the columns pass then writes dz = dh ⊙ [z > 0] (the
// activation backward's select), one more dispatch saved.
//
// It replaces six dispatches (the 1-column matmul, the loss, dh = g·wᵀ, dw = hᵀ·g and the two
// passes of the bias gradient) whose work is a few thousand multiply-adds. Every sum runs in
// the order those kernels use (ascending index, one term at a time, the bias added last), so
// the results are the same bits.
//
// Costs on SwiftShader (docs/swiftshader.md) shape the passes: nearly every storage access is
// an emulated gather, so each thread takes several rows (columns) and loads the w[j] (g[r])
// they share once; dh is written by the columns pass, which already holds z[r, j] and g[r],
// so it costs one store per element and no loads.

override WG: u32 = 16u;
// db sums g in chunks of CHUNK rows, then the chunks in order: the bias-gradient kernel's
// order (BIAS_GRAD_CHUNK in src/kernels/matmul.ts), so the bits agree.
override CHUNK: u32 = 64u;
override RELU: bool = false;
// Also sum dh's columns (the input layer's bias gradient, dz summed over rows) on the way,
// in the bias-gradient kernel's chunked order: one dispatch fewer, no extra loads.
override DH_SUMS: bool = false;
// Rows per thread in the rows pass, columns per thread in the columns pass (the loops below
// are written out for exactly these; a ragged last thread takes the one-at-a-time path).
const ROWS_PER = 4u;
const COLS_PER = 4u;

struct Params { rows: u32, hidden: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
// weight / rows: the loss is a weighted mean over the batch.
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read> h_in: array<f32>;    // [rows, hidden]: h, or z with RELU
@group(0) @binding(3) var<storage, read> w: array<f32>;       // [hidden]
@group(0) @binding(4) var<storage, read> bias: array<f32>;    // [1]
@group(0) @binding(5) var<storage, read> truth: array<f32>;   // [rows], the targets

// ---- rows: prediction, loss and dL/dpred -------------------------------------------------

@group(0) @binding(6) var<storage, read_write> loss: array<f32>;   // [rows]
@group(0) @binding(7) var<storage, read_write> g: array<f32>;      // [rows]

// The layer's input h at element i.
fn h_at(i: u32) -> f32 {
  if (RELU) { return max(h_in[i], 0.0); }
  return h_in[i];
}

// The loss and g of row r from its dot product.
fn finish_row(r: u32, dot: f32) {
  let e = (dot + bias[0]) - truth[r];
  let k = scale[0];
  loss[r] = e * e * k;
  g[r] = 2.0 * e * k;
}

@compute @workgroup_size(WG)
fn dense_mse_rows(@builtin(global_invocation_id) gid: vec3u) {
  let r0 = gid.x * ROWS_PER;
  if (r0 >= p.rows) { return; }
  let n = p.hidden;
  if (r0 + ROWS_PER <= p.rows) {
    // Four rows share each w[j] load.
    let i0 = r0 * n;
    let i1 = i0 + n;
    let i2 = i1 + n;
    let i3 = i2 + n;
    var a0 = 0.0;
    var a1 = 0.0;
    var a2 = 0.0;
    var a3 = 0.0;
    for (var j = 0u; j < n; j++) {
      let wj = w[j];
      a0 += h_at(i0 + j) * wj;
      a1 += h_at(i1 + j) * wj;
      a2 += h_at(i2 + j) * wj;
      a3 += h_at(i3 + j) * wj;
    }
    finish_row(r0, a0);
    finish_row(r0 + 1u, a1);
    finish_row(r0 + 2u, a2);
    finish_row(r0 + 3u, a3);
    return;
  }
  for (var r = r0; r < p.rows; r++) {
    var acc = 0.0;
    for (var j = 0u; j < n; j++) { acc += h_at(r * n + j) * w[j]; }
    finish_row(r, acc);
  }
}

// ---- columns: dw, dh and db (the thread after the last columns' sums the bias) ------------

@group(0) @binding(8) var<storage, read_write> dh: array<f32>;     // [rows, hidden]: dh, or dz with RELU
@group(0) @binding(9) var<storage, read> g_in: array<f32>;          // [rows], the rows pass's g
@group(0) @binding(10) var<storage, read_write> dw: array<f32>;     // [hidden]
@group(0) @binding(11) var<storage, read_write> db: array<f32>;     // [1]
@group(0) @binding(12) var<storage, read_write> dh_sum: array<f32>; // [hidden], with DH_SUMS

// dh[i] for an input z (or h) at i, whose column's weight is wj; returns what it wrote.
fn put_dh(i: u32, z: f32, gr: f32, wj: f32) -> f32 {
  var d = gr * wj;
  if (RELU) { d = select(0.0, d, z > 0.0); }
  dh[i] = d;
  return d;
}

fn relu_if(z: f32) -> f32 {
  if (RELU) { return max(z, 0.0); }
  return z;
}

@compute @workgroup_size(WG)
fn dense_mse_columns(@builtin(global_invocation_id) gid: vec3u) {
  let n = p.hidden;
  let threads = (n + COLS_PER - 1u) / COLS_PER;
  let t = gid.x;
  if (t > threads) { return; }
  if (t == threads) {
    var acc = 0.0;
    for (var c0 = 0u; c0 < p.rows; c0 += CHUNK) {
      var part = 0.0;
      for (var r = c0; r < min(p.rows, c0 + CHUNK); r++) { part += g_in[r]; }
      acc += part;
    }
    db[0] = acc;
    return;
  }
  let j0 = t * COLS_PER;
  if (j0 + COLS_PER <= n) {
    // Four columns share each g[r] load.
    let w0 = w[j0];
    let w1 = w[j0 + 1u];
    let w2 = w[j0 + 2u];
    let w3 = w[j0 + 3u];
    var a0 = 0.0;
    var a1 = 0.0;
    var a2 = 0.0;
    var a3 = 0.0;
    // dh's column sums: per chunk of CHUNK rows, then the chunks (bias_grad's order).
    var s = vec4f(0.0);
    for (var c0 = 0u; c0 < p.rows; c0 += CHUNK) {
      var part = vec4f(0.0);
      for (var r = c0; r < min(p.rows, c0 + CHUNK); r++) {
        let gr = g_in[r];
        let i = r * n + j0;
        let z0 = h_in[i];
        let z1 = h_in[i + 1u];
        let z2 = h_in[i + 2u];
        let z3 = h_in[i + 3u];
        a0 += relu_if(z0) * gr;
        a1 += relu_if(z1) * gr;
        a2 += relu_if(z2) * gr;
        a3 += relu_if(z3) * gr;
        part += vec4f(put_dh(i, z0, gr, w0), put_dh(i + 1u, z1, gr, w1), put_dh(i + 2u, z2, gr, w2), put_dh(i + 3u, z3, gr, w3));
      }
      s += part;
    }
    dw[j0] = a0;
    dw[j0 + 1u] = a1;
    dw[j0 + 2u] = a2;
    dw[j0 + 3u] = a3;
    if (DH_SUMS) {
      dh_sum[j0] = s.x;
      dh_sum[j0 + 1u] = s.y;
      dh_sum[j0 + 2u] = s.z;
      dh_sum[j0 + 3u] = s.w;
    }
    return;
  }
  for (var j = j0; j < n; j++) {
    let wj = w[j];
    var acc = 0.0;
    var s = 0.0;
    for (var c0 = 0u; c0 < p.rows; c0 += CHUNK) {
      var part = 0.0;
      for (var r = c0; r < min(p.rows, c0 + CHUNK); r++) {
        let gr = g_in[r];
        let z = h_in[r * n + j];
        acc += relu_if(z) * gr;
        part += put_dh(r * n + j, z, gr, wj);
      }
      s += part;
    }
    dw[j] = acc;
    if (DH_SUMS) { dh_sum[j] = s; }
  }
}
