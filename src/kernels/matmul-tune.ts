// Chooses the matmul variant for this adapter: every variant is validated against the naive
// kernel on an odd-sized product, then timed on the shape class (each dimension rounded up
// to a power of two, the largest halved until the product is cheap to time), and the winner
// is cached per adapter.
import type { Gpu } from '../gpu/context.ts';
import type { BufferScope } from '../gpu/buffers.ts';
import { StagingRing } from '../gpu/readback.ts';
import { GpuTimer } from '../gpu/timing.ts';
import { Rng } from '../random.ts';
import { autotune, type TuneResult } from './autotune.ts';
import { encodeDispatch, submitDispatches } from './kernel.ts';
import { Matmul, MATMUL_SOURCE, matmulVariantsFor, type MatmulOptions, type MatmulShape, type MatmulVariant } from './matmul.ts';

/**
 * Multiply-adds of the timed product at most (256³, a few ms on SwiftShader). Larger shapes
 * are timed with their largest dimension halved until they fit, keeping their aspect: a flat
 * product (944 × 1683 × 32, the recommender's evaluation scores) ranks the variants unlike a
 * cube of the same cap (there sg4w is 1.4x reg4x4; at 256 × 256 × 32 they tie).
 */
const TUNE_MACS = 2 ** 24;

/** A timed pass repeats the product to last about this long, up to TUNE_MAX_REPS times. */
const TUNE_PASS_MS = 2;
const TUNE_MAX_REPS = 16;

const pow2 = (d: number): number => 2 ** Math.ceil(Math.log2(Math.max(d, 1)));

/** The shape class a product is timed at. */
export function tuneProbe(shape: MatmulShape): MatmulShape {
  const p = { m: pow2(shape.m), n: pow2(shape.n), k: pow2(shape.k) };
  while (p.m * p.n * p.k > TUNE_MACS) {
    const big = p.m >= p.n && p.m >= p.k ? 'm' : p.n >= p.k ? 'n' : 'k';
    p[big] /= 2;
  }
  return p;
}

export function matmulTuneKey(shape: MatmulShape, o: Pick<MatmulOptions, 'transA' | 'transB'>): string {
  const p = tuneProbe(shape);
  return `matmul:m${p.m}:n${p.n}:k${p.k}:t${Number(!!o.transA)}${Number(!!o.transB)}`;
}

function randomMatrix(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform() * 2 - 1;
  return a;
}

/** Runs `variant` and naive on the same odd-sized inputs; true when they agree to float tolerance. */
async function agreesWithNaive(gpu: Gpu, scope: BufferScope, ring: StagingRing, variant: MatmulVariant, o: MatmulOptions): Promise<boolean> {
  // Odd sizes catch edge bugs; the vec4 variant needs multiples of 4 (elsewhere it is reg4x4).
  const shape = variant === 'reg4x4v' ? { m: 36, n: 28, k: 44 } : { m: 37, n: 29, k: 41 };
  const rng = new Rng(1);
  const a = scope.upload('tune.a', randomMatrix(rng, shape.m * shape.k));
  const b = scope.upload('tune.b', randomMatrix(rng, shape.k * shape.n));
  const run = async (v: MatmulVariant): Promise<Float32Array> => {
    const k = await Matmul.create(gpu, shape, { ...o, variant: v, bias: false, activation: 'none', accumulate: false }, scope);
    const c = scope.create('tune.c', shape.m * shape.n * 4);
    submitDispatches(gpu, [k.bind({ a, b, c })]);
    return ring.readF32(c, shape.m * shape.n);
  };
  const [got, want] = [await run(variant), await run('naive')];
  // Both add the k products in the same order; allow a few ulps of |sum| for fused multiply-adds.
  return got.every((v, i) => Math.abs(v - want[i]) <= 1e-5 * (1 + Math.abs(want[i])));
}

export async function tuneMatmul(gpu: Gpu, shape: MatmulShape, opts: Pick<MatmulOptions, 'transA' | 'transB'> = {}, refresh = false): Promise<TuneResult<MatmulVariant>> {
  // Only the transposes change the access pattern; the epilogue is the same for every variant.
  const o = { transA: !!opts.transA, transB: !!opts.transB };
  const scope = gpu.buffers.scope();
  const ring = new StagingRing(gpu, 2);
  const timer = new GpuTimer(gpu);
  try {
    const probe = tuneProbe(shape);
    const rng = new Rng(2);
    const a = scope.upload('tune.A', randomMatrix(rng, probe.m * probe.k));
    const b = scope.upload('tune.B', randomMatrix(rng, probe.k * probe.n));
    const c = scope.create('tune.C', probe.m * probe.n * 4);
    return await autotune(gpu, {
      key: matmulTuneKey(shape, o),
      variants: matmulVariantsFor(gpu),
      refresh,
      source: MATMUL_SOURCE,
      measure: async (variant) => {
        // A throw here (a variant that does not compile on this adapter) counts as unusable.
        if (!(await agreesWithNaive(gpu, scope, ring, variant, o))) return null;
        const k = await Matmul.create(gpu, probe, { ...o, variant }, scope);
        const d = k.bind({ a, b, c });
        // Several dispatches per pass, about TUNE_PASS_MS in all: one alone is near the
        // timer's resolution (65.5 us steps on SwiftShader), and near-ties were then picked by
        // chance: sg4 over sg4w for the recommender's 256x96x64 layer, where sg4w takes
        // 393-472 us against sg4's 459-531 timed ten per pass.
        const once = await timer.stats((pass) => encodeDispatch(pass, d), 1, 1);
        const reps = Math.max(1, Math.min(TUNE_MAX_REPS, Math.ceil(TUNE_PASS_MS / Math.max(once.median_ms, 0.01))));
        const stats = await timer.stats((pass) => {
          for (let i = 0; i < reps; i++) encodeDispatch(pass, d);
        }, 3, 0);
        return stats.median_ms / reps;
      },
    });
  } finally {
    timer.destroy();
    ring.destroy();
    scope.destroy();
  }
}

/** A Matmul with the variant the autotuner picked for this adapter and shape class. */
export async function createTunedMatmul(gpu: Gpu, shape: MatmulShape, opts: Omit<MatmulOptions, 'variant'> = {}, scope: BufferScope = gpu.buffers): Promise<Matmul> {
  const { variant } = await tuneMatmul(gpu, shape, opts);
  return Matmul.create(gpu, shape, { ...opts, variant }, scope);
}
