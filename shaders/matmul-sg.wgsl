// ---- sg4: a 16x16 tile of C per subgroup of four lanes, which share their loads ------------
//
// Appended to matmul-epilogue.wgsl + matmul.wgsl (a_at, b_at, store), after `enable subgroups;`.
//
// Why: on SwiftShader (a CPU) four invocations run as one SIMD group, and every storage load
// whose address differs per lane is an emulated gather costing about ten arithmetic ops. A
// register tile is bounded by its loads per multiply-add. Here each lane loads a quarter of
// the tile's A column and of its B row at every k, and subgroupBroadcast (a register shuffle)
// hands the A values to all four lanes: 8 loads per 64 multiply-adds per lane, where reg4x4
// needs 8 loads per 16. Measured on SwiftShader at 256x96x64: about 1.7x reg4x4.
//
// Lane l owns columns n0 + 4j + l (j < 4) of rows m0 .. m0 + 15: accR[j] is C[m0 + R, n0 + 4j + l].
// It loads A's rows m0 + 4i + l (i < 4) at k; broadcasting al[i] from lane s gives row m0 + 4i + s.
// Each output still adds its K products in ascending k, one at a time, like every variant.
//
// The wrapper offers it only where subgroups are exactly four consecutive invocations, and
// the autotuner validates it against the naive kernel before use.

const SG_LANES = 4u;
const SG_ROWS = 16u;
const SG_COLS = 16u;

// Set by the wrapper when every subgroup's tile lies inside C (M a multiple of 16, N of the
// tile width, whole workgroups): the epilogue then stores without bounds checks. On
// SwiftShader the checked epilogue (a loop, a branch and a bias load per output) took about
// a sixth of a 256x96x64 product.
override FULL_TILES: bool = false;

// Four outputs of row m at columns cols, bias4 holding bias[cols] (HAS_BIAS), no bounds checks:
// the same bias add, activation and write as store(), so the same bits.
fn store_sg_full(m: u32, cols: vec4u, acc: vec4f, bias4: vec4f) {
  // max(x, x) is x, bit for bit (NaNs too), but SwiftShader stores the loop's accumulators
  // faster once they have passed through it: 256x96x64 without bias or activation took
  // 700-740 us, with it 630-655, as fast as with relu (timestamps, alternating runs).
  var z = acc;
  if (HAS_BIAS) { z += bias4; }
  if (ACT == ACT_NONE) { z = max(z, z); }
  let row = m * p.n;
  emit(row + cols.x, activate(z.x));
  emit(row + cols.y, activate(z.y));
  emit(row + cols.z, activate(z.z));
  emit(row + cols.w, activate(z.w));
}

// bias[cols] when HAS_BIAS (loaded once per tile, not once per output).
fn bias_at(cols: vec4u) -> vec4f {
  if (HAS_BIAS) { return vec4f(bias[cols.x], bias[cols.y], bias[cols.z], bias[cols.w]); }
  return vec4f(0.0);
}

// Row m's four outputs held by this lane; columns past N (clamped duplicates) are skipped.
fn store_sg_row(m: u32, n0: u32, lane: u32, acc: vec4f) {
  if (m >= p.m) { return; }
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + 4u * j + lane;
    if (n < p.n) { store(m, n, acc[j]); }
  }
}

