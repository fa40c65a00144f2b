// Adam as TensorFlow.js runs it, the bench's baseline for the fused kernel (shaders/adam.wgsl):
// one element-wise op per dispatch, 14 dispatches per tensor, each reading and writing whole
// tensors. OP picks the op; SCALAR picks the AdamStep word the scalar ops use (layout in
// src/kernels/adam-ref.ts). Dawn rejects a buffer bound twice when one binding is writable, so
// an op either writes a third buffer (chain_op) or updates its first operand in place
// (chain_op_inplace).

override WG: u32 = 256u;

// Threads past 65535 workgroups spill into y; this undoes the split.
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

struct DenseParams { n: u32, _pad0: u32, _pad1: u32, _pad2: u32 }

const OP_SCALE: u32 = 0u;      // r = x * c
const OP_ADD: u32 = 1u;        // r = x + y
const OP_SUB: u32 = 2u;        // r = x - y
const OP_MUL: u32 = 3u;        // r = x * y
const OP_DIV: u32 = 4u;        // r = x / y
const OP_SQRT: u32 = 5u;       // r = sqrt(x)
const OP_DIV_SCALAR: u32 = 6u; // r = x / c
const OP_ADD_SCALAR: u32 = 7u; // r = x + c

override OP: u32 = 0u;
override SCALAR: u32 = 0u;

// The same AdamStep words, seen as an array so SCALAR can index them.
@group(0) @binding(0) var<uniform> step_words: array<vec4f, 3>;
@group(0) @binding(1) var<uniform> cp: DenseParams;

fn apply(x: f32, y: f32) -> f32 {
  let c = step_words[SCALAR / 4u][SCALAR % 4u];
  switch (OP) {
    case OP_SCALE: { return x * c; }
    case OP_ADD: { return x + y; }
    case OP_SUB: { return x - y; }
    case OP_MUL: { return x * y; }
    case OP_DIV: { return x / y; }
    case OP_SQRT: { return sqrt(x); }
    case OP_DIV_SCALAR: { return x / c; }
    case OP_ADD_SCALAR: { return x + c; }
    default: { return x; }
  }
}

@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn chain_op(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= cp.n) { return; }
  out[i] = apply(a[i], b[i]);
}

@group(0) @binding(5) var<storage, read_write> xs: array<f32>;
@group(0) @binding(6) var<storage, read> ys: array<f32>;

@compute @workgroup_size(WG)
fn chain_op_inplace(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= cp.n) { return; }
  xs[i] = apply(xs[i], ys[i]);
}
