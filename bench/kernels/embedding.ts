// Embedding gather and segmented scatter-add on a skewed batch like real ratings.
import { embeddingBackward, embeddingGather, gatherRef, scatterAddRef } from '../../src/kernels/embedding.ts';
import { Kernel } from '../../src/kernels/spec.ts';
import { packSegments } from '../../src/graph/segments.ts';
import { Rng } from '../../src/random.ts';
import { type BenchCase } from '../harness.ts';
import { checkClose } from '../../src/tolerance.ts';

const shape = { rows: 1683, dim: 32, n: 256 * 2 };

function data(): { table: Float32Array; idx: Uint32Array; gout: Float32Array } {
  const rng = new Rng(7);
  const table = Float32Array.from({ length: shape.rows * shape.dim }, () => rng.normal());
  // Popularity is skewed: a few items take most of the ratings.
  const idx = Uint32Array.from({ length: shape.n }, () => Math.floor(shape.rows * rng.uniform() ** 3));
  const gout = Float32Array.from({ length: shape.n * shape.dim }, () => rng.normal());
  return { table, idx, gout };
}

export function embeddingCases(): BenchCase[] {
  const { table, idx, gout } = data();
  return [
    {
      case: `embedding gather ${shape.n}x${shape.dim} from ${shape.rows}`,
      baseline: 'gather',
      variants: [
        {
          impl: 'gather',
          async prepare(gpu, scope) {
            const k = await Kernel.create(gpu, embeddingGather(gpu, shape), scope);
            const out = scope.create('out', shape.n * shape.dim * 4);
            const d = k.bind({ table: scope.upload('table', table), indices: scope.upload('idx', idx), out });
            return {
              dispatches: [d],
              check: async (ring) => checkClose(await ring.readF32(out, shape.n * shape.dim), gatherRef(table, idx, shape.dim), { atol: 0, rtol: 0 }),
            };
          },
        },
      ],
    },
    {
      case: `embedding scatter-add ${shape.n}x${shape.dim} into ${shape.rows} (skewed)`,
      baseline: 'segmented',
      variants: [
        {
          impl: 'segmented',
          async prepare(gpu, scope) {
            const k = await Kernel.create(gpu, embeddingBackward(gpu, shape), scope);
            const grad = scope.create('grad', shape.rows * shape.dim * 4);
            const d = k.bind({ grad_out: scope.upload('gout', gout), csr: scope.upload('csr', packSegments(idx, shape)), grad_table: grad });
            const expected = scatterAddRef(gout, idx, shape.rows, shape.dim);
            return {
              dispatches: [d],
              check: async (ring) => checkClose(await ring.readF32(grad, shape.rows * shape.dim), expected, { atol: 1e-4, rtol: 1e-5 }),
            };
          },
        },
      ],
    },
  ];
}
