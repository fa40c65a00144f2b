// The rank of each held-out (user, item) pair among all items for that user, as the course's
// MRR (spotlight's mrr_score) computes it: items are sorted by score, highest first; the items
// the user rated in training are moved to the end (their scores count as +∞ after negation);
// tied scores share the average of their positions (scipy's rankdata 'average').
//
// So for a pair whose item was not rated in training, with G unrated items scoring higher and E
// unrated items (itself included) scoring the same:  rank = 1 + G + (E - 1) / 2.
// One thread per pair walks the user's score row once, a word of the training mask at a time.

override WG: u32 = 64u;

struct Params {
  pairs: u32,
  items: u32,
  // u32 words per user in the training mask: ceil(items / 32).
  words: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;   // [users, items]
@group(0) @binding(2) var<storage, read> users: array<u32>;    // [pairs]
@group(0) @binding(3) var<storage, read> items: array<u32>;    // [pairs]
@group(0) @binding(4) var<storage, read> rated: array<u32>;    // [users, words]: bit k = item k in training
@group(0) @binding(5) var<storage, read_write> ranks: array<f32>;  // [pairs], 1-based

fn flat_id(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

@compute @workgroup_size(WG)
fn rank(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat_id(gid, nwg);
  if (t >= p.pairs) { return; }
  let u = users[t];
  let j = items[t];
  let row = u * p.items;
  let mask = u * p.words;
  let s = scores[row + j];
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
  let jRated = ((rated[mask + j / 32u] >> (j % 32u)) & 1u) != 0u;
  if (jRated) {
    // Rated in training too: it ties with every rated item at the end of the list.
    ranks[t] = f32(unrated) + f32(p.items - unrated + 1u) * 0.5;
  } else {
    ranks[t] = 1.0 + f32(greater) + f32(equal - 1u) * 0.5;
  }
}