// TILE subgroups per workgroup, side by side along N; one row of tiles per workgroup row.
@compute @workgroup_size(SG_LANES * TILE)
fn matmul_sg4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let m0 = wid.y * SG_ROWS;
  let n0 = (wid.x * TILE + li / SG_LANES) * SG_COLS;
  // Rows and columns past the edges are clamped to the last one, so every lane loads in
  // range and stays for every broadcast (which needs all four); their sums are not stored.
  let ra = min(vec4u(m0 + lane) + vec4u(0u, 4u, 8u, 12u), vec4u(p.m - 1u));
  let cb = min(vec4u(n0 + lane) + vec4u(0u, 4u, 8u, 12u), vec4u(p.n - 1u));
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  var acc4 = vec4f(0.0);
  var acc5 = vec4f(0.0);
  var acc6 = vec4f(0.0);
  var acc7 = vec4f(0.0);
  var acc8 = vec4f(0.0);
  var acc9 = vec4f(0.0);
  var acc10 = vec4f(0.0);
  var acc11 = vec4f(0.0);
  var acc12 = vec4f(0.0);
  var acc13 = vec4f(0.0);
  var acc14 = vec4f(0.0);
  var acc15 = vec4f(0.0);
  for (var k = 0u; k < p.k; k++) {
    let al = vec4f(a_at(ra.x, k), a_at(ra.y, k), a_at(ra.z, k), a_at(ra.w, k));
    let bk = vec4f(b_at(k, cb.x), b_at(k, cb.y), b_at(k, cb.z), b_at(k, cb.w));
    acc0 += subgroupBroadcast(al.x, 0u) * bk;
    acc1 += subgroupBroadcast(al.x, 1u) * bk;
    acc2 += subgroupBroadcast(al.x, 2u) * bk;
    acc3 += subgroupBroadcast(al.x, 3u) * bk;
    acc4 += subgroupBroadcast(al.y, 0u) * bk;
    acc5 += subgroupBroadcast(al.y, 1u) * bk;
    acc6 += subgroupBroadcast(al.y, 2u) * bk;
    acc7 += subgroupBroadcast(al.y, 3u) * bk;
    acc8 += subgroupBroadcast(al.z, 0u) * bk;
    acc9 += subgroupBroadcast(al.z, 1u) * bk;
    acc10 += subgroupBroadcast(al.z, 2u) * bk;
    acc11 += subgroupBroadcast(al.z, 3u) * bk;
    acc12 += subgroupBroadcast(al.w, 0u) * bk;
    acc13 += subgroupBroadcast(al.w, 1u) * bk;
    acc14 += subgroupBroadcast(al.w, 2u) * bk;
    acc15 += subgroupBroadcast(al.w, 3u) * bk;
  }
  if (FULL_TILES) {
    let bk4 = bias_at(cb);
    store_sg_full(m0 + 0u, cb, acc0, bk4);
    store_sg_full(m0 + 1u, cb, acc1, bk4);
    store_sg_full(m0 + 2u, cb, acc2, bk4);
    store_sg_full(m0 + 3u, cb, acc3, bk4);
    store_sg_full(m0 + 4u, cb, acc4, bk4);
    store_sg_full(m0 + 5u, cb, acc5, bk4);
    store_sg_full(m0 + 6u, cb, acc6, bk4);
    store_sg_full(m0 + 7u, cb, acc7, bk4);
    store_sg_full(m0 + 8u, cb, acc8, bk4);
    store_sg_full(m0 + 9u, cb, acc9, bk4);
    store_sg_full(m0 + 10u, cb, acc10, bk4);
    store_sg_full(m0 + 11u, cb, acc11, bk4);
    store_sg_full(m0 + 12u, cb, acc12, bk4);
    store_sg_full(m0 + 13u, cb, acc13, bk4);
    store_sg_full(m0 + 14u, cb, acc14, bk4);
    store_sg_full(m0 + 15u, cb, acc15, bk4);
    return;
  }
  store_sg_row(m0 + 0u, n0, lane, acc0);
  store_sg_row(m0 + 1u, n0, lane, acc1);
  store_sg_row(m0 + 2u, n0, lane, acc2);
  store_sg_row(m0 + 3u, n0, lane, acc3);
  store_sg_row(m0 + 4u, n0, lane, acc4);
  store_sg_row(m0 + 5u, n0, lane, acc5);
  store_sg_row(m0 + 6u, n0, lane, acc6);
  store_sg_row(m0 + 7u, n0, lane, acc7);
  store_sg_row(m0 + 8u, n0, lane, acc8);
  store_sg_row(m0 + 9u, n0, lane, acc9);
  store_sg_row(m0 + 10u, n0, lane, acc10);
  store_sg_row(m0 + 11u, n0, lane, acc11);
  store_sg_row(m0 + 12u, n0, lane, acc12);
  store_sg_row(m0 + 13u, n0, lane, acc13);
  store_sg_row(m0 + 14u, n0, lane, acc14);
  store_sg_row(m0 + 15u, n0, lane, acc15);
}

// ---- sg4w: a 16x32 tile of C per subgroup, sg4 twice as wide ------------------------------
//
// Why: per k, sg4 spends 8 gathered loads (4 A, 4 B) on 64 multiply-adds per lane. Doubling
// the columns reuses the same 4 A loads and 16 broadcasts for a second set of B values: 12
// loads per 128 multiply-adds. Measured on SwiftShader: 10-15% faster than sg4 on a dense
// layer's 256x96x64 products, a few percent on large eval products (noisy). Unrolling k by 2
// as well (twice the live values) measured slower. The autotuner still picks per shape.
//
// Lane l owns columns n0 + 4j + l (j < 8) of rows m0 .. m0 + 15: accR[j] (j < 4) is
// C[m0 + R, n0 + 4j + l] and accRh[j] is C[m0 + R, n0 + 16 + 4j + l]. A is loaded and
// broadcast as in sg4; each output still adds its K products in ascending k, one at a time.

const SGW_COLS = 32u;
const SGW_HALF = 16u;

