// reg4x4 with vec4 loads: the same 4x4 register tile per thread and the same order of
// multiply-adds (so the same bits), but A and B are read four floats at a time. On SwiftShader
// every load is a gather across the SIMD lanes, so 8 vec4 loads instead of 32 scalar ones per
// 64 multiply-adds is most of the difference.
//
// Needs K % 4 == 0, M % 4 == 0 when A is stored transposed and N % 4 == 0 when B is not (the
// wrapper falls back to reg4x4 otherwise), so every vec4 it reads lies inside one row.
// Prepended: matmul-epilogue.wgsl (options, uniform, bias, C, the epilogue).

@group(0) @binding(1) var<storage, read> a4: array<vec4f>;
@group(0) @binding(2) var<storage, read> b4: array<vec4f>;

fn transpose4(x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f) -> array<vec4f, 4> {
  return array<vec4f, 4>(
    vec4f(x0.x, x1.x, x2.x, x3.x),
    vec4f(x0.y, x1.y, x2.y, x3.y),
    vec4f(x0.z, x1.z, x2.z, x3.z),
    vec4f(x0.w, x1.w, x2.w, x3.w),
  );
}

@compute @workgroup_size(TILE, TILE)
fn matmul_reg4x4v(@builtin(global_invocation_id) gid: vec3u) {
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= p.m || n0 >= p.n) { return; }
  // Rows (untransposed A) and columns (transposed B) past the edge are clamped, as in reg4x4.
  let r = min(vec4u(m0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.m - 1u));
  let cl = min(vec4u(n0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.n - 1u));
  let k4 = p.k / 4u;
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var kq = 0u; kq < k4; kq++) {
    let k = kq * 4u;
    // a[i] = row m0+i over k..k+3; b[j] = row k+j of op(B) over n0..n0+3.
    var a: array<vec4f, 4>;
    if (TRANS_A) {
      let mq = m0 / 4u;
      a = transpose4(a4[k * (p.m / 4u) + mq], a4[(k + 1u) * (p.m / 4u) + mq], a4[(k + 2u) * (p.m / 4u) + mq], a4[(k + 3u) * (p.m / 4u) + mq]);
    } else {
      a = array<vec4f, 4>(a4[r.x * k4 + kq], a4[r.y * k4 + kq], a4[r.z * k4 + kq], a4[r.w * k4 + kq]);
    }
    var b: array<vec4f, 4>;
    if (TRANS_B) {
      b = transpose4(b4[cl.x * k4 + kq], b4[cl.y * k4 + kq], b4[cl.z * k4 + kq], b4[cl.w * k4 + kq]);
    } else {
      let nq = n0 / 4u;
      b = array<vec4f, 4>(b4[k * (p.n / 4u) + nq], b4[(k + 1u) * (p.n / 4u) + nq], b4[(k + 2u) * (p.n / 4u) + nq], b4[(k + 3u) * (p.n / 4u) + nq]);
    }
    acc0 += a[0].x * b[0]; acc0 += a[0].y * b[1]; acc0 += a[0].z * b[2]; acc0 += a[0].w * b[3];
    acc1 += a[1].x * b[0]; acc1 += a[1].y * b[1]; acc1 += a[1].z * b[2]; acc1 += a[1].w * b[3];
    acc2 += a[2].x * b[0]; acc2 += a[2].y * b[1]; acc2 += a[2].z * b[2]; acc2 += a[2].w * b[3];
    acc3 += a[3].x * b[0]; acc3 += a[3].y * b[1]; acc3 += a[3].z * b[2]; acc3 += a[3].w * b[3];
  }
  let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    if (m >= p.m) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (n0 + j < p.n) { store(m, n0 + j, accs[i][j]); }
    }
  }
}
