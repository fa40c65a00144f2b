// Matmul variants on the shapes the experiments run, and the bias-gradient strategies on a tall dZ.
import {
  BIAS_GRAD_VARIANTS,
  BiasGrad,
  MATMUL_VARIANTS,
  Matmul,
  biasGradRef,
  matmulAbsRef,
  matmulErrorBound,
  matmulRef,
  type MatmulOptions,
  type MatmulShape,
} from '../../src/kernels/matmul.ts';
import { tuneMatmul } from '../../src/kernels/matmul-tune.ts';
import { Rng } from '../../src/random.ts';
import type { Gpu } from '../../src/gpu/context.ts';
import type { BenchCase, Variant } from '../harness.ts';
import { checkClose } from '../../src/tolerance.ts';


interface MatmulBench {
  name: string;
  shape: MatmulShape;
  opts: MatmulOptions;
}

const MATMUL_BENCHES: MatmulBench[] = [
  { name: 'square 512x512x512', shape: { m: 512, n: 512, k: 512 }, opts: {} },
  // Few-shot LSTM input projection: (batch 128 x seq 6) x 789 inputs -> 512 gate units, bias fused.
  { name: 'LSTM input projection 768x512x789 +bias', shape: { m: 128 * 6, n: 512, k: 789 }, opts: { bias: true } },
  // Its weight gradient dW = Xᵀ·dZ: A stored [768, 789] and read transposed.
  { name: 'LSTM dW = XᵀdZ 789x512x768 (transA)', shape: { m: 789, n: 512, k: 128 * 6 }, opts: { transA: true } },
];

function matmulCase(bench: MatmulBench, seed: number): BenchCase {
  const { shape, opts } = bench;
  // Inputs and the reference are made once per case, when the case first runs.
  let data: { a: Float32Array; b: Float32Array; bias?: Float32Array; ref: Float64Array; abs: Float64Array } | undefined;
  const inputs = () => {
    if (!data) {
      const rng = new Rng(seed);
      const a = Float32Array.from({ length: shape.m * shape.k }, () => rng.normal());
      const b = Float32Array.from({ length: shape.k * shape.n }, () => rng.normal());
      const bias = opts.bias ? Float32Array.from({ length: shape.n }, () => rng.normal()) : undefined;
      const ref = matmulRef(a, b, shape, { ...opts, bias });
      data = { a, b, bias, ref, abs: matmulAbsRef(a, b, shape, opts.transA, opts.transB) };
    }
    return data;
  };
  const variants: Variant[] = MATMUL_VARIANTS.map((variant) => ({
    impl: variant,
    async prepare(gpu, scope) {
      const x = inputs();
      const k = await Matmul.create(gpu, shape, { ...opts, variant }, scope);
      const c = scope.create('c', shape.m * shape.n * 4);
      const d = k.bind({ a: scope.upload('a', x.a), b: scope.upload('b', x.b), c, ...(x.bias ? { bias: scope.upload('bias', x.bias) } : {}) });
      return {
        dispatches: [d],
        check: async (ring) => checkClose(await ring.readF32(c, shape.m * shape.n), x.ref, matmulErrorBound(x.ref, x.abs, shape.k, shape.n, x.bias)),
      };
    },
  }));
  // Naive and workgroup-tiled runs take seconds each on a software adapter.
  const tuned = async (gpu: Gpu): Promise<string> => (await tuneMatmul(gpu, shape, opts)).variant;
  return { case: `matmul ${bench.name}`, baseline: 'naive', variants, reps: 5, tuned };
}

function biasGradCase(m: number, n: number): BenchCase {
  let data: { dz: Float32Array; expected: Float64Array } | undefined;
  const inputs = () => {
    if (!data) {
      const rng = new Rng(41);
      const dz = Float32Array.from({ length: m * n }, () => rng.normal());
      data = { dz, expected: biasGradRef(dz, m, n) };
    }
    return data;
  };
  return {
    case: `matmul bias grad ${m}x${n}`,
    baseline: 'column',
    variants: BIAS_GRAD_VARIANTS.map((variant) => ({
      impl: variant,
      async prepare(gpu, scope) {
        const { dz, expected } = inputs();
        const k = await BiasGrad.create(gpu, { m, n }, { variant }, scope);
        const db = scope.create('db', n * 4);
        const dispatches = k.bind({ dz: scope.upload('dz', dz), db });
        // Sums of m N(0,1) terms in f32: sqrt(m)·eps-sized errors, well inside 1e-3 absolute at 16k rows.
        return { dispatches, check: async (ring) => checkClose(await ring.readF32(db, n), expected, { atol: 1e-3, rtol: 1e-5 }) };
      },
    })),
  };
}

export function matmulCases(): BenchCase[] {
  return [
    ...MATMUL_BENCHES.map((b, i) => matmulCase(b, 51 + i)),
    // Batch x time up to 16k rows, 512 units: the LSTM gates' bias gradient over a whole sequence.
    biasGradCase(16384, 512),
    biasGradCase(768, 512),
    // A narrow head over a tall batch: one thread per column leaves the GPU idle.
    biasGradCase(16384, 8),
  ];
}
