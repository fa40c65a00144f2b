// `--experiments hw0`: the course's four standard runs compared in a markdown table and an SVG
// chart. Text only: the CLI writes the files.
import { count } from '../../experiments/estimate.ts';
import type { Evaluation, Preset, RunResult } from '../../experiments/types.ts';
import { lineChartSvg } from '../../log/chart-svg.ts';
import { markdownTable } from '../../log/markdown.ts';
import type { RecommenderConfig } from './config.ts';

/** One epoch as --json prints it (epochs counted from 1: epoch 1 is the evaluation after the first). */
export interface EpochMetrics {
  epoch: number;
  /** Means over the epoch's batches, unweighted. */
  factorizationLoss: number;
  trainMse: number;
  jointLoss: number;
  mrr: number;
  testMse: number;
  /** Wall time of the epoch's training steps and of its evaluation. */
  trainMs: number;
  evalMs: number;
}

export function epochMetrics(e: Evaluation): EpochMetrics {
  const v = (k: string): number => e.values[k] ?? NaN;
  return {
    epoch: e.at,
    factorizationLoss: v('factorizationLoss'),
    trainMse: v('trainMse'),
    jointLoss: v('jointLoss'),
    mrr: v('mrr'),
    testMse: v('testMse'),
    trainMs: e.trainMs,
    evalMs: e.evalMs,
  };
}

const HW0_RUNS: { label: string; sharedEmbeddings: boolean; factorizationWeight: number; regressionWeight: number }[] = [
  { label: 'shared 0.99/0.01', sharedEmbeddings: true, factorizationWeight: 0.99, regressionWeight: 0.01 },
  { label: 'shared 0.5/0.5', sharedEmbeddings: true, factorizationWeight: 0.5, regressionWeight: 0.5 },
  { label: 'separate 0.5/0.5', sharedEmbeddings: false, factorizationWeight: 0.5, regressionWeight: 0.5 },
  { label: 'separate 0.99/0.01', sharedEmbeddings: false, factorizationWeight: 0.99, regressionWeight: 0.01 },
];

export const HW0: Preset<RecommenderConfig> = {
  name: 'hw0',
  help: 'the four standard runs (shared 0.99/0.01, shared 0.5/0.5,\nseparate 0.5/0.5, separate 0.99/0.01), a markdown table and an SVG chart',
  sets: ['factorization_weight', 'regression_weight', 'no_shared_embeddings'],
  runs: (base) => HW0_RUNS.map(({ label, ...weights }) => ({ label, dir: label.replace(/[ /]/g, '_'), config: { ...base, ...weights } })),
  report: (base, runs) => comparison(base, runs.map(({ label, result }) => ({ label, r: result }))),
};

function argmin(xs: number[]): number {
  return xs.reduce((best, x, i) => (x < xs[best] ? i : best), 0);
}

/** The comparison table (markdown) and chart (SVG) of finished runs. */
function comparison(base: RecommenderConfig, results: { label: string; r: RunResult<RecommenderConfig> }[]): { table: string; chart: string } {
  const runs = results.map(({ label, r }) => ({ label, epochs: r.evaluations.map(epochMetrics), msPerStep: r.msPerStep, secondsPerEpoch: r.seconds / r.evaluations.length }));
  const at = (epochs: EpochMetrics[], epoch: number): EpochMetrics | undefined => epochs.find((m) => m.epoch === epoch);
  const fmt = (x: number | undefined, d: number): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
  const rows = runs.map(({ label, epochs, msPerStep, secondsPerEpoch }) => {
    const last = epochs[epochs.length - 1];
    const mse = epochs.map((m) => m.testMse);
    const best = argmin(mse);
    return [
      label,
      fmt(at(epochs, 1)?.mrr, 4),
      fmt(at(epochs, 1)?.testMse, 3),
      fmt(at(epochs, 11)?.mrr, 4),
      fmt(at(epochs, 11)?.testMse, 3),
      fmt(at(epochs, 26)?.mrr, 4),
      fmt(at(epochs, 26)?.testMse, 3),
      `${fmt(last.mrr, 4)} (${last.epoch})`,
      fmt(last.testMse, 3),
      `${fmt(mse[best], 3)} (${epochs[best].epoch})`,
      fmt(Math.max(...epochs.map((m) => m.mrr)), 4),
      fmt(msPerStep, 2),
      fmt(secondsPerEpoch, 2),
    ];
  });
  const headers = ['run', 'MRR e1', 'MSE e1', 'MRR e11', 'MSE e11', 'MRR e26', 'MSE e26', 'MRR final (epoch)', 'MSE final', 'min MSE (epoch)', 'best MRR', 'ms/step', 's/epoch'];
  const c = base;
  const table = [
    `# CS330 homework 0: the four standard runs`,
    '',
    `MovieLens ratings: ${count(c.epochs, 'epoch')}, batch ${c.batchSize}, lr ${c.lr}, embedding dim ${c.embeddingDim}, MLP ${c.layerSizes.join('-')}-1, test fraction ${c.testFraction}, seed ${c.seed}${c.clipPredictedRating ? ', clipped ratings' : ''}${c.sparseAdam ? ', sparse Adam' : ''}. Epochs count from 1 (epoch 1 is the evaluation after the first epoch, as in every log); metrics are on the held-out split after each epoch.`,
    '',
    markdownTable(headers, rows, ['left', ...headers.slice(1).map(() => 'right' as const)]),
    '',
  ].join('\n');
  const series = (key: 'mrr' | 'testMse'): { name: string; x: number[]; y: number[] }[] =>
    runs.map(({ label, epochs }) => ({ name: label, x: epochs.map((m) => m.epoch), y: epochs.map((m) => m[key]) }));
  const chart = lineChartSvg(
    [
      { title: 'Mean reciprocal rank (test)', xLabel: 'epoch', yLabel: 'MRR', series: series('mrr') },
      { title: 'Rating MSE (test)', xLabel: 'epoch', yLabel: 'MSE', series: series('testMse') },
    ],
    { title: `CS330 hw0 on MovieLens (seed ${c.seed})` },
  );
  return { table, chart };
}