// TILE subgroups per workgroup, side by side along N, as in sg4.
@compute @workgroup_size(SG_LANES * TILE)
fn matmul_sg4w(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let m0 = wid.y * SG_ROWS;
  let n0 = (wid.x * TILE + li / SG_LANES) * SGW_COLS;
  // Clamped as in sg4: every lane loads in range and stays for every broadcast.
  let ra = min(vec4u(m0 + lane) + vec4u(0u, 4u, 8u, 12u), vec4u(p.m - 1u));
  let cb = min(vec4u(n0 + lane) + vec4u(0u, 4u, 8u, 12u), vec4u(p.n - 1u));
  let ch = min(vec4u(n0 + SGW_HALF + lane) + vec4u(0u, 4u, 8u, 12u), vec4u(p.n - 1u));
  var acc0 = vec4f(0.0);
  var acc0h = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc1h = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc2h = vec4f(0.0);
  var acc3 = vec4f(0.0);
  var acc3h = vec4f(0.0);
  var acc4 = vec4f(0.0);
  var acc4h = vec4f(0.0);
  var acc5 = vec4f(0.0);
  var acc5h = vec4f(0.0);
  var acc6 = vec4f(0.0);
  var acc6h = vec4f(0.0);
  var acc7 = vec4f(0.0);
  var acc7h = vec4f(0.0);
  var acc8 = vec4f(0.0);
  var acc8h = vec4f(0.0);
  var acc9 = vec4f(0.0);
  var acc9h = vec4f(0.0);
  var acc10 = vec4f(0.0);
  var acc10h = vec4f(0.0);
  var acc11 = vec4f(0.0);
  var acc11h = vec4f(0.0);
  var acc12 = vec4f(0.0);
  var acc12h = vec4f(0.0);
  var acc13 = vec4f(0.0);
  var acc13h = vec4f(0.0);
  var acc14 = vec4f(0.0);
  var acc14h = vec4f(0.0);
  var acc15 = vec4f(0.0);
  var acc15h = vec4f(0.0);
  for (var k = 0u; k < p.k; k++) {
    let al = vec4f(a_at(ra.x, k), a_at(ra.y, k), a_at(ra.z, k), a_at(ra.w, k));
    let bk = vec4f(b_at(k, cb.x), b_at(k, cb.y), b_at(k, cb.z), b_at(k, cb.w));
    let bh = vec4f(b_at(k, ch.x), b_at(k, ch.y), b_at(k, ch.z), b_at(k, ch.w));
    let a0 = subgroupBroadcast(al.x, 0u);
    acc0 += a0 * bk;
    acc0h += a0 * bh;
    let a1 = subgroupBroadcast(al.x, 1u);
    acc1 += a1 * bk;
    acc1h += a1 * bh;
    let a2 = subgroupBroadcast(al.x, 2u);
    acc2 += a2 * bk;
    acc2h += a2 * bh;
    let a3 = subgroupBroadcast(al.x, 3u);
    acc3 += a3 * bk;
    acc3h += a3 * bh;
    let a4 = subgroupBroadcast(al.y, 0u);
    acc4 += a4 * bk;
    acc4h += a4 * bh;
    let a5 = subgroupBroadcast(al.y, 1u);
    acc5 += a5 * bk;
    acc5h += a5 * bh;
    let a6 = subgroupBroadcast(al.y, 2u);
    acc6 += a6 * bk;
    acc6h += a6 * bh;
    let a7 = subgroupBroadcast(al.y, 3u);
    acc7 += a7 * bk;
    acc7h += a7 * bh;
    let a8 = subgroupBroadcast(al.z, 0u);
    acc8 += a8 * bk;
    acc8h += a8 * bh;
    let a9 = subgroupBroadcast(al.z, 1u);
    acc9 += a9 * bk;
    acc9h += a9 * bh;
    let a10 = subgroupBroadcast(al.z, 2u);
    acc10 += a10 * bk;
    acc10h += a10 * bh;
    let a11 = subgroupBroadcast(al.z, 3u);
    acc11 += a11 * bk;
    acc11h += a11 * bh;
    let a12 = subgroupBroadcast(al.w, 0u);
    acc12 += a12 * bk;
    acc12h += a12 * bh;
    let a13 = subgroupBroadcast(al.w, 1u);
    acc13 += a13 * bk;
    acc13h += a13 * bh;
    let a14 = subgroupBroadcast(al.w, 2u);
    acc14 += a14 * bk;
    acc14h += a14 * bh;
    let a15 = subgroupBroadcast(al.w, 3u);
    acc15 += a15 * bk;
    acc15h += a15 * bh;
  }
  if (FULL_TILES) {
    let bk4 = bias_at(cb);
    let bh4 = bias_at(ch);
    store_sg_full(m0 + 0u, cb, acc0, bk4);
    store_sg_full(m0 + 0u, ch, acc0h, bh4);
    store_sg_full(m0 + 1u, cb, acc1, bk4);
    store_sg_full(m0 + 1u, ch, acc1h, bh4);
    store_sg_full(m0 + 2u, cb, acc2, bk4);
    store_sg_full(m0 + 2u, ch, acc2h, bh4);
    store_sg_full(m0 + 3u, cb, acc3, bk4);
    store_sg_full(m0 + 3u, ch, acc3h, bh4);
    store_sg_full(m0 + 4u, cb, acc4, bk4);
    store_sg_full(m0 + 4u, ch, acc4h, bh4);
    store_sg_full(m0 + 5u, cb, acc5, bk4);
    store_sg_full(m0 + 5u, ch, acc5h, bh4);
    store_sg_full(m0 + 6u, cb, acc6, bk4);
    store_sg_full(m0 + 6u, ch, acc6h, bh4);
    store_sg_full(m0 + 7u, cb, acc7, bk4);
    store_sg_full(m0 + 7u, ch, acc7h, bh4);
    store_sg_full(m0 + 8u, cb, acc8, bk4);
    store_sg_full(m0 + 8u, ch, acc8h, bh4);
    store_sg_full(m0 + 9u, cb, acc9, bk4);
    store_sg_full(m0 + 9u, ch, acc9h, bh4);
    store_sg_full(m0 + 10u, cb, acc10, bk4);
    store_sg_full(m0 + 10u, ch, acc10h, bh4);
    store_sg_full(m0 + 11u, cb, acc11, bk4);
    store_sg_full(m0 + 11u, ch, acc11h, bh4);
    store_sg_full(m0 + 12u, cb, acc12, bk4);
    store_sg_full(m0 + 12u, ch, acc12h, bh4);
    store_sg_full(m0 + 13u, cb, acc13, bk4);
    store_sg_full(m0 + 13u, ch, acc13h, bh4);
    store_sg_full(m0 + 14u, cb, acc14, bk4);
    store_sg_full(m0 + 14u, ch, acc14h, bh4);
    store_sg_full(m0 + 15u, cb, acc15, bk4);
    store_sg_full(m0 + 15u, ch, acc15h, bh4);
    return;
  }
  store_sg_row(m0 + 0u, n0, lane, acc0);
  store_sg_row(m0 + 0u, n0 + SGW_HALF, lane, acc0h);
  store_sg_row(m0 + 1u, n0, lane, acc1);
  store_sg_row(m0 + 1u, n0 + SGW_HALF, lane, acc1h);
  store_sg_row(m0 + 2u, n0, lane, acc2);
  store_sg_row(m0 + 2u, n0 + SGW_HALF, lane, acc2h);
  store_sg_row(m0 + 3u, n0, lane, acc3);
  store_sg_row(m0 + 3u, n0 + SGW_HALF, lane, acc3h);
  store_sg_row(m0 + 4u, n0, lane, acc4);
  store_sg_row(m0 + 4u, n0 + SGW_HALF, lane, acc4h);
  store_sg_row(m0 + 5u, n0, lane, acc5);
  store_sg_row(m0 + 5u, n0 + SGW_HALF, lane, acc5h);
  store_sg_row(m0 + 6u, n0, lane, acc6);
  store_sg_row(m0 + 6u, n0 + SGW_HALF, lane, acc6h);
  store_sg_row(m0 + 7u, n0, lane, acc7);
  store_sg_row(m0 + 7u, n0 + SGW_HALF, lane, acc7h);
  store_sg_row(m0 + 8u, n0, lane, acc8);
  store_sg_row(m0 + 8u, n0 + SGW_HALF, lane, acc8h);
  store_sg_row(m0 + 9u, n0, lane, acc9);
  store_sg_row(m0 + 9u, n0 + SGW_HALF, lane, acc9h);
  store_sg_row(m0 + 10u, n0, lane, acc10);
  store_sg_row(m0 + 10u, n0 + SGW_HALF, lane, acc10h);
  store_sg_row(m0 + 11u, n0, lane, acc11);
  store_sg_row(m0 + 11u, n0 + SGW_HALF, lane, acc11h);
  store_sg_row(m0 + 12u, n0, lane, acc12);
  store_sg_row(m0 + 12u, n0 + SGW_HALF, lane, acc12h);
  store_sg_row(m0 + 13u, n0, lane, acc13);
  store_sg_row(m0 + 13u, n0 + SGW_HALF, lane, acc13h);
  store_sg_row(m0 + 14u, n0, lane, acc14);
  store_sg_row(m0 + 14u, n0 + SGW_HALF, lane, acc14h);
  store_sg_row(m0 + 15u, n0, lane, acc15);
  store_sg_row(m0 + 15u, n0 + SGW_HALF, lane, acc15h);
}
