// The multi-task trainer end to end on small generated tables: every architecture trains and
// improves on its untrained self, a checkpoint resumes byte-identically (with dropout, whose
// masks follow the step), alternating and uncertainty-weighted training run, and ESMM's
// predictions are pCTR, pCVR and their product. Node and Chromium.
import { describe, expect, it } from 'vitest';
import { buildTabular } from '../src/data/tabular/build.ts';
import { MULTITASK_DEFAULTS, type MultitaskConfig } from '../src/models/multitask/config.ts';
import { MultitaskTrainer } from '../src/models/multitask/trainer.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

const small = (o: Partial<MultitaskConfig>): MultitaskConfig => ({
  ...MULTITASK_DEFAULTS,
  dataset: 'mmoe-synthetic',
  d: 12,
  rows: 1200,
  batchSize: 128,
  bottomUnits: 16,
  towerUnits: 4,
  experts: 3,
  expertUnits: 4,
  embeddingDim: 3,
  lr: 1e-2,
  ...o,
});

async function withTrainer<T>(c: MultitaskConfig, fn: (tr: MultitaskTrainer) => Promise<T>): Promise<T> {
  const tr = await MultitaskTrainer.create(t.gpu, buildTabular(c, []), c);
  try {
    return await fn(tr);
  } finally {
    tr.destroy();
  }
}

describe('multi-task trainer', () => {
  for (const model of ['single', 'shared-bottom', 'omoe', 'mmoe'] as const) {
    it(`${model} lowers both tasks' test MSE on mmoe-synthetic`, async () => {
      await withTrainer(small({ model }), async (tr) => {
        const before = (await tr.evaluate()).values;
        const r = await tr.train(4);
        expect(r.steps).toBe(4 * Math.ceil(1000 / 128));
        const after = (await tr.evaluate()).values;
        for (const y of ['y1', 'y2']) expect(after[`test_${y}_mse`]).toBeLessThan(0.9 * before[`test_${y}_mse`]);
        expect(Number.isFinite(r.values.train_y1_loss)).toBe(true);
      });
    });
  }

  it('resumes from a checkpoint byte for byte (dropout included)', async () => {
    const c = small({ model: 'mmoe', dropout: 0.2 });
    const straight = await withTrainer(c, async (tr) => {
      await tr.train(2);
      return tr.checkpoint();
    });
    const half = await withTrainer(c, async (tr) => {
      await tr.train(1);
      return tr.checkpoint();
    });
    const resumed = await withTrainer(c, async (tr) => {
      tr.restore(half, 'half.safetensors');
      expect(tr.done).toBe(1);
      await tr.train(1);
      return tr.checkpoint();
    });
    expect(resumed.length).toBe(straight.length);
    expect(resumed.every((b, i) => b === straight[i])).toBe(true);
    // Another setting is refused by name.
    await withTrainer({ ...c, experts: 4 }, async (tr) => {
      expect(() => tr.restore(half, 'half.safetensors')).toThrow(/half.safetensors was trained with other settings \(experts: 3\); resume with the same flags/);
    });
  });

  it('alternating and uncertainty-weighted training run and learn', async () => {
    for (const o of [{ training: 'alternating' as const }, { lossWeighting: 'uncertainty' as const }]) {
      await withTrainer(small({ model: 'shared-bottom', ...o }), async (tr) => {
        const before = (await tr.evaluate()).values.test_y1_mse;
        await tr.train(3);
        expect((await tr.evaluate()).values.test_y1_mse).toBeLessThan(before);
        if (o.lossWeighting) expect([...(await tr.weights()).keys()]).toContain('log_vars');
      });
    }
  });

  it('esmm predicts pCTR, pCVR and pCTCVR = pCTR·pCVR, and learns the clicks', async () => {
    const c = small({ model: 'esmm', dataset: 'esmm-synthetic', rows: 6000, batchSize: 256 });
    await withTrainer(c, async (tr) => {
      await tr.train(2);
      const ev = (await tr.evaluate()).values;
      expect(ev.test_click_auc).toBeGreaterThan(0.6);
      for (const k of ['test_conversion_auc', 'test_ctcvr_auc', 'test_conversion_all_auc']) expect(ev[k]).toBeGreaterThan(0);
      const p = tr.last.get('test');
      expect(p?.outputs).toBe(3);
      const v = p?.values as Float32Array;
      for (let r = 0; r < 50; r++) expect(v[r * 3 + 2]).toBeCloseTo(v[r * 3] * v[r * 3 + 1], 6);
    });
  });

  it('the auxiliary-task model trains on balanced batches', async () => {
    const c = small({ model: 'aux', dataset: 'aux-synthetic', auxRows: 4000, mainRows: 60, batchSize: 64, lr: 0.05 });
    await withTrainer(c, async (tr) => {
      expect(tr.stepsPerEpoch).toBe(Math.ceil(4000 / 32));
      await tr.train(3);
      const ev = (await tr.evaluate()).values;
      expect(ev.test_aux_mse).toBeLessThan(0.5);
      expect(ev.test_main_auc).toBeGreaterThan(0.7);
    });
  });
});
