// A device lost mid-run (device.destroy(), as a driver reset or the browser would): the run opens
// another, restores its last in-memory snapshot and goes on, and ends in the checkpoint bytes and
// the evaluations of a run that was never disturbed, for every experiment; past its tries it
// gives up in one sentence. Node (Dawn) and Chromium.
import { describe, expect, it } from 'vitest';
import { DeviceHolder, DeviceLossError, SurvivingTrainer, type DeviceLoss } from '../src/experiments/device-loss.ts';
import { experiment } from '../src/experiments/registry.ts';
import type { AnyExperiment, Evaluation } from '../src/experiments/types.ts';
import { Gpu } from '../src/gpu/context.ts';
import { MULTITASK_DEFAULTS } from '../src/models/multitask/config.ts';
import { syntheticOmniglot } from '../src/models/fewshot/synthetic.ts';
import { syntheticRatings } from './support/ratings.ts';


interface Case {
  ex: AnyExperiment;
  data: () => unknown;
  config: object;
  /** Steps submitted (redone ones counted again) after which the device is destroyed. */
  loseAt: number[];
}

const CASES: Case[] = [
  {
    ex: experiment('fewshot'),
    data: () => syntheticOmniglot({ characters: 30, seed: 5 }),
    config: { ...experiment('fewshot').defaults, numClasses: 2, numShot: 1, hidden: 8, metaBatch: 4, evalBatch: 8, evalEvery: 5, steps: 20 },
    // Mid-round, and again soon after going on (a second loss before the next snapshot).
    loseAt: [8, 12],
  },
  {
    ex: experiment('recommender'),
    data: () => ({ rows: syntheticRatings(350), titles: null }),
    config: { ...experiment('recommender').defaults, embeddingDim: 8, layerSizes: [24, 16], batchSize: 64, testFraction: 0.2, lr: 0.01, seed: 5, epochs: 3 },
    loseAt: [6],
  },
  {
    ex: experiment('multitask'),
    data: () => ({ files: [] }),
    config: { ...MULTITASK_DEFAULTS, dataset: 'mmoe-synthetic', d: 12, rows: 1200, batchSize: 128, bottomUnits: 16, towerUnits: 4, experts: 3, expertUnits: 4, embeddingDim: 3, lr: 1e-2, epochs: 3 },
    loseAt: [1, 12],
  },
];

interface Ran {
  checkpoint: Uint8Array;
  evaluations: Evaluation[];
  losses: DeviceLoss[];
  /** Evaluations reported to the hook, in order (redone ones again). */
  reported: number[];
}

async function train(c: Case, loseAt: readonly number[], tries?: number): Promise<Ran> {
  const data = c.data();
  const devices = new DeviceHolder(await Gpu.create(), () => Gpu.create());
  const run = new SurvivingTrainer({ ex: c.ex, config: c.config, devices, create: (gpu) => c.ex.create(gpu, data, c.config), tries }, await c.ex.create(devices.gpu, data, c.config));
  const losses: DeviceLoss[] = [];
  const reported: number[] = [];
  let steps = 0;
  try {
    const result = await run.train({
      onStep: () => {
        if (loseAt.includes(++steps)) devices.gpu.device.destroy();
      },
      onEvaluation: (e, bytes) => {
        expect(bytes.length).toBeGreaterThan(0);
        reported.push(e.at);
      },
      onLoss: (l) => void losses.push(l),
    });
    return { checkpoint: await run.trainer.checkpoint(), evaluations: result.evaluations, losses, reported };
  } finally {
    run.destroy();
    devices.destroy();
  }
}

/** What an evaluation measured, without its timings. */
const measured = (es: Evaluation[]): unknown[] => es.map((e) => ({ at: e.at, steps: e.steps, values: e.values }));

describe('a device lost mid-run', () => {
  for (const c of CASES) {
    it(`${c.ex.name}: goes on from the last snapshot to the bytes of an undisturbed run`, async () => {
      const straight = await train(c, []);
      const lost = await train(c, c.loseAt);
      expect(lost.losses.map((l) => l.count)).toEqual(c.loseAt.map((_, i) => i + 1));
      for (const l of lost.losses) {
        expect(l.why).toMatch(/^destroyed: [Dd]evice was destroyed$/);
        expect(l.from).toBeLessThanOrEqual(l.lostAt);
        expect(l.kept.map((e) => e.at)).toEqual(straight.evaluations.map((e) => e.at).filter((at) => at <= l.from));
      }
      // A snapshot at each evaluation: none is reported twice.
      expect(lost.reported).toEqual(straight.reported);
      expect(measured(lost.evaluations)).toEqual(measured(straight.evaluations));
      expect(lost.checkpoint).toEqual(straight.checkpoint);
    }, 120_000);
  }

  it('gives up after its tries, in one sentence that counts the losses', async () => {
    const c = CASES[0];
    const err: unknown = await train(c, [3, 9, 15], 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceLossError);
    expect((err as Error).message).toMatch(/^the GPU device was lost 3 times in this run, the last by step \d+ \(destroyed: [Dd]evice was destroyed\); lower the batch size or update the GPU driver$/);
  }, 120_000);
});
