// The matmul family's shared part: compile-time options, the uniform, the bias and output
// bindings, and the fused epilogue (bias, activation, write or accumulate). Prepended to
// matmul.wgsl (A and B as f32 arrays) and matmul-vec4.wgsl (A and B as vec4 arrays).

// ---- compile-time variants -----------------------------------------------------------------

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
// 0 none, 1 relu, 2 sigmoid, 3 tanh (the same codes as ACTIVATIONS in src/kernels/matmul.ts).
override ACT: u32 = 0u;
// Add into C (a weight used at several timesteps sums its gradients) instead of overwriting.
override ACCUMULATE: bool = false;
// Threads per workgroup side: naive and reg4x4 use it as the workgroup shape, tiled as the tile.
override TILE: u32 = 8u;

const ACT_NONE = 0u;
const ACT_RELU = 1u;
const ACT_SIGMOID = 2u;
const ACT_TANH = 3u;

struct Params { m: u32, n: u32, k: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> p: Params;
// Without HAS_BIAS the wrapper binds a small dummy buffer: 'auto' layouts keep the binding.
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

// Both branches of each select are finite, so no inf/inf NaN for large |z| (a naive
// tanh = (e^2z - 1)/(e^2z + 1) overflows), and small sigmoids keep their relative precision.
fn sigmoid(z: f32) -> f32 {
  let e = exp(-abs(z));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
}

fn tanh_stable(z: f32) -> f32 {
  let e = exp(-2.0 * abs(z));
  return sign(z) * (1.0 - e) / (1.0 + e);
}

fn activate(z: f32) -> f32 {
  switch (ACT) {
    case 1u: { return max(z, 0.0); }
    case 2u: { return sigmoid(z); }
    case 3u: { return tanh_stable(z); }
    default: { return z; }
  }
}

// The fused epilogue: bias, activation, then write or accumulate. Callers check m < M, n < N.
fn store(m: u32, n: u32, acc: f32) {
  var z = acc;
  if (HAS_BIAS) { z += bias[n]; }
  emit(m * p.n + n, activate(z));
}

// Writes (or adds) an activated output at flat index o of C.
fn emit(o: u32, y: f32) {
  if (ACCUMULATE) {
    c[o] = c[o] + y;
  } else {
    c[o] = y;
  }
}
