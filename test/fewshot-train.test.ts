// The few-shot training loop on a small synthetic Omniglot-shaped set: it meta-learns (held-out
// characters classified above chance), evaluations come where asked, an antialiased set takes
// the dense path, a checkpoint restored into a new trainer continues with the same bits (one
// taken where an interrupted run stopped between evaluations too), the estimate's timed warm-up
// steps are the run's own (same bits), and bad settings are refused before anything is compiled.
// Node and Chromium.
import { describe, expect, it } from 'vitest';
import type { Estimate } from '../src/experiments/estimate.ts';
import { sha256Hex } from '../src/data/fingerprint.ts';
import { trainLoop } from '../src/experiments/loop.ts';
import { readCheckpoint } from '../src/graph/checkpoint.ts';
import type { Evaluation } from '../src/experiments/types.ts';
import { FEWSHOT_DEFAULTS, type FewshotConfig } from '../src/models/fewshot/config.ts';
import { FEWSHOT } from '../src/models/fewshot/experiment.ts';
import { syntheticOmniglot } from '../src/models/fewshot/synthetic.ts';
import { FewshotTrainer } from '../src/models/fewshot/trainer.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

const base: FewshotConfig = { ...FEWSHOT_DEFAULTS, numClasses: 2, numShot: 1, metaBatch: 32, hidden: 32, learningRate: 0.01, evalBatch: 64 };

/** A trainer trained for `steps` steps, evaluated every `evalEvery` (and at step 0) by the loop every front end runs. */
async function train(set: ReturnType<typeof syntheticOmniglot>, c: FewshotConfig, steps: number, evalEvery: number): Promise<{ evals: Evaluation[]; trainer: FewshotTrainer }> {
  const config = { ...c, steps, evalEvery };
  const trainer = await FewshotTrainer.create(t.gpu, set, config);
  const evals: Evaluation[] = [];
  await trainLoop(FEWSHOT, trainer, config, { resumed: false, onEvaluation: (e) => void evals.push(e) });
  return { evals, trainer };
}

