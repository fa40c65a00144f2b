// What a few-shot run reports: the final test accuracy (mean of the last evaluations, as noisy
// single batches are), and for --experiments a markdown table and an SVG chart of test
// accuracy per step. Text only: the CLI writes the files, a web page could show them.
import { lineChartSvg } from '../../log/chart-svg.ts';
import { markdownTable } from '../../log/markdown.ts';
import type { FewshotConfig } from './config.ts';
import type { FewshotEval } from './train.ts';

/** Evaluations averaged for the final figure. */
export const FINAL_WINDOW = 5;

export interface FewshotRunSummary {
  numClasses: number;
  numShot: number;
  evals: FewshotEval[];
  /** Mean wall time per training step (evaluations excluded). */
  msPerStep: number;
  seconds: number;
}

/** Mean of the last `window` evaluations' value (fewer when there are fewer). */
export function finalMean(evals: readonly FewshotEval[], key: 'testAccuracy' | 'testLoss', window = FINAL_WINDOW): number {
  const last = evals.slice(-window);
  return last.reduce((s, e) => s + e[key], 0) / last.length;
}

/** The evaluation at `step`, if there was one. */
export function evalAt(evals: readonly FewshotEval[], step: number): FewshotEval | undefined {
  return evals.find((e) => e.step === step);
}

const label = (r: { numClasses: number; numShot: number }): string => `N=${r.numClasses}, K=${r.numShot}`;

export function experimentsMarkdown(base: FewshotConfig, steps: number, runs: readonly FewshotRunSummary[], adapter: string): string {
  const marks = [0, ...[0.2, 0.4, 0.6, 0.8, 1].map((f) => Math.round((steps * f) / 100) * 100)].filter((s, i, a) => s <= steps && a.indexOf(s) === i);
  const acc = (r: FewshotRunSummary, s: number): string => {
    const e = evalAt(r.evals, s);
    return e ? e.testAccuracy.toFixed(3) : '–';
  };
  const headers = ['run', 'chance', ...marks.map((s) => `acc @${s}`), `final acc (last ${FINAL_WINDOW})`, 'final test loss', 'ln N', 'ms/step'];
  const rows = runs.map((r) => [
    label(r),
    (1 / r.numClasses).toFixed(3),
    ...marks.map((s) => acc(r, s)),
    finalMean(r.evals, 'testAccuracy').toFixed(3),
    finalMean(r.evals, 'testLoss').toFixed(3),
    Math.log(r.numClasses).toFixed(3),
    r.msPerStep.toFixed(1),
  ]);
  return [
    '# CS330 homework 1: few-shot Omniglot with a memory-augmented LSTM',
    '',
    `${steps} steps of Adam (lr ${base.learningRate}), meta-batch ${base.metaBatch}, hidden size ${base.hidden}, seed ${base.seed}; ` +
      `test accuracy and loss on ${base.evalBatch} fresh meta-test episodes per evaluation. Adapter: ${adapter}.`,
    '',
    markdownTable(headers, rows, ['left', ...headers.slice(1).map(() => 'right' as const)]),
    '',
    'The course reference (PyTorch, 25,000 steps) reaches about .95 (N=2, K=1), .96 (2, 2), .86 (3, 1) and .61–.74 (4, 1).',
    '',
  ].join('\n');
}

export function experimentsSvg(runs: readonly FewshotRunSummary[], title: string): string {
  return lineChartSvg(
    [
      { title: 'Accuracy/test', xLabel: 'step', yLabel: 'query accuracy', series: runs.map((r) => ({ name: label(r), x: r.evals.map((e) => e.step), y: r.evals.map((e) => e.testAccuracy) })) },
      { title: 'Loss/test', xLabel: 'step', yLabel: 'cross-entropy', series: runs.map((r) => ({ name: label(r), x: r.evals.map((e) => e.step), y: r.evals.map((e) => e.testLoss) })) },
    ],
    { title },
  );
}
