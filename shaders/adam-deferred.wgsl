// ---- dense Adam over an embedding table, untouched rows' steps deferred: the same bits ------
//
// Appended to adam.wgsl (AdamStep st, RowParams tp, the CSR, param4/m4/v4, adam_step4).
//
// Dense Adam moves every row of a table every step, as PyTorch does, but a row the batch did
// not touch moves by a fixed function of its own p, m, v and that step's scalars (its gradient
// is zero). That move can wait until someone reads the row. Each quad keeps the last step it
// has taken, the host writes each step's changing scalars into a ring, and
//   catch_up (before the step's gathers): the batch's rows take steps last+1 .. t-1 with a
//            zero gradient, from the ring: exactly what the dense update did to them (and,
//            in catch_up_gather, are written to the batch's gathered rows as well);
//   update   (after the backward): the batch's rows take step t with their gradient;
//   flush    (before anything else reads the table: evaluation, checkpoints): every quad
//            takes its missing steps up to t.
// A step then reads and writes the batch's rows, not the whole table; on SwiftShader, where
// each access is an emulated gather, that is most of the table update's time.

struct DeferParams {
  // The step being taken (update, catch_up) or the last step taken (flush).
  t: u32,
  // Ring slots: a row may lag at most cap steps between flushes.
  cap: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(16) var<uniform> dfp: DeferParams;
// Per quad, the last step it has taken (0: none).
@group(0) @binding(17) var<storage, read_write> last: array<u32>;
// Step k's (step_size, bc2_sqrt, decay, 0) at words 4 (k % cap): the AdamStep scalars that
// change. Scalars, not a vec4: SwiftShader loads each component it is asked for separately.
@group(0) @binding(18) var<storage, read> hist: array<f32>;

const SLOT_WORDS = 4u;

// A skipped step's zero gradient leaves terms that cannot change a value when there is no L2
// decay (g stays 0) and lerp takes its first form (the wrapper knows both: LERP, L2). Then
// lerp(m, 0, w) = m + w * (0 - m) is m - w * m, and v * beta2 + ((1 - beta2) * 0) * 0 is
// v * beta2 + 0, bit for bit: a replayed step needs a third of adam_step4's arithmetic.
override SKIP_FAST: bool = LERP == LERP_NEAR_A && (DECOUPLED == 1u || L2 == 0u);

// Step k of a quad whose gradient is zero (a step the batch skipped).
fn skipped_step4(x: Quad, step_size: f32, bc2_sqrt: f32, decay: f32) -> Quad {
  if (!SKIP_FAST) { return adam_step4(x, vec4f(0.0), step_size, bc2_sqrt, decay); }
  var p = x.p;
  if (DECOUPLED == 1u) { p = p * decay; }
  let mi = x.m - st.one_minus_beta1 * x.m;
  let vi = x.v * st.beta2 + 0.0;
  let denom = sqrt(vi) / bc2_sqrt + st.eps;
  return Quad(p + (-step_size) * (mi / denom), mi, vi);
}

// Quad q, last at step `done` < `to`, takes steps done+1 .. to with zero gradients; returns its parameters.
fn advance(q: u32, done: u32, to: u32) -> vec4f {
  var x = Quad(param4[q], m4[q], v4[q]);
  // The ring slot of step k, advanced with a wrap rather than a modulo per step.
  var slot = (done + 1u) % dfp.cap;
  for (var k = done + 1u; k <= to; k++) {
    let at = slot * SLOT_WORDS;
    var decay = 1.0;
    if (DECOUPLED == 1u) { decay = hist[at + 2u]; }
    x = skipped_step4(x, hist[at], hist[at + 1u], decay);
    slot = select(slot + 1u, 0u, slot + 1u == dfp.cap);
  }
  param4[q] = x.p;
  m4[q] = x.m;
  v4[q] = x.v;
  last[q] = to;
  return x.p;
}

// Brings quad q from its last step to step `to`.
fn catch_up(q: u32, to: u32) {
  let done = last[q];
  if (done < to) { advance(q, done, to); }
}

// catch_up, returning the quad's parameters at step `to`.
fn caught_up(q: u32, to: u32) -> vec4f {
  let done = last[q];
  if (done < to) { return advance(q, done, to); }
  return param4[q];
}

// Quad i of the batch's segments (rows in CSR order), or none past the last segment.
fn segment_quad(i: u32, quads: u32) -> vec2u {
  let s = i / quads;
  if (s >= min(table_csr[0], tp.cap)) { return vec2u(0xffffffffu); }
  return vec2u(s, table_csr[1u + s] * quads + (i - s * quads));
}

@compute @workgroup_size(WG)
fn adam_table4_catch_up(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let sq = segment_quad(flat_id(gid, nwg), tp.dim / 4u);
  if (sq.x == 0xffffffffu) { return; }
  catch_up(sq.y, dfp.t - 1u);
}

// The step's gathered rows [n, dim], written by catch_up_gather in place of the gather.
@group(0) @binding(19) var<storage, read_write> gathered4: array<vec4f>;

// catch_up fused with the embedding gather of the same indices: a segment's quad, once up to
// date, is what every position of that row in the batch reads, so it is written there at once
// (the CSR lists the positions) instead of a gather dispatch reading it back from the table.
@compute @workgroup_size(WG)
fn adam_table4_catch_up_gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let quads = tp.dim / 4u;
  let i = flat_id(gid, nwg);
  let sq = segment_quad(i, quads);
  if (sq.x == 0xffffffffu) { return; }
  let x = caught_up(sq.y, dfp.t - 1u);
  let dq = i - sq.x * quads;
  let starts_at = 1u + tp.cap;
  let perm_at = 2u + 2u * tp.cap;
  for (var k = table_csr[starts_at + sq.x]; k < table_csr[starts_at + sq.x + 1u]; k++) {
    gathered4[table_csr[perm_at + k] * quads + dq] = x;
  }
}

@compute @workgroup_size(WG)
fn adam_table4_update(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let quads = tp.dim / 4u;
  let i = flat_id(gid, nwg);
  let sq = segment_quad(i, quads);
  if (sq.x == 0xffffffffu) { return; }
  let q = sq.y;
  let g = segment_grad4(sq.x, quads, i - sq.x * quads);
  let x = adam_step4(Quad(param4[q], m4[q], v4[q]), g, st.step_size, st.bc2_sqrt, st.decay);
  m4[q] = x.m;
  v4[q] = x.v;
  param4[q] = x.p;
  last[q] = dfp.t;
}

@compute @workgroup_size(WG)
fn adam_table4_flush(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let q = flat_id(gid, nwg);
  if (q >= tp.rows * (tp.dim / 4u)) { return; }
  catch_up(q, dfp.t);
}