describe('few-shot training', () => {
  it('meta-learns: held-out characters are classified above chance after a few hundred steps', async () => {
    // 300 characters, so that memorising them does not pay: the network must compare the query with the support set.
    const set = syntheticOmniglot({ characters: 300, seed: 2, noise: 0.05 });
    const { evals, trainer } = await train(set, base, 200, 50);
    try {
      expect(trainer.path).toBe('bags');
      expect(evals.map((e) => e.at)).toEqual([0, 50, 100, 150, 200]);
      expect(evals[0].values.trainLoss).toBeNull();
      expect(Math.abs((evals[0].values.testLoss as number) - Math.log(2))).toBeLessThan(0.05);
      // Measured here: train loss 0.69 -> 0.62, test accuracy 0.55 -> 0.68 (64 episodes × 2 queries; chance 0.5).
      const last = evals[evals.length - 1].values;
      expect(last.trainLoss).toBeLessThan(0.65);
      expect(last.testAccuracy).toBeGreaterThan(0.62);
      expect(evals.every((e) => e.at === 0 || (e.steps === 50 && e.trainMs > 0))).toBe(true);
    } finally {
      trainer.destroy();
    }
  });

  it("trained in pieces (the page's live training loss): the same bits, each piece reported, the interval's mean at the evaluation", async () => {
    const set = syntheticOmniglot({ characters: 30, seed: 5 });
    const c = { ...base, metaBatch: 4, hidden: 8, evalBatch: 8, steps: 7, evalEvery: 7 };
    const whole = await train(set, c, 7, 7);
    const pieces = await FewshotTrainer.create(t.gpu, set, c);
    try {
      const trained: { at: number; loss: number }[] = [];
      const evals: Evaluation[] = [];
      await trainLoop(FEWSHOT, pieces, c, { resumed: false, chunk: 3, onTrained: (at, v) => void trained.push({ at, loss: v.trainLoss }), onEvaluation: (e) => void evals.push(e) });
      expect(trained.map((p) => p.at)).toEqual([3, 6]); // the last piece comes with the evaluation at 7
      expect(evals.map((e) => [e.at, e.steps])).toEqual([[0, 0], [7, 7]]);
      // The mean over the interval, combined from the pieces' means: equal up to float rounding.
      expect(evals[1].values.trainLoss as number).toBeCloseTo(whole.evals[1].values.trainLoss as number, 5);
      expect(evals[1].values.testLoss).toBe(whole.evals[1].values.testLoss);
      const [a, b] = [await whole.trainer.checkpoint(), await pieces.checkpoint()];
      expect(b.length).toBe(a.length);
      expect(b.every((v, i) => v === a[i])).toBe(true);
    } finally {
      whole.trainer.destroy();
      pieces.destroy();
    }
  });

  it('takes the dense path for an antialiased set, and a restored checkpoint continues with the same bits', async () => {
    const set = syntheticOmniglot({ characters: 30, grey: true, seed: 4 });
    const c = { ...base, metaBatch: 4, hidden: 8, evalBatch: 8 };
    const straight = await train(set, c, 6, 3);
    const half = await train(set, c, 3, 3);
    let resumed: FewshotTrainer | undefined;
    try {
      expect(straight.trainer.path).toBe('dense');
      const bytes = await half.trainer.checkpoint();
      // It says what it is: the experiment, and the set by the fingerprint of its pixels.
      const file = readCheckpoint(bytes, 'half.safetensors');
      expect(file.experiment).toBe('fewshot');
      expect(file.data).toEqual({ name: 'omniglot', source: '30 characters × 20 drawings, 28×28 area', fingerprint: { sha256: await sha256Hex(set.pixels), of: ['pixels (30 characters × 20 drawings, 28×28 area)'] } });
      const rest = { ...c, steps: 6, evalEvery: 3 };
      resumed = await FewshotTrainer.create(t.gpu, set, rest);
      resumed.restore(bytes, 'half.safetensors');
      expect(resumed.done).toBe(3);
      const evals: Evaluation[] = [];
      await trainLoop(FEWSHOT, resumed, rest, { resumed: true, onEvaluation: (e) => void evals.push(e) });
      expect(evals.map((e) => e.at)).toEqual([6]);
      expect(evals[0].values.testLoss).toBe(straight.evals[2].values.testLoss);
      const [a, b] = [await straight.trainer.checkpoint(), await resumed.checkpoint()];
      expect(b.length).toBe(a.length);
      expect(b.every((v, i) => v === a[i])).toBe(true);
      // Another model's checkpoint is refused with what differs.
      const other = await FewshotTrainer.create(t.gpu, set, { ...c, numShot: 2 });
      try {
        expect(() => other.restore(bytes, 'half.safetensors')).toThrow(/half\.safetensors was trained with other settings \(numShot 1 instead of 2\)/);
      } finally {
        other.destroy();
      }
    } finally {
      straight.trainer.destroy();
      half.trainer.destroy();
      resumed?.destroy();
    }
  });

  it('interrupted between two evaluations, stops at that step, and a checkpoint there resumes with the same bits', async () => {
    const set = syntheticOmniglot({ characters: 30, seed: 7 });
    const c = { ...base, metaBatch: 4, hidden: 8, evalBatch: 8, steps: 9, evalEvery: 3 };
    const straight = await train(set, c, 9, 3);
    const cut: FewshotTrainer[] = [];
    try {
      // Stops at 4 (trained in one call), at 1 (inside the timed warm-up's first piece) and at 5 (in pieces of 2).
      for (const [at, extra] of [[4, {}], [1, { warmup: { steps: 2, onEstimate: () => undefined } }], [5, { chunk: 2 }]] as const) {
        const stopped = await FewshotTrainer.create(t.gpu, set, c);
        cut.push(stopped);
        const evals: Evaluation[] = [];
        const r = await trainLoop(FEWSHOT, stopped, c, { resumed: false, onEvaluation: (e) => void evals.push(e), interrupted: () => stopped.done >= at, ...extra });
        expect(stopped.done).toBe(at);
        expect(evals.map((e) => e.at)).toEqual(straight.evals.map((e) => e.at).filter((e) => e <= at)); // no evaluation where it stopped
        expect(r.evaluations).toEqual(evals);
        const resumed = await FewshotTrainer.create(t.gpu, set, c);
        cut.push(resumed);
        resumed.restore(await stopped.checkpoint(), 'stopped.safetensors');
        const rest: Evaluation[] = [];
        await trainLoop(FEWSHOT, resumed, c, { resumed: true, onEvaluation: (e) => void rest.push(e) });
        expect(rest.map((e) => e.at)).toEqual(straight.evals.map((e) => e.at).filter((e) => e > at));
        for (const e of rest) expect(e.values.testLoss).toBe(straight.evals.find((s) => s.at === e.at)?.values.testLoss);
        const [a, b] = [await straight.trainer.checkpoint(), await resumed.checkpoint()];
        expect(b.length).toBe(a.length);
        expect(b.every((v, i) => v === a[i])).toBe(true);
      }
    } finally {
      straight.trainer.destroy();
      for (const x of cut) x.destroy();
    }
  });

  it('times its first steps for an estimate without changing a bit: they are the run\'s own first steps', async () => {
    const set = syntheticOmniglot({ characters: 30, seed: 6 });
    const c = { ...base, metaBatch: 4, hidden: 8, evalBatch: 8, steps: 7, evalEvery: 3 };
    const straight = await train(set, c, 7, 3);
    const warmed = await FewshotTrainer.create(t.gpu, set, c);
    try {
      const evals: Evaluation[] = [];
      const estimates: Estimate[] = [];
      await trainLoop(FEWSHOT, warmed, c, { resumed: false, onEvaluation: (e) => void evals.push(e), warmup: { steps: 2, onEstimate: (e) => void estimates.push(e) } });
      expect(estimates).toHaveLength(1);
      // 7 steps; evaluations at 0, 3, 6 and 7.
      expect(estimates[0]).toMatchObject({ steps: 7, evaluations: 4 });
      expect(estimates[0].msPerStep).toBeGreaterThan(0);
      expect(estimates[0].seconds).toBeCloseTo((7 * estimates[0].msPerStep + 4 * estimates[0].evalMs) / 1000, 9);
      expect(evals.map((e) => e.at)).toEqual(straight.evals.map((e) => e.at));
      for (const [i, e] of evals.entries()) {
        expect(e.values.testLoss).toBe(straight.evals[i].values.testLoss);
        expect(e.steps).toBe(straight.evals[i].steps);
        // The first round's training loss is read in two parts and combined by steps: the same mean but for float rounding.
        if (e.steps > 0) expect(e.values.trainLoss).toBeCloseTo(straight.evals[i].values.trainLoss as number, 5);
      }
      const [a, b] = [await straight.trainer.checkpoint(), await warmed.checkpoint()];
      expect(b.length).toBe(a.length);
      expect(b.every((v, i) => v === a[i])).toBe(true);
    } finally {
      straight.trainer.destroy();
      warmed.destroy();
    }
  });

  it('times a longer warm-up in pieces within the first round, and counts the evaluation hook in the estimate, without changing a bit', async () => {
    const set = syntheticOmniglot({ characters: 30, seed: 6 });
    const c = { ...base, metaBatch: 4, hidden: 8, evalBatch: 8, steps: 7, evalEvery: 4 };
    const straight = await train(set, c, 7, 4);
    const warmed = await FewshotTrainer.create(t.gpu, set, c);
    try {
      const evals: Evaluation[] = [];
      const estimates: Estimate[] = [];
      const steps: number[] = [];
      // A hook that takes 50 ms (a checkpoint write, say); a warm-up asked for far more time than the round has.
      const onEvaluation = async (e: Evaluation): Promise<void> => {
        evals.push(e);
        await new Promise((r) => setTimeout(r, 50));
      };
      await trainLoop(FEWSHOT, warmed, c, { resumed: false, onEvaluation, onStep: (d) => steps.push(d), warmup: { steps: 1, seconds: 1e6, onEstimate: (e) => void estimates.push(e) } });
      expect(estimates).toHaveLength(1);
      expect(estimates[0].evalMs).toBeGreaterThanOrEqual(evals[0].evalMs + 49);
      expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(evals.map((e) => [e.at, e.steps])).toEqual(straight.evals.map((e) => [e.at, e.steps]));
      const [a, b] = [await straight.trainer.checkpoint(), await warmed.checkpoint()];
      expect(b.every((v, i) => v === a[i])).toBe(true);
    } finally {
      straight.trainer.destroy();
      warmed.destroy();
    }
  });

  it('refuses settings the data cannot serve, naming the flag', async () => {
    const set = syntheticOmniglot({ characters: 30, drawings: 5, seed: 5 });
    await expect(FewshotTrainer.create(t.gpu, set, { ...base, numShot: 5 })).rejects.toThrow(/--num_shot 5 needs 6 distinct drawings per character .* has 5; use --num_shot 4 or less/);
    // 30 characters split 20 / 2 / 8: N = 9 is more than the meta-test split has.
    await expect(FewshotTrainer.create(t.gpu, set, { ...base, numClasses: 9 })).rejects.toThrow(/--num_classes 9 is more than the 8 characters of the meta-test split/);
    const grey = syntheticOmniglot({ characters: 30, grey: true });
    await expect(FewshotTrainer.create(t.gpu, grey, { ...base, input: 'bags' })).rejects.toThrow(/--input bags needs a binary set/);
    await expect(FewshotTrainer.create(t.gpu, set, { ...base, hidden: 0 })).rejects.toThrow(/--hidden_size must be an integer from 1 up, not 0/);
  });
});
