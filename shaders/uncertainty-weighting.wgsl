// Uncertainty weighting of task losses (Kendall, Gal and Cipolla, CVPR 2018), in the form most
// implementations use: with a learned s_t = log σ_t² per task and L_t the task's loss,
//
//   total = Σ_t exp(-s_t) · L_t + s_t
//   d total / d L_t = exp(-s_t)           d total / d s_t = 1 - exp(-s_t) · L_t
//
// (the paper writes 1/(2σ²) L + log σ for regression and 1/σ² L + log σ for classification;
// this one form serves every task). L_t arrives as one sum (the reduce kernel's), at
// `task`; each dispatch handles one task, so each factor lands in its own one-element buffer:
// reverse mode hands it to that task's loss op as the weight of all its terms.

override WG: u32 = 64u;

struct Params { task: u32, n: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
// L_t, summed on the GPU.
@group(0) @binding(1) var<storage, read> task_loss: array<f32>;
@group(0) @binding(2) var<storage, read> log_vars: array<f32>;
// Per task: its term of the total, d total / d s_t, and exp(-s_t) (at element 0).
@group(0) @binding(3) var<storage, read_write> terms: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad_log_vars: array<f32>;
@group(0) @binding(5) var<storage, read_write> factor: array<f32>;

@compute @workgroup_size(1)
fn uncertainty_task() {
  let s = log_vars[p.task];
  let weight = exp(-s);
  let weighted = weight * task_loss[0];
  terms[p.task] = weighted + s;
  grad_log_vars[p.task] = 1.0 - weighted;
  factor[0] = weight;
}

// Reverse mode's seed for a loss whose every term has one weight w (exp(-s_t) above, a [1]
// buffer): the loss op's gradient, computed for a weight of 1, times w.
@group(0) @binding(6) var<storage, read> grad_in: array<f32>;
@group(0) @binding(7) var<storage, read> seed_weight: array<f32>;
@group(0) @binding(8) var<storage, read_write> grad_out: array<f32>;

@compute @workgroup_size(WG)
fn scale_by_seed(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  grad_out[i] = grad_in[i] * seed_weight[0];
}
