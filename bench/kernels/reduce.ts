// Whole-tensor sum (tree shapes against one thread) and the factorization score's row dot.
import { RowDot, Sum, rowDotRef, sumRef, treeDepth, treeShape, type SumOptions } from '../../src/kernels/reduce.ts';
import { Rng } from '../../src/random.ts';
import { type BenchCase, type Variant } from '../harness.ts';
import { checkClose } from '../../src/tolerance.ts';

const U = 2 ** -24;
const sumN = 4 * 1024 * 1024;
const dot = { rows: 256, cols: 32 };

function sumData(): { x: Float32Array; exact: number; abs: number } {
  const rng = new Rng(41);
  const x = new Float32Array(sumN);
  // Mixed signs around a positive mean, like per-example losses minus a baseline.
  for (let i = 0; i < sumN; i++) x[i] = 2 * rng.uniform() - 0.5;
  let abs = 0;
  for (let i = 0; i < sumN; i++) abs += Math.abs(x[i]);
  return { x, exact: sumRef(x), abs };
}

function sumVariant(impl: string, opts: SumOptions, data: ReturnType<typeof sumData>): Variant {
  // Recursive-summation bound over the longest addition path: depth * 2^-24 * sum |x|.
  const depth = opts.strategy === 'serial' ? sumN : treeDepth(sumN, treeShape(sumN, opts));
  return {
    impl,
    async prepare(gpu, scope) {
      const k = await Sum.create(gpu, { n: sumN }, opts, scope);
      const dst = scope.create('dst', 16);
      return {
        dispatches: k.bind({ x: scope.upload('x', data.x), dst }),
        check: async (ring) => checkClose(await ring.readF32(dst, 1), [data.exact], { atol: depth * U * 1.01 * data.abs, rtol: 0 }),
      };
    },
  };
}

export function reduceCases(): BenchCase[] {
  const data = sumData();
  const rng = new Rng(42);
  const n = dot.rows * dot.cols;
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) [a[i], b[i]] = [rng.normal(), rng.normal()];
  const shape = treeShape(sumN);
  return [
    {
      case: `reduce sum of ${sumN} (4M) floats`,
      baseline: `tree (default ${shape.workgroup}x${shape.perThread})`,
      variants: [
        sumVariant(`tree (default ${shape.workgroup}x${shape.perThread})`, {}, data),
        sumVariant(`tree 64x16 (${sumN / (64 * 16)} workgroups)`, { perThread: 16 }, data),
        sumVariant('tree 8x2048', { workgroup: 8, perThread: 2048 }, data),
        sumVariant('serial (1 thread)', { strategy: 'serial' }, data),
      ],
      reps: 10, // the serial and 4096-workgroup variants take ~0.3 s each on a software adapter
    },
    {
      case: `row dot ${dot.rows}x${dot.cols}`,
      baseline: 'thread per row',
      variants: [
        {
          impl: 'thread per row',
          async prepare(gpu, scope) {
            const k = await RowDot.create(gpu, dot, {}, scope);
            const out = scope.create('out', dot.rows * 4);
            // 32 products of N(0,1) pairs: 1e-4 absolute covers 32 * 2^-24 * sum |a b|.
            const expected = rowDotRef(a, b, dot.rows, dot.cols);
            return {
              dispatches: [k.bind({ a: scope.upload('a', a), b: scope.upload('b', b), out })],
              check: async (ring) => checkClose(await ring.readF32(out, dot.rows), expected, { atol: 1e-4, rtol: 0 }),
            };
          },
        },
      ],
    },
  ];
}
