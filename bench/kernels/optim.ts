// Optimizers and embedding scatter-add strategies: fused Adam vs the TF.js-style unfused chain,
// and the deterministic segmented scatter-add vs the atomic CAS loop TF.js and jax-js use.
import { AdamChain } from '../baselines/adam-chain.ts';
import { Adam, adamRef, createAdamStepBuffer, writeAdamStep, type AdamHyper } from '../../src/kernels/adam.ts';
import { embeddingBackward, scatterAddRef, type EmbeddingShape } from '../../src/kernels/embedding.ts';
import { Kernel } from '../../src/kernels/spec.ts';
import { packSegments } from '../../src/graph/segments.ts';
import { ScatterAddAtomic } from '../baselines/scatter-atomic.ts';
import type { Gpu } from '../../src/gpu/context.ts';
import type { BufferScope } from '../../src/gpu/buffers.ts';
import type { StagingRing } from '../../src/gpu/readback.ts';
import type { Dispatch } from '../../src/kernels/kernel.ts';
import { Rng } from '../../src/random.ts';
import { type BenchCase, type Prepared, type Variant } from '../harness.ts';
import { checkClose } from '../../src/tolerance.ts';

// ---- Adam -------------------------------------------------------------------------------

const HP: AdamHyper = { lr: 1e-3 };
// A step past the first, so bias corrections and nonzero moments are in play.
const STEP = 3;

interface AdamData {
  param: Float32Array;
  m: Float32Array;
  v: Float32Array;
  grad: Float32Array;
  expected: { param: Float64Array; m: Float64Array; v: Float64Array };
}

function adamData(n: number): AdamData {
  const rng = new Rng(61);
  const u = (scale: number): Float32Array => Float32Array.from({ length: n }, () => scale * (rng.uniform() - 0.5));
  const param = u(2);
  const m = u(0.2);
  const v = Float32Array.from(u(0.2), (x) => x * x);
  const grad = u(2);
  const expected = { param: Float64Array.from(param), m: Float64Array.from(m), v: Float64Array.from(v) };
  adamRef(expected, grad, STEP, HP);
  return { param, m, v, grad, expected };
}

type AdamKernel = { bind(b: { step: GPUBuffer; param: GPUBuffer; grad: GPUBuffer; m: GPUBuffer; v: GPUBuffer }): Dispatch | Dispatch[] };

function adamVariant(impl: string, data: () => AdamData, make: (gpu: Gpu, n: number, scope: BufferScope) => Promise<AdamKernel>): Variant {
  return {
    impl,
    async prepare(gpu, scope): Promise<Prepared> {
      const d = data();
      const n = d.param.length;
      const step = createAdamStepBuffer(scope);
      writeAdamStep(gpu, step, STEP, HP);
      const bufs = { step, param: scope.upload('param', d.param), m: scope.upload('m', d.m), v: scope.upload('v', d.v), grad: scope.upload('grad', d.grad) };
      const k = await make(gpu, n, scope);
      const bound = k.bind(bufs);
      const write = (b: GPUBuffer, a: Float32Array): void => gpu.device.queue.writeBuffer(b, 0, a.buffer, a.byteOffset, a.byteLength);
      return {
        dispatches: Array.isArray(bound) ? bound : [bound],
        reset: () => {
          write(bufs.param, d.param);
          write(bufs.m, d.m);
          write(bufs.v, d.v);
        },
        // f32 vs float64 after one step: a few ulps (see test/adam.test.ts).
        check: async (ring: StagingRing) =>
          checkClose(await ring.readF32(bufs.param, n), d.expected.param, { atol: 1e-6, rtol: 2e-6 }) ??
          checkClose(await ring.readF32(bufs.m, n), d.expected.m, { atol: 1e-6, rtol: 2e-6 }) ??
          checkClose(await ring.readF32(bufs.v, n), d.expected.v, { atol: 1e-6, rtol: 2e-6 }),
      };
    },
  };
}

function adamCase(n: number, label: string): BenchCase {
  let cached: AdamData | undefined;
  // Built on first use, once for all variants: the float64 reference over 1M is not free.
  const data = (): AdamData => (cached ??= adamData(n));
  return {
    case: `adam ${label} params`,
    baseline: 'unfused chain (14 dispatches)',
    variants: [
      adamVariant('unfused chain (14 dispatches)', data, (gpu, n, scope) => AdamChain.create(gpu, { n }, { wg: 256 }, scope)),
      adamVariant('fused wg256', data, (gpu, n, scope) => Adam.create(gpu, { n }, { wg: 256 }, scope)),
      adamVariant('fused wg64', data, (gpu, n, scope) => Adam.create(gpu, { n }, { wg: 64 }, scope)),
    ],
  };
}

// ---- scatter-add ------------------------------------------------------------------------

function scatterCase(shape: EmbeddingShape): BenchCase {
  const rng = new Rng(62);
  // Popularity is skewed like real ratings: a few items take most of the batch.
  const idx = Uint32Array.from({ length: shape.n }, () => Math.min(shape.rows - 1, Math.floor(shape.rows * rng.uniform() ** 3)));
  const gout = Float32Array.from({ length: shape.n * shape.dim }, () => rng.normal());
  const expected = scatterAddRef(gout, idx, shape.rows, shape.dim);
  const cells = shape.rows * shape.dim;
  // f32 sums of up to a few hundred N(0,1) terms in any order.
  const check = (grad: GPUBuffer) => async (ring: StagingRing) => checkClose(await ring.readF32(grad, cells), expected, { atol: 1e-4, rtol: 1e-5 });
  const atomic = (impl: string, accumulate: boolean): Variant => ({
    impl,
    async prepare(gpu, scope) {
      const k = await ScatterAddAtomic.create(gpu, shape, { accumulate }, scope);
      const grad = scope.create('grad', cells * 4);
      const zeros = new Float32Array(cells);
      return {
        dispatches: k.bind({ gradOut: scope.upload('gout', gout), indices: scope.upload('idx', idx), gradTable: grad }),
        // Accumulating adds into whatever the timed runs left: start the checked run from zero.
        reset: () => gpu.device.queue.writeBuffer(grad, 0, zeros.buffer, 0, zeros.byteLength),
        check: check(grad),
      };
    },
  });
  return {
    case: `scatter-add ${shape.n}x${shape.dim} into ${shape.rows} (skewed)`,
    baseline: 'atomic CAS (clear + scatter)',
    variants: [
      atomic('atomic CAS (clear + scatter)', false),
      atomic('atomic CAS (accumulate only)', true),
      {
        impl: 'segmented (deterministic)',
        async prepare(gpu, scope) {
          const k = await Kernel.create(gpu, embeddingBackward(gpu, shape), scope);
          // Overwrite mode writes only touched rows, so the untouched ones must start at zero
          // to compare with the reference: a fresh buffer is zeroed.
          const grad = scope.create('grad', cells * 4);
          const d = k.bind({ grad_out: scope.upload('gout', gout), csr: scope.upload('csr', packSegments(idx, shape)), grad_table: grad });
          return { dispatches: [d], check: check(grad) };
        },
      },
    ],
  };
}

export function optimCases(): BenchCase[] {
  return [
    adamCase(93_000, '93k'),
    adamCase(1_000_000, '1M'),
    scatterCase({ rows: 1683, dim: 32, n: 512 }),
    scatterCase({ rows: 1683, dim: 32, n: 8192 }),
  ];
}
