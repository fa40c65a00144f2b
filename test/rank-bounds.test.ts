// Every index the rank kernels use stays in its array, in every active lane, on the shapes that
// reach a row's end: the last mask word ragged (items not a multiple of 32) and the last user
// holding pairs, whose row ends the score matrix. rank_sg4 once loaded its last word's 32 scores
// unclamped, up to 31 past the matrix: on MovieLens ua.test (1,665 items) that faulted
// SwiftShader in Node, where Dawn's robustness is off, while every ranking test passed.
import { describe, expect, it } from 'vitest';
import portableSource from '../shaders/rank.wgsl';
import sgBody from '../shaders/rank-sg.wgsl';
import { ratedMask } from '../src/graph/rated-mask.ts';
import { maskWords, quadSlots, rankRef, rankVariantsFor } from '../src/kernels/rank.ts';
import { Rng } from '../src/random.ts';
import { probeIndices, strayArrays } from './support/bounds.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

const ARRAYS = ['scores', 'users', 'items', 'rated', 'ranks', 'slots', 'counts', 'starts', 'order'] as const;
const FLAGS = 10;
const WG = 64;

/** Runs the probed entry points in order, as src/kernels/rank.ts dispatches them; the ranks and the stray arrays. */
async function probedRanks(
  variant: 'pair' | 'sg4',
  scores: Float32Array,
  users: Uint32Array,
  items: Uint32Array,
  rated: Uint32Array,
  shape: { users: number; items: number },
): Promise<{ ranks: Float32Array; stray: string[] }> {
  const device = t.gpu.device;
  const pairs = users.length;
  const slots = variant === 'sg4' ? quadSlots({ ...shape, pairs }) : 0;
  const source = probeIndices(variant === 'sg4' ? `enable subgroups;\n${portableSource}\n${sgBody}` : portableSource, ARRAYS, FLAGS);
  const module = device.createShaderModule({ code: source });
  const [ranks, flags] = await t.run(async (scope) => {
    const b: Record<number, GPUBuffer> = {
      0: scope.uniform('params', [pairs, shape.items, maskWords(shape.items), shape.users, slots, 0xff800000, 0, 0]),
      1: scope.upload('scores', scores),
      2: scope.upload('users', users),
      3: scope.upload('items', items),
      4: scope.upload('rated', rated),
      5: scope.create('ranks', pairs * 4),
      [FLAGS]: scope.upload('flags', new Uint32Array([0])),
    };
    if (variant === 'sg4') Object.assign(b, { 6: scope.create('slots', slots * 4), 7: scope.create('counts', shape.users * 4), 8: scope.create('starts', shape.users * 4), 9: scope.create('order', pairs * 4) });
    // Entry point, bindings, threads (one workgroup for the scan).
    const steps: [string, number[], number][] =
      variant === 'pair'
        ? [['rank', [0, 1, 2, 3, 4, 5], pairs]]
        : [
            ['rank_clear', [0, 6, 7], Math.max(shape.users, slots)],
            ['rank_count', [0, 2, 7, 9], pairs],
            ['rank_scan', [0, 7, 8], 1],
            ['rank_place', [0, 2, 6, 8, 9], pairs],
            ['rank_sg4', [0, 1, 2, 3, 4, 5, 6], slots],
          ];
    const dispatches = await Promise.all(
      steps.map(async ([entryPoint, bindings, threads]) => {
        const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint, constants: entryPoint === 'rank_scan' ? {} : { WG } } });
        const entries = [...bindings, FLAGS].map((binding) => ({ binding, resource: { buffer: b[binding] } }));
        return { label: entryPoint, pipeline, bindGroup: device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }), grid: [entryPoint === 'rank_scan' ? 1 : Math.ceil(threads / WG), 1] as [number, number] };
      }),
    );
    return { dispatches, outputs: [[b[5], pairs], [b[FLAGS], 1]] };
  });
  return { ranks, stray: strayArrays(ARRAYS, new Uint32Array(flags.buffer, flags.byteOffset, 1)[0]) };
}

describe('rank indices', () => {
  for (const variant of ['pair', 'sg4'] as const) {
    it(`${variant} stays inside every array when the last user's row ends in a ragged mask word`, async () => {
      if (!rankVariantsFor(t.gpu).includes(variant)) return; // sg4 needs subgroups of 4 (rank.test.ts checks the refusal)
      const rng = new Rng(2);
      // 33 items: the last word holds one, so a quad would load 31 scores past the row.
      for (const shape of [{ users: 5, items: 33 }, { users: 3, items: 1665 }]) {
        const n = 12;
        // Every user holds pairs, the last one too.
        const users = Uint32Array.from({ length: n }, (_, k) => (k < shape.users ? k : rng.int(shape.users)));
        const items = Uint32Array.from({ length: n }, () => rng.int(shape.items));
        const scores = Float32Array.from({ length: shape.users * shape.items }, () => rng.int(8) / 2);
        const rated = ratedMask([0, shape.users - 1], [1, shape.items - 1], shape);
        const got = await probedRanks(variant, scores, users, items, rated, shape);
        expect(got.stray, `${variant} ${shape.users}x${shape.items}`).toEqual([]);
        expect([...got.ranks]).toEqual([...rankRef(scores, users, items, rated, shape)]);
      }
    });
  }
});
