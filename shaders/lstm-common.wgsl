// What lstm.wgsl and bench/baselines/lstm-unfused.wgsl share, prepended to each by their wrappers: the
// two are tested to give identical bits, so their activations must be one definition.
// Each including shader declares `override WG`.

// exp(80) = 5.5e34 is finite in f32 and sigmoid(±80) is already 0 / 1 to f32 precision;
// clamping keeps exp from overflowing, whose result WGSL leaves indeterminate.
const SIGMOID_CLAMP: f32 = 80.0;

// Threads past 65535 workgroups spill into y; this undoes the split.
fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-clamp(x, -SIGMOID_CLAMP, SIGMOID_CLAMP)));
}

// tanh through e = exp(-2|x|) in (0, 1]: finite for every x, where (e^x - e^-x) / (e^x + e^-x)
// overflows past |x| ~ 44; and the same formula on every backend.
fn tanh_f(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * ((1.0 - e) / (1.0 + e));
}

// bh = B * H; t = this step; steps = T. The same struct serves both directions.
struct Step { bh: u32, hidden: u32, t: u32, steps: u32 }
