// What a few-shot run reports: the final test accuracy (mean of the last evaluations, as noisy
// single batches are), and for `--experiments hw1` a markdown table and an SVG chart of test
// accuracy per step. Text only: the CLI writes the files, a web page could show them.
import { count } from '../../experiments/estimate.ts';
import type { Evaluation, Preset, RunResult } from '../../experiments/types.ts';
import { lineChartSvg } from '../../log/chart-svg.ts';
import { markdownTable } from '../../log/markdown.ts';
import { HW1_GRID, type FewshotConfig } from './config.ts';

/** Evaluations averaged for the final figure. */
export const FINAL_WINDOW = 5;

/** How many evaluations the final figure averages: the last FINAL_WINDOW, or all there are. */
export function finalCount(evals: readonly Evaluation[]): number {
  return Math.min(FINAL_WINDOW, evals.length);
}

/** Mean of the last `window` evaluations' value (fewer when there are fewer). */
export function finalMean(evals: readonly Evaluation[], key: 'testAccuracy' | 'testLoss', window = FINAL_WINDOW): number {
  const last = evals.slice(-window);
  return last.reduce((s, e) => s + (e.values[key] ?? NaN), 0) / last.length;
}

const label = (c: FewshotConfig): string => `N=${c.numClasses}, K=${c.numShot}`;

export const HW1: Preset<FewshotConfig> = {
  name: 'hw1',
  help: `the homework's grid (N, K) = ${HW1_GRID.map(([n, k]) => `(${n},${k})`).join(', ')}, then a\nmarkdown table and an SVG chart of test accuracy in the logdir`,
  sets: ['num_classes', 'num_shot'],
  runs: (base) =>
    HW1_GRID.map(([numClasses, numShot]) => {
      const config = { ...base, numClasses, numShot };
      return { label: label(config), dir: `N${numClasses}_K${numShot}`, config };
    }),
  json: (base) => ({ steps: base.steps, eval_every: base.evalEvery }),
  report: (base, runs, adapter) => ({
    table: experimentsMarkdown(base, runs.map((r) => r.result), adapter),
    chart: experimentsSvg(runs.map((r) => r.result), `CS330 hw1 on Omniglot: ${base.steps} steps, seed ${base.seed}`),
  }),
};

function experimentsMarkdown(base: FewshotConfig, runs: readonly RunResult<FewshotConfig>[], adapter: string): string {
  const steps = base.steps;
  const marks = [0, ...[0.2, 0.4, 0.6, 0.8, 1].map((f) => Math.round((steps * f) / 100) * 100)].filter((s, i, a) => s <= steps && a.indexOf(s) === i);
  const acc = (r: RunResult<FewshotConfig>, s: number): string => {
    const v = r.evaluations.find((x) => x.at === s)?.values.testAccuracy;
    return typeof v === 'number' ? v.toFixed(3) : '–';
  };
  const headers = ['run', 'chance', ...marks.map((s) => `acc @${s}`), `final acc (last ${runs.length ? finalCount(runs[0].evaluations) : FINAL_WINDOW})`, 'final test loss', 'ln N', 'ms/step'];
  const rows = runs.map((r) => [
    label(r.config),
    (1 / r.config.numClasses).toFixed(3),
    ...marks.map((s) => acc(r, s)),
    finalMean(r.evaluations, 'testAccuracy').toFixed(3),
    finalMean(r.evaluations, 'testLoss').toFixed(3),
    Math.log(r.config.numClasses).toFixed(3),
    r.msPerStep.toFixed(1),
  ]);
  return [
    '# CS330 homework 1: few-shot Omniglot with a memory-augmented LSTM',
    '',
    `${count(steps, 'step')} of Adam (lr ${base.learningRate}), meta-batch ${base.metaBatch}, hidden size ${base.hidden}, seed ${base.seed}; ` +
      `test accuracy and loss on ${base.evalBatch} fresh meta-test episodes per evaluation. Adapter: ${adapter}.`,
    '',
    markdownTable(headers, rows, ['left', ...headers.slice(1).map(() => 'right' as const)]),
    '',
    'The course reference (PyTorch, 25,000 steps) reaches about .95 (N=2, K=1), .96 (2, 2), .86 (3, 1) and .61–.74 (4, 1).',
    '',
  ].join('\n');
}

function experimentsSvg(runs: readonly RunResult<FewshotConfig>[], title: string): string {
  const series = (key: 'testAccuracy' | 'testLoss'): { name: string; x: number[]; y: number[] }[] =>
    runs.map((r) => ({ name: label(r.config), x: r.evaluations.map((e) => e.at), y: r.evaluations.map((e) => e.values[key] ?? NaN) }));
  return lineChartSvg(
    [
      { title: 'Accuracy/test', xLabel: 'step', yLabel: 'query accuracy', series: series('testAccuracy') },
      { title: 'Loss/test', xLabel: 'step', yLabel: 'cross-entropy', series: series('testLoss') },
    ],
    { title },
  );
}
