// rank-sg.wgsl: appended to rank.wgsl after `enable subgroups;` (see src/kernels/rank.ts).
//
// rank_sg4: one quad of slots per subgroup of four lanes (SwiftShader's SIMD width), pairs of
// one user. Why: on SwiftShader every load whose address differs per lane is an emulated
// gather costing about ten arithmetic ops, and `rank` does one per score per pair. Here the
// quad's four pair scores are broadcast once; lane l loads items 4i + l of the row, so one
// gather brings four scores, and compares its score with all four pair scores; subgroupAdd
// sums the lanes' counts at the end.
//
// Per score and pair it adds step(s, x) - step(x, s) = [x > s] + [x ≥ s] - 1 (x not NaN):
// summed, 2G + E less the row's length, and rank = (2G + E + 1) / 2. One accumulator per
// pair and no selects: two accumulators each (G, E) spill SwiftShader's registers, and cost
// twice as much. A rated item, an item past the row's end (the last mask word) and a NaN
// score become -∞, which adds 0 against any score but -∞; pairs scoring -∞ or NaN (no real
// model's) are counted one score at a time, as `rank` does.

// The score of item `base + b` of the row, or -∞ when bit b of `skip` is set or it is NaN.
fn score_or_skip(row: u32, base: u32, b: u32, skip: u32, neg_inf: f32) -> f32 {
  // Past the row's end (the last mask word's tail, which `skip` marks) the load is clamped to
  // the row's last item: unclamped, the last user's row read up to 31 scores past the matrix,
  // which faulted SwiftShader without Dawn's robustness. The value is replaced anyway.
  let v = scores[row + min(base + b, p.items - 1u)];
  let nan = (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
  return select(v, neg_inf, nan | (((skip >> b) & 1u) != 0u));
}

// The dispatch covers `slots` threads (a multiple of WG); quads past the layout's end are NONE.
@compute @workgroup_size(WG)
@diagnostic(off, subgroup_uniformity)
fn rank_sg4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let slot = flat_id(gid, nwg);
  let t = select(NONE, slots[min(slot, p.slots - 1u)], slot < p.slots);
  // A quad's first slot is empty only when the whole quad is: the subgroup leaves together.
  let lead = subgroupBroadcast(t, 0u);
  if (lead == NONE) { return; }
  let u = user_of(lead);
  // Padding lanes stand in for the lead's pair and store nothing.
  let j = items[select(lead, t, t != NONE)];
  let row = u * p.items;
  let mask = u * p.words;
  let s = scores[row + j];
  let s4 = vec4f(subgroupBroadcast(s, 0u), subgroupBroadcast(s, 1u), subgroupBroadcast(s, 2u), subgroupBroadcast(s, 3u));
  let neg_inf = bitcast<f32>(p.neg_inf);
  var acc = vec4f(0.0);
  var rated_items = 0u;
  for (var w = 0u; w < p.words; w++) {
    let base = w * 32u;
    let n = min(32u, p.items - base);
    let valid = select((1u << n) - 1u, 0xffffffffu, n == 32u);
    let bits = rated[mask + w];
    rated_items += countOneBits(bits & valid);
    let skip = bits | ~valid;
    for (var i = 0u; i < 32u; i += 4u) {
      let x = vec4f(score_or_skip(row, base, lane + i, skip, neg_inf));
      acc += step(s4, x) - step(x, s4);
    }
  }
  // Lane l's pair is component l. Exact: integers far below 2^24.
  let sum = subgroupAdd(acc)[lane];
  if (t == NONE) { return; }
  let unrated = p.items - rated_items;
  if (is_rated(mask, j)) {
    ranks[t] = rank_of(true, 0u, 0u, unrated);
  } else if (bitcast<u32>(s) == p.neg_inf || (bitcast<u32>(s) & 0x7fffffffu) > 0x7f800000u) {
    let c = count_row(row, mask, s);
    ranks[t] = rank_of(false, c.x, c.y, c.z);
  } else {
    ranks[t] = (sum + f32(p.words * 32u) + 1.0) * 0.5;
  }
}
