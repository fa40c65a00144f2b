// The gates' use of the experts (the page's and the log folder's gates.svg): one row per gate
// that sums to 1, MMoE's gates named by their tasks, OMoE's one shared gate, none without gates;
// categorical fields (packed table rows) and continuous columns both count. Node and Chromium.
import { describe, expect, it } from 'vitest';
import { buildTabular } from '../src/data/tabular/build.ts';
import { MULTITASK_DEFAULTS, type MultitaskConfig } from '../src/models/multitask/config.ts';
import { gateChartSvg, gateUsage } from '../src/models/multitask/gates.ts';
import { MultitaskTrainer } from '../src/models/multitask/trainer.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

// A CSV with a categorical column, so the gate layer has a packed table as well as a continuous weight.
function csv(): Uint8Array {
  const lines = ['a,b,x,kind'];
  for (let i = 0; i < 300; i++) lines.push(`${i % 2},${(i * 7) % 3 === 0 ? 1 : 0},${((i % 13) / 6 - 1).toFixed(3)},k${i % 5}`);
  return new TextEncoder().encode(`${lines.join('\n')}\n`);
}

const config = (model: MultitaskConfig['model']): MultitaskConfig => ({ ...MULTITASK_DEFAULTS, dataset: 'csv', labels: ['a', 'b'], model, rows: 0, batchSize: 64, experts: 3, expertUnits: 4, towerUnits: 4, bottomUnits: 8, lr: 0.05 });

async function usageOf(model: MultitaskConfig['model']) {
  const c = config(model);
  const tr = await MultitaskTrainer.create(t.gpu, buildTabular(c, [{ name: 'rows.csv', bytes: csv() }]), c);
  try {
    await tr.train(2);
    return { usage: await gateUsage(tr), test: tr.data.test.count, fields: tr.data.categorical.length };
  } finally {
    tr.destroy();
  }
}

describe('gate usage', () => {
  it('MMoE: a row per task over every expert, each a distribution, averaged over the test rows', async () => {
    const { usage, test, fields } = await usageOf('mmoe');
    expect(fields).toBe(1);
    expect(usage).not.toBeNull();
    const u = usage as NonNullable<typeof usage>;
    expect(u.gates).toEqual(['a', 'b']);
    expect(u.experts).toBe(3);
    expect(u.rows).toBe(test);
    for (const row of u.usage) {
      expect(row).toHaveLength(3);
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 9);
      for (const v of row) expect(v).toBeGreaterThan(0);
    }
    const svg = gateChartSvg(u, 'mmoe & <csv>');
    expect(svg).toContain('mmoe &amp; &lt;csv&gt;');
    expect(svg.match(/>expert \d</g)).toHaveLength(3);
  });

  it('OMoE has one shared gate; shared-bottom has none', async () => {
    expect((await usageOf('omoe')).usage?.gates).toEqual(['all tasks']);
    expect((await usageOf('shared-bottom')).usage).toBeNull();
  });
});
