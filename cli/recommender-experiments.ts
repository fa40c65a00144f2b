// `shadertrain recommender --experiments hw0`: the course's four standard runs, one after
// another on the same data, then a markdown table and an SVG chart comparing them.
import { join } from 'node:path';
import { writeFileAtomic } from '../src/data/files-node.ts';
import { lineChartSvg } from '../src/log/chart-svg.ts';
import { markdownTable } from '../src/log/markdown.ts';
import type { RecommenderConfig } from '../src/models/recommender/config.ts';
import type { RunResult } from './recommender.ts';

export interface Experiment {
  label: string;
  sharedEmbeddings: boolean;
  factorizationWeight: number;
  regressionWeight: number;
}

export const HW0_RUNS: Experiment[] = [
  { label: 'shared 0.99/0.01', sharedEmbeddings: true, factorizationWeight: 0.99, regressionWeight: 0.01 },
  { label: 'shared 0.5/0.5', sharedEmbeddings: true, factorizationWeight: 0.5, regressionWeight: 0.5 },
  { label: 'separate 0.5/0.5', sharedEmbeddings: false, factorizationWeight: 0.5, regressionWeight: 0.5 },
  { label: 'separate 0.99/0.01', sharedEmbeddings: false, factorizationWeight: 0.99, regressionWeight: 0.01 },
];

export interface ExperimentReport {
  table: string;
  chart: string;
  runs: { label: string; logdir: string; ms_per_step: number; seconds_per_epoch: number; epochs: RunResult['epochs'] }[];
}

type Train = (c: RecommenderConfig, logdir: string, label: string) => Promise<RunResult>;

function argmin(xs: number[]): number {
  return xs.reduce((best, x, i) => (x < xs[best] ? i : best), 0);
}

export async function runExperiments(base: RecommenderConfig, runs: Experiment[], logdir: string, train: Train): Promise<ExperimentReport> {
  const results: { e: Experiment; r: RunResult }[] = [];
  for (const [i, e] of runs.entries()) {
    const { label, ...weights } = e;
    const dir = join(logdir, label.replace(/[ /]/g, '_'));
    results.push({ e, r: await train({ ...base, ...weights }, dir, `[${i + 1}/${runs.length} ${label}]`) });
  }
  return writeComparison(results, base, logdir);
}

/** The comparison table (markdown) and chart (SVG) of finished runs, written into `logdir`. */
export async function writeComparison(results: { e: Pick<Experiment, 'label'>; r: RunResult }[], base: RecommenderConfig, logdir: string): Promise<ExperimentReport> {
  const at = (r: RunResult, epoch: number): RunResult['epochs'][number] | undefined => r.epochs.find((m) => m.epoch === epoch);
  const fmt = (x: number | undefined, d: number): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
  const rows = results.map(({ e, r }) => {
    const last = r.epochs[r.epochs.length - 1];
    const mse = r.epochs.map((m) => m.testMse);
    const best = argmin(mse);
    return [
      e.label,
      fmt(at(r, 0)?.mrr, 4),
      fmt(at(r, 0)?.testMse, 3),
      fmt(at(r, 10)?.mrr, 4),
      fmt(at(r, 10)?.testMse, 3),
      fmt(at(r, 25)?.mrr, 4),
      fmt(at(r, 25)?.testMse, 3),
      `${fmt(last.mrr, 4)} (${last.epoch})`,
      fmt(last.testMse, 3),
      `${fmt(mse[best], 3)} (${r.epochs[best].epoch})`,
      fmt(Math.max(...r.epochs.map((m) => m.mrr)), 4),
      fmt(r.msPerStep, 2),
      fmt(r.secondsPerEpoch, 2),
    ];
  });
  const headers = ['run', 'MRR e0', 'MSE e0', 'MRR e10', 'MSE e10', 'MRR e25', 'MSE e25', 'MRR final (epoch)', 'MSE final', 'min MSE (epoch)', 'best MRR', 'ms/step', 's/epoch'];
  const c = base;
  const text = [
    `# CS330 homework 0: the four standard runs`,
    '',
    `MovieLens ratings: ${c.epochs} epochs, batch ${c.batchSize}, lr ${c.lr}, embedding dim ${c.embeddingDim}, MLP ${c.layerSizes.join('-')}-1, test fraction ${c.testFraction}, seed ${c.seed}${c.clipPredictedRating ? ', clipped ratings' : ''}${c.sparseAdam ? ', sparse Adam' : ''}. Epochs count from 0; metrics are on the held-out split after each epoch.`,
    '',
    markdownTable(headers, rows, ['left', ...headers.slice(1).map(() => 'right' as const)]),
    '',
  ].join('\n');
  const series = (key: 'mrr' | 'testMse'): { name: string; x: number[]; y: number[] }[] =>
    results.map(({ e, r }) => ({ name: e.label, x: r.epochs.map((m) => m.epoch), y: r.epochs.map((m) => m[key]) }));
  const svg = lineChartSvg(
    [
      { title: 'Mean reciprocal rank (test)', xLabel: 'epoch', yLabel: 'MRR', series: series('mrr') },
      { title: 'Rating MSE (test)', xLabel: 'epoch', yLabel: 'MSE', series: series('testMse') },
    ],
    { title: `CS330 hw0 on MovieLens (seed ${c.seed})` },
  );
  const table = join(logdir, 'comparison.md');
  const chart = join(logdir, 'comparison.svg');
  await writeFileAtomic(table, new TextEncoder().encode(text));
  await writeFileAtomic(chart, new TextEncoder().encode(svg));
  return {
    table,
    chart,
    runs: results.map(({ e, r }) => ({ label: e.label, logdir: r.logdir, ms_per_step: r.msPerStep, seconds_per_epoch: r.secondsPerEpoch, epochs: r.epochs })),
  };
}
