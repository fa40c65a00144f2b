// SGD, with or without momentum, in torch.optim.SGD's single-tensor order (PyTorch 2.x):
//   g = g + wd * p                          grad.add(param, alpha=weight_decay)
//   buf = g                  on step 1      torch.clone(grad)
//   buf = buf * mu + (1 - dampening) * g    buf.mul_(momentum).add_(grad, alpha=1 - dampening)
//   u = nesterov ? g + mu * buf : buf       grad.add(buf, alpha=momentum)
//   p = p + (-lr) * u                       param.add_(grad, alpha=-lr)
// Scalars PyTorch computes in double on the host (1 - dampening) arrive precomputed.

override WG: u32 = 256u;
// 1: Nesterov momentum (needs dampening 0, checked by sgdStepWords).
override NESTEROV: u32 = 0u;

// Threads past 65535 workgroups spill into y; this undoes the split.
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// Written by the caller each step (sgdStepWords); first is 1 on the step that creates the
// momentum buffer, whose old contents are then never read.
struct SgdStep { lr: f32, momentum: f32, one_minus_dampening: f32, weight_decay: f32, first: u32, _pad0: u32, _pad1: u32, _pad2: u32 }
struct Params { n: u32, _pad0: u32, _pad1: u32, _pad2: u32 }

@group(0) @binding(0) var<uniform> st: SgdStep;
@group(0) @binding(1) var<uniform> sp: Params;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> buf: array<f32>;

// PyTorch skips the decay when it is 0, which matters only for an infinite p (0 * inf = NaN).
fn decayed_grad(i: u32, p: f32) -> f32 {
  let g = grad[i];
  return select(g, g + st.weight_decay * p, st.weight_decay != 0.0);
}

// Plain SGD: no momentum buffer to bind.
@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= sp.n) { return; }
  let p = param[i];
  let g = decayed_grad(i, p);
  param[i] = p + (-st.lr) * g;
}

@compute @workgroup_size(WG)
fn sgd_momentum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i >= sp.n) { return; }
  let p = param[i];
  let g = decayed_grad(i, p);
  var b = g;
  if (st.first == 0u) {
    b = buf[i] * st.momentum + st.one_minus_dampening * g;
  }
  buf[i] = b;
  var u = b;
  if (NESTEROV == 1u) {
    u = g + st.momentum * b;
  }
  param[i] = p + (-st.lr) * u;
}
