// The rank of each held-out (user, item) pair among all items for that user, as the course's
// MRR (spotlight's mrr_score) computes it: items are sorted by score, highest first; the items
// the user rated in training are moved to the end (their scores count as +∞ after negation);
// tied scores share the average of their positions (scipy's rankdata 'average').
//
// So for a pair whose item was not rated in training, with G unrated items scoring higher and E
// unrated items (itself included) scoring the same:  rank = 1 + G + (E - 1) / 2.
//
// Two variants give the same ranks (src/kernels/rank.ts picks one):
// - rank: one thread per pair walks the user's score row once, a word of the training mask at
//   a time. Portable.
// - rank_sg4 (after the subgroup marker): a subgroup of four lanes ranks up to four pairs of
//   one user and loads each score of the row once for all of them. The passes rank_clear ..
//   rank_place lay the pairs out in such quads on the GPU first.

override WG: u32 = 64u;

struct Params {
  pairs: u32,
  items: u32,
  // u32 words per user in the training mask: ceil(items / 32).
  words: u32,
  // Rows of the score matrix.
  users: u32,
  // Length of the quad layout (rank_sg4): a multiple of WG, at least Σ_users 4·⌈pairs_u / 4⌉.
  slots: u32,
  // The bits of -∞, which WGSL cannot write as a constant.
  neg_inf: u32,
  _pad0: u32,
  _pad1: u32,
}

const NONE = 0xffffffffu;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;   // [users, items]
@group(0) @binding(2) var<storage, read> users: array<u32>;    // [pairs]
@group(0) @binding(3) var<storage, read> items: array<u32>;    // [pairs]
@group(0) @binding(4) var<storage, read> rated: array<u32>;    // [users, words]: bit k = item k in training
@group(0) @binding(5) var<storage, read_write> ranks: array<f32>;  // [pairs], 1-based
// The quad layout: slot 4q + l holds a pair index or NONE; a quad's pairs share one user.
@group(0) @binding(6) var<storage, read_write> slots: array<u32>;  // [slots]
@group(0) @binding(7) var<storage, read_write> counts: array<atomic<u32>>;  // [users]
@group(0) @binding(8) var<storage, read_write> starts: array<u32>;  // [users]: first slot of each user
@group(0) @binding(9) var<storage, read_write> order: array<u32>;   // [pairs]: place among the user's pairs

fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

// What both variants write once G, E (unrated items above / equal, itself included) and the
// count of unrated items are known.
fn rank_of(j_rated: bool, greater: u32, equal: u32, unrated: u32) -> f32 {
  if (j_rated) {
    // Rated in training too: it ties with every rated item at the end of the list.
    return f32(unrated) + f32(p.items - unrated + 1u) * 0.5;
  }
  return 1.0 + f32(greater) + f32(equal - 1u) * 0.5;
}

fn is_rated(mask: u32, j: u32) -> bool {
  return ((rated[mask + j / 32u] >> (j % 32u)) & 1u) != 0u;
}

// G, E and the number of unrated items for one pair of score s, one score at a time.
fn count_row(row: u32, mask: u32, s: f32) -> vec3u {
  var greater = 0u;
  var equal = 0u;
  var unrated = 0u;
  for (var w = 0u; w < p.words; w++) {
    let bits = rated[mask + w];
    let end = min(32u, p.items - w * 32u);
    for (var b = 0u; b < end; b++) {
      if (((bits >> b) & 1u) != 0u) { continue; }
      let sk = scores[row + w * 32u + b];
      unrated += 1u;
      greater += select(0u, 1u, sk > s);
      equal += select(0u, 1u, sk == s);
    }
  }
  return vec3u(greater, equal, unrated);
}

@compute @workgroup_size(WG)
fn rank(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  if (t >= p.pairs) { return; }
  let u = users[t];
  let j = items[t];
  let row = u * p.items;
  let mask = u * p.words;
  let c = count_row(row, mask, scores[row + j]);
  ranks[t] = rank_of(is_rated(mask, j), c.x, c.y, c.z);
}

// ---- The quad layout, built on the GPU from the pairs (no subgroups needed) ----------------
//
// Each user's pairs fill ⌈n / 4⌉ consecutive quads, the last padded with NONE. Which of a
// user's pairs share a quad depends on the order of the atomics in rank_count, but a pair's
// rank does not: the ranks are the same on every run. Four small dispatches, about 0.3 ms
// on SwiftShader at 5,000 pairs; the layout is rebuilt every run, so the inputs may change.

// Out-of-range user ids (a caller's bug: their ranks mean nothing, as with `rank`) are
// clamped, so that the layout stays consistent and in bounds.
fn user_of(t: u32) -> u32 {
  return min(users[t], p.users - 1u);
}

// Dispatched over max(users, slots) threads.
@compute @workgroup_size(WG)
fn rank_clear(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_id(gid, nwg);
  if (i < p.users) { atomicStore(&counts[i], 0u); }
  if (i < p.slots) { slots[i] = NONE; }
}

// Over pairs: how many pairs each user has, and each pair's place among them.
@compute @workgroup_size(WG)
fn rank_count(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  if (t >= p.pairs) { return; }
  order[t] = atomicAdd(&counts[user_of(t)], 1u);
}

const SCAN_WG = 64u;
var<workgroup> chunk_start: array<u32, SCAN_WG>;

// One workgroup: each user's first slot (an exclusive scan of the counts rounded up to 4),
// each thread a contiguous chunk of users.
@compute @workgroup_size(SCAN_WG)
fn rank_scan(@builtin(local_invocation_index) li: u32) {
  let per = (p.users + SCAN_WG - 1u) / SCAN_WG;
  let lo = min(li * per, p.users);
  let hi = min(lo + per, p.users);
  var sum = 0u;
  for (var u = lo; u < hi; u++) { sum += (atomicLoad(&counts[u]) + 3u) & ~3u; }
  chunk_start[li] = sum;
  workgroupBarrier();
  if (li == 0u) {
    var run = 0u;
    for (var i = 0u; i < SCAN_WG; i++) {
      let n = chunk_start[i];
      chunk_start[i] = run;
      run += n;
    }
  }
  workgroupBarrier();
  var run = chunk_start[li];
  for (var u = lo; u < hi; u++) {
    let n = atomicLoad(&counts[u]);
    starts[u] = run;
    run += (n + 3u) & ~3u;
  }
}

// Over pairs: each pair to its slot.
@compute @workgroup_size(WG)
fn rank_place(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  if (t >= p.pairs) { return; }
  slots[starts[user_of(t)] + order[t]] = t;
}
