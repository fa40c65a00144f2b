// Per-epoch metric charts for experiments with several tasks: one panel per metric (loss, log
// loss, accuracy, AUC, MSE, ...), one line per task and split ("income val"), epochs across.
import { lineChartSvg, type ChartOptions } from './chart-svg.ts';

/** One epoch's metrics: split ('train', 'val', 'test') → task → metric name → value. */
export interface EpochMetrics {
  epoch: number;
  splits: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, number | undefined>>>>>>;
}

// Known metrics come first, in this order, under these titles; others follow as first seen.
const TITLES: Record<string, string> = { loss: 'Loss', logloss: 'Log loss', accuracy: 'Accuracy', auc: 'AUC', mse: 'MSE' };

/** The chart; a metric a task or split lacks in some epoch leaves a gap in its line. */
export function epochChartSvg(epochs: readonly EpochMetrics[], options: ChartOptions = {}): string {
  const metrics: string[] = [];
  const lines: { split: string; task: string }[] = [];
  for (const e of epochs) {
    for (const [split, tasks] of Object.entries(e.splits)) {
      for (const [task, values] of Object.entries(tasks)) {
        if (!lines.some((l) => l.split === split && l.task === task)) lines.push({ split, task });
        for (const m of Object.keys(values)) if (!metrics.includes(m)) metrics.push(m);
      }
    }
  }
  const known = Object.keys(TITLES);
  const rank = (m: string): number => (known.includes(m) ? known.indexOf(m) : known.length);
  metrics.sort((a, b) => rank(a) - rank(b));
  const panels = metrics.map((metric) => ({
    title: TITLES[metric] ?? metric,
    xLabel: 'epoch',
    yLabel: TITLES[metric] ?? metric,
    series: lines
      .filter((l) => epochs.some((e) => e.splits[l.split]?.[l.task]?.[metric] !== undefined))
      .map((l) => ({
        name: `${l.task} ${l.split}`,
        x: epochs.map((e) => e.epoch),
        y: epochs.map((e) => e.splits[l.split]?.[l.task]?.[metric] ?? null),
      })),
  }));
  if (panels.length === 0) throw new RangeError('epochChartSvg: no metrics in the epochs given; pass at least one epoch with a value.');
  return lineChartSvg(panels, { columns: Math.min(3, panels.length), ...options });
}
