// The charts every multi-task run leaves in its log folder: per task and split, loss, log loss,
// accuracy and AUC (binary) or MSE (regression) per epoch, and the final test predictions' ROC
// and precision–recall curves, one panel per binary task; for mixtures of experts, how much each
// gate uses each expert.
import { count } from '../../experiments/estimate.ts';
import type { RunResult } from '../../experiments/types.ts';
import { prCurve, rocCurve, auc } from '../../metrics/binary.ts';
import { prChartSvg, rocChartSvg, type PrPanel, type CurvePanel, type RocSeries } from '../../log/chart-curves.ts';
import { epochChartSvg, type EpochMetrics } from '../../log/chart-epochs.ts';
import { markdownTable } from '../../log/markdown.ts';
import { taskSpecs, type MultitaskConfig } from './config.ts';
import { gateChartSvg, gateUsage } from './gates.ts';
import { lossLabels } from './model.ts';
import { taskColumns } from './scores.ts';
import type { MultitaskTrainer } from './trainer.ts';

/** Points kept per curve: enough to look smooth, few enough for a small SVG. */
const CURVE_POINTS = 400;

export async function runCharts(trainer: MultitaskTrainer, r: RunResult<MultitaskConfig>): Promise<Record<string, string>> {
  const c = r.config;
  const tasks = taskSpecs(c);
  const num = (v: number | null | undefined): number | undefined => (typeof v === 'number' ? v : undefined);
  const epochs: EpochMetrics[] = r.evaluations.map((e) => {
    const split = (s: 'val' | 'test'): Record<string, Record<string, number | undefined>> =>
      Object.fromEntries(
        tasks.map((t) => {
          const k = `${s}_${t.name}`;
          const m = t.kind === 'binary' ? { auc: num(e.values[`${k}_auc`]), logloss: num(e.values[`${k}_logloss`]), accuracy: num(e.values[`${k}_accuracy`]) } : { mse: num(e.values[`${k}_mse`]) };
          return [t.name, m];
        }),
      );
    const train = Object.fromEntries(lossLabels(c).map((l) => [l, { loss: num(e.values[`train_${l}_loss`]) }]));
    return { epoch: e.at, splits: { train, val: split('val'), test: split('test') } };
  });
  const files: Record<string, string> = { 'metrics.svg': epochChartSvg(epochs, { title: `${c.model} on ${c.dataset}, per epoch` }) };
  const p = trainer.last.get('test');
  const binary = tasks.map((t, k) => ({ t, k })).filter(({ t }) => t.kind === 'binary');
  if (p && binary.length) {
    const rows = trainer.data.test;
    const cols = taskColumns(c, p, rows.count).tasks;
    const roc: CurvePanel<RocSeries>[] = [];
    const pr: PrPanel[] = [];
    for (const { t, k } of binary) {
      const labels = new Float32Array(rows.count);
      let positives = 0;
      let present = 0;
      for (let i = 0; i < rows.count; i++) {
        labels[i] = rows.labels[i * tasks.length + k];
        if (!Number.isNaN(labels[i])) (present++, (positives += labels[i]));
      }
      if (positives === 0 || positives === present) continue;
      const a = rocCurve(cols[k], labels, { maxPoints: CURVE_POINTS });
      const b = prCurve(cols[k], labels, { maxPoints: CURVE_POINTS });
      roc.push({ title: t.name, series: [{ name: c.model, fpr: a.fpr, tpr: a.tpr, auc: auc(cols[k], labels) }] });
      pr.push({ title: t.name, prevalence: positives / present, series: [{ name: c.model, recall: b.recall, precision: b.precision, averagePrecision: b.averagePrecision }] });
    }
    if (roc.length) {
      files['roc.svg'] = rocChartSvg(roc, { title: `${c.model} on ${c.dataset}: ROC of the final test predictions` });
      files['pr.svg'] = prChartSvg(pr, { title: `${c.model} on ${c.dataset}: precision–recall of the final test predictions` });
    }
  }
  const gates = await gateUsage(trainer);
  if (gates) files['gates.svg'] = gateChartSvg(gates, `${c.model} on ${c.dataset}: how much each gate uses each expert`);
  if (c.model === 'aux' && trainer.data.truth) files['recovered.md'] = await recovered(trainer);
  return files;
}

/**
 * The auxiliary-task model's learned parameters beside the generator's: the shared layer's
 * weights estimate B1 (the auxiliary output is x·B1), and the main task's weights on [that
 * output, z] and its bias estimate b4, b3 and b0. Unstandardized with the training statistics.
 */
async function recovered(trainer: MultitaskTrainer): Promise<string> {
  const w = await trainer.weights();
  const truth = trainer.data.truth as Record<string, number[]>;
  const cols = trainer.data.continuous;
  const shared = trainer.layout.shared.map((i) => cols[i]);
  const z = cols[trainer.layout.private[0]];
  const W = w.get('shared.continuous.weight') as Float32Array;
  const main = w.get('main.weight') as Float32Array;
  const mainBias = (w.get('main.bias') as Float32Array)[0];
  const sharedBias = (w.get('shared.continuous.bias') as Float32Array)[0];
  // aux = Σ W_j (x_j − μ_j)/σ_j + c, so x_j's coefficient is W_j/σ_j; main = v·aux + u·(z − μ_z)/σ_z + b.
  const b1 = shared.map((col, j) => W[j] / col.std);
  const auxConst = sharedBias - shared.reduce((a, col, j) => a + (W[j] * col.mean) / col.std, 0);
  const rows: string[][] = [
    ...b1.map((v, j) => [`B1[${j + 1}] (${shared[j].name})`, truth.B1[j].toFixed(3), v.toFixed(3)]),
    ['b4 (on x·B1)', truth.b4[0].toFixed(3), main[0].toFixed(3)],
    ['b3 (on z)', truth.b3[0].toFixed(3), (main[1] / z.std).toFixed(3)],
    ['b0', truth.b0[0].toFixed(3), (mainBias + main[0] * auxConst - (main[1] * z.mean) / z.std).toFixed(3)],
  ];
  return `# The auxiliary-task model's parameters\n\n${trainer.data.source}, after ${count(trainer.done, 'epoch')}.\n\n${markdownTable(['parameter', 'true', 'learned'], rows, ['left', 'right', 'right'])}\n`;
}
