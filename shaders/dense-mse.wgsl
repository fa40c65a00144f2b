// A dense layer to one output and its mean squared error, forward and backward in two passes:
// the last layer of a regression head (CS330 homework 0's rating MLP ends 64 → 1).
//
//   pred_r = h_r · w + b,   e_r = pred_r - t_r,   L_r = scale · e_r²,   g_r = 2 · scale · e_r
//   rows pass, one thread per row:        loss_r, g_r, and dh[r, j] = g_r · w_j
//   columns pass, one thread per column:  dw_j = Σ_r h[r, j] · g_r (rows in order), db = Σ_r g_r
//
// With RELU the input is the previous layer's pre-activation z and h = max(z, 0) is taken
// here (the matmul epilogue's relu); the rows pass then writes dz = dh ⊙ [z > 0] (the
// activation backward's select), one more dispatch saved.
//
// It replaces six dispatches (the 1-column matmul, the loss, dh = g·wᵀ, dw = hᵀ·g and the two
// passes of the bias gradient) whose work is a few thousand multiply-adds. Every sum runs in
// the order those kernels use (ascending index, one term at a time, the bias added last), so
// the results are the same bits.

override WG: u32 = 64u;
// db sums g in chunks of CHUNK rows, then the chunks in order: the bias-gradient kernel's
// order (BIAS_GRAD_CHUNK in src/kernels/matmul.ts), so the bits agree.
override CHUNK: u32 = 64u;
override RELU: bool = false;

struct Params { rows: u32, hidden: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
// weight / rows: the loss is a weighted mean over the batch.
@group(0) @binding(1) var<storage, read> scale: array<f32>;
@group(0) @binding(2) var<storage, read> h_in: array<f32>;    // [rows, hidden]: h, or z with RELU
@group(0) @binding(3) var<storage, read> w: array<f32>;       // [hidden]
@group(0) @binding(4) var<storage, read> bias: array<f32>;    // [1]
@group(0) @binding(5) var<storage, read> truth: array<f32>;   // [rows], the targets

// ---- rows: prediction, loss, dL/dpred and dh ---------------------------------------------

@group(0) @binding(6) var<storage, read_write> loss: array<f32>;   // [rows]
@group(0) @binding(7) var<storage, read_write> g: array<f32>;      // [rows]
@group(0) @binding(8) var<storage, read_write> dh: array<f32>;     // [rows, hidden]: dh, or dz with RELU

// The layer's input h at element i.
fn h_at(i: u32) -> f32 {
  if (RELU) { return max(h_in[i], 0.0); }
  return h_in[i];
}

@compute @workgroup_size(WG)
fn dense_mse_rows(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= p.rows) { return; }
  let row = r * p.hidden;
  var acc = 0.0;
  for (var j = 0u; j < p.hidden; j++) {
    acc += h_at(row + j) * w[j];
  }
  let e = (acc + bias[0]) - truth[r];
  let k = scale[0];
  loss[r] = e * e * k;
  let gr = 2.0 * e * k;
  g[r] = gr;
  for (var j = 0u; j < p.hidden; j++) {
    let d = gr * w[j];
    if (RELU) {
      dh[row + j] = select(0.0, d, h_in[row + j] > 0.0);
    } else {
      dh[row + j] = d;
    }
  }
}

// ---- columns: dw and db (thread `hidden` sums the bias) -----------------------------------

@group(0) @binding(9) var<storage, read> g_in: array<f32>;          // [rows], the rows pass's g
@group(0) @binding(10) var<storage, read_write> dw: array<f32>;     // [hidden]
@group(0) @binding(11) var<storage, read_write> db: array<f32>;     // [1]

@compute @workgroup_size(WG)
fn dense_mse_columns(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  if (j > p.hidden) { return; }
  var acc = 0.0;
  if (j == p.hidden) {
    for (var c0 = 0u; c0 < p.rows; c0 += CHUNK) {
      var part = 0.0;
      for (var r = c0; r < min(p.rows, c0 + CHUNK); r++) { part += g_in[r]; }
      acc += part;
    }
    db[0] = acc;
    return;
  }
  for (var r = 0u; r < p.rows; r++) {
    acc += h_at(r * p.hidden + j) * g_in[r];
  }
  dw[j] = acc;
}
