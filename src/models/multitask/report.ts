// `--experiments NAME`: the multi-task comparisons, each a grid of runs over seeds, a markdown
// table of the final epoch's test metrics (mean ± sd over seeds), its rows again for --json, and
// an SVG chart. Text only: the CLI writes the files.
import { count } from '../../experiments/estimate.ts';
import type { Preset, RunResult } from '../../experiments/types.ts';
import { lineChartSvg, type ChartSeries } from '../../log/chart-svg.ts';
import { markdownTable, meanStd } from '../../log/markdown.ts';
import type { MultitaskConfig, MultitaskModel } from './config.ts';

/** Seeds per configuration: base --seed, +1, +2. */
const SEEDS = 3;

interface Run {
  /** The row it belongs to (runs of one row differ only in seed). */
  row: Record<string, string | number>;
  config: MultitaskConfig;
}

interface Column {
  header: string;
  /** The final evaluation's value of a run. */
  value(r: RunResult<MultitaskConfig>): number;
  digits: number;
}

interface Spec {
  name: string;
  /** Seeds per configuration (default SEEDS). */
  seeds?: number;
  help: string;
  sets: string[];
  grid(base: MultitaskConfig): Run[];
  columns: Column[];
  /** What the chart plots: a value per epoch (mean over a row's seeds), or a value against a row field. */
  chart: { title: string; panels: { title: string; key: string; yLabel: string }[] } & ({ x: 'epoch' } | { x: string; series: string });
  intro(base: MultitaskConfig): string;
}

const last = (r: RunResult<MultitaskConfig>, key: string): number => {
  const e = r.evaluations[r.evaluations.length - 1];
  return typeof e?.values[key] === 'number' ? (e.values[key] as number) : NaN;
};

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]): number => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

const seeds = (base: MultitaskConfig, row: Record<string, string | number>, config: Partial<MultitaskConfig>, n = SEEDS): Run[] =>
  Array.from({ length: n }, (_, k) => ({ row, config: { ...base, ...config, seed: base.seed + k } }));

const rowKey = (row: Record<string, string | number>): string => Object.values(row).join(' ');

function makePreset(s: Spec): Preset<MultitaskConfig> {
  const grouped = (runs: { label: string; result: RunResult<MultitaskConfig> }[], base: MultitaskConfig) => {
    const grid = s.grid(base);
    const groups = new Map<string, { row: Record<string, string | number>; results: RunResult<MultitaskConfig>[] }>();
    runs.forEach((r, i) => {
      const row = grid[i].row;
      const k = rowKey(row);
      if (!groups.has(k)) groups.set(k, { row, results: [] });
      groups.get(k)?.results.push(r.result);
    });
    return [...groups.values()];
  };
  const rowsOf = (base: MultitaskConfig, runs: { label: string; result: RunResult<MultitaskConfig> }[]) =>
    grouped(runs, base).map(({ row, results }) => {
      const out: Record<string, unknown> = { ...row, seeds: results.length };
      for (const c of s.columns) {
        const xs = results.map(c.value);
        out[c.header] = { mean: mean(xs), sd: sd(xs) };
      }
      out['ms/step'] = mean(results.map((r) => r.msPerStep));
      return out;
    });
  return {
    name: s.name,
    help: s.help,
    sets: s.sets,
    runs: (base) =>
      s.grid(base).map((r) => {
        const label = `${rowKey(r.row)} seed ${r.config.seed}`;
        return { label, dir: label.replace(/[^A-Za-z0-9.=-]+/g, '_'), config: r.config };
      }),
    rows: rowsOf,
    report(base, runs, adapter) {
      const groups = grouped(runs, base);
      const fields = Object.keys(groups[0]?.row ?? {});
      const headers = [...fields, ...s.columns.map((c) => `${c.header} (mean ± sd)`), 'ms/step'];
      const rows = groups.map(({ row, results }) => [
        ...fields.map((f) => String(row[f])),
        ...s.columns.map((c) => {
          const xs = results.map(c.value);
          return meanStd(mean(xs), sd(xs), c.digits);
        }),
        mean(results.map((r) => r.msPerStep)).toFixed(2),
      ]);
      const table = [
        `# Multi-task: ${s.name}`,
        '',
        `${s.intro(base)} Each row: ${groups[0]?.results.length ?? 0} seeds from ${base.seed}; the final epoch's test metrics, mean ± sample sd. Adapter: ${adapter}.`,
        '',
        markdownTable(headers, rows, [...fields.map(() => 'left' as const), ...s.columns.map(() => 'right' as const), 'right']),
        '',
      ].join('\n');
      const ch = s.chart;
      const panels = ch.panels.map((p) => {
        let series: ChartSeries[];
        if (ch.x === 'epoch') {
          series = groups.map(({ row, results }) => {
            const n = Math.min(...results.map((r) => r.evaluations.length));
            const y = Array.from({ length: n }, (_, e) => mean(results.map((r) => (r.evaluations[e].values[p.key] as number) ?? NaN)));
            return { name: rowKey(row), x: Array.from({ length: n }, (_, e) => results[0].evaluations[e].at), y };
          });
        } else {
          const { x, series: by } = ch as { x: string; series: string };
          const names = [...new Set(groups.map((gr) => String(gr.row[by])))];
          series = names.map((name) => {
            const gs = groups.filter((gr) => String(gr.row[by]) === name);
            return { name, x: gs.map((gr) => Number(gr.row[x])), y: gs.map((gr) => mean(gr.results.map((r) => last(r, p.key)))) };
          });
        }
        return { title: p.title, xLabel: ch.x === 'epoch' ? 'epoch' : ch.x, yLabel: p.yLabel, series };
      });
      return { table, chart: lineChartSvg(panels, { title: ch.title }) };
    },
  };
}

const auc = (key: string): ((r: RunResult<MultitaskConfig>) => number) => (r) => last(r, key);
const meanTestMse = (r: RunResult<MultitaskConfig>): number => (last(r, 'test_y1_mse') + last(r, 'test_y2_mse')) / 2;

const CENSUS_MODELS: MultitaskModel[] = ['single', 'shared-bottom', 'omoe', 'mmoe'];

const CENSUS = makePreset({
  name: 'census',
  help: 'single, shared-bottom, OMoE and MMoE on census-income income+marital, 3 seeds',
  sets: ['model', 'seed', 'dataset', 'tasks'],
  grid: (base) => CENSUS_MODELS.flatMap((model) => seeds(base, { model }, { model, dataset: 'census-income', tasks: ['income', 'marital'] })),
  columns: [
    { header: 'income AUC', value: auc('test_income_auc'), digits: 4 },
    { header: 'marital AUC', value: auc('test_marital_auc'), digits: 4 },
  ],
  chart: {
    title: 'Census-income: validation AUC per epoch (mean over seeds)',
    x: 'epoch',
    panels: [
      { title: 'income (> 50K)', key: 'val_income_auc', yLabel: 'AUC' },
      { title: 'marital (never married)', key: 'val_marital_auc', yLabel: 'AUC' },
    ],
  },
  intro: (b) => `Census-income (KDD), tasks income and marital; ${count(b.epochs, 'epoch')}, batch ${b.batchSize}, lr ${b.lr}; bottom ${b.bottomUnits}, towers ${b.towerUnits}, ${b.experts} experts of ${b.expertUnits}.`,
});

const RHOS = [0, 0.5, 0.9, 1];
const SYNTHETIC = makePreset({
  name: 'synthetic',
  help: "the MMoE paper's Figure 4: shared-bottom, OMoE and MMoE on mmoe-synthetic at\nρ = 0, 0.5, 0.9, 1 (batch 256, lr 0.005), 2 seeds",
  sets: ['model', 'seed', 'dataset', 'rho', 'batch_size', 'lr'],
  // Batches of 256 at lr 0.005: 12,000 rows in batches of 1,024 give too few steps to compare anything.
  grid: (base) => RHOS.flatMap((rho) => (['shared-bottom', 'omoe', 'mmoe'] as const).flatMap((model) => seeds(base, { rho, model }, { model, rho, dataset: 'mmoe-synthetic', batchSize: 256, lr: 0.005 }, 2))),
  columns: [{ header: 'test loss', value: meanTestMse, digits: 4 }],
  chart: { title: 'mmoe-synthetic: test loss (mean MSE of both tasks) against ρ', x: 'rho', series: 'model', panels: [{ title: 'test loss', key: 'test_y1_mse', yLabel: 'task 1 MSE' }, { title: 'test loss, task 2', key: 'test_y2_mse', yLabel: 'task 2 MSE' }] },
  intro: (b) => `mmoe-synthetic (d ${b.d}, c ${b.c}, m ${b.m}, ${b.rows || 12000} rows); ${count(b.epochs, 'epoch')}, batch 256, lr 0.005. Test loss: the mean of both tasks' test MSE.`,
});

const MAIN_ROWS = [30, 60, 120, 480];
const AUX = makePreset({
  name: 'aux',
  help: 'the auxiliary-task model against a single-task logistic regression as the\nmain rows vary (30, 60, 120, 480), 3 seeds',
  sets: ['model', 'seed', 'dataset', 'main_rows', 'bottom_units', 'batching', 'task_weights'],
  grid: (base) =>
    MAIN_ROWS.flatMap((mainRows) => [
      ...seeds(base, { main_rows: mainRows, model: 'aux' }, { model: 'aux', dataset: 'aux-synthetic', mainRows, batching: 'balanced' }),
      // The baseline: the main task alone, a logistic regression over all its features (x and z).
      ...seeds(base, { main_rows: mainRows, model: 'single' }, { model: 'single', dataset: 'aux-synthetic', mainRows, bottomUnits: 0, batching: 'balanced', taskWeights: [1, 0] }),
    ]),
  columns: [{ header: 'main AUC', value: auc('test_main_auc'), digits: 4 }],
  chart: { title: 'aux-synthetic: main-task test AUC against main rows', x: 'main_rows', series: 'model', panels: [{ title: 'main task', key: 'test_main_auc', yLabel: 'test AUC' }] },
  intro: (b) => `aux-synthetic (${b.auxRows || 'the default'} auxiliary rows); ${count(b.epochs, 'epoch')}, balanced batches of ${b.batchSize}, lr ${b.lr}. single: the main task alone, logistic regression on [x, z].`,
});

const ESMM = makePreset({
  name: 'esmm',
  help: 'ESMM against a CVR model trained on clicked impressions only, on esmm-synthetic, 3 seeds',
  sets: ['model', 'seed', 'dataset'],
  grid: (base) => (['esmm', 'single'] as const).flatMap((model) => seeds(base, { model: model === 'single' ? 'CVR on clicks (single)' : 'esmm' }, { model, dataset: 'esmm-synthetic' })),
  columns: [
    { header: 'cvr_auc (all impressions)', value: auc('test_conversion_all_auc'), digits: 4 },
    { header: 'cvr_auc (clicked)', value: auc('test_conversion_auc'), digits: 4 },
    { header: 'ctcvr_auc', value: auc('test_ctcvr_auc'), digits: 4 },
  ],
  chart: {
    title: 'esmm-synthetic: CVR AUC over all impressions per epoch',
    x: 'epoch',
    panels: [
      { title: 'CVR, all impressions', key: 'val_conversion_all_auc', yLabel: 'AUC' },
      { title: 'CTCVR', key: 'val_ctcvr_auc', yLabel: 'AUC' },
    ],
  },
  intro: (b) => `esmm-synthetic; ${count(b.epochs, 'epoch')}, batch ${b.batchSize}, lr ${b.lr}; embeddings ${b.embeddingDim} per field, towers ${b.bottomUnits}-${b.towerUnits}-1. The baseline trains CTR and CVR networks separately, the CVR one on clicked impressions only (its labels are missing elsewhere).`,
});

const TRAINING = makePreset({
  name: 'training',
  help: 'joint, alternating and uncertainty-weighted training of MMoE on census-income, 3 seeds',
  sets: ['training', 'loss_weighting', 'seed', 'dataset', 'tasks'],
  grid: (base) => [
    ...seeds(base, { mode: 'joint' }, { dataset: 'census-income', tasks: ['income', 'marital'], training: 'joint', lossWeighting: 'fixed' }),
    ...seeds(base, { mode: 'alternating' }, { dataset: 'census-income', tasks: ['income', 'marital'], training: 'alternating', lossWeighting: 'fixed' }),
    ...seeds(base, { mode: 'joint, uncertainty' }, { dataset: 'census-income', tasks: ['income', 'marital'], training: 'joint', lossWeighting: 'uncertainty' }),
  ],
  columns: [
    { header: 'income AUC', value: auc('test_income_auc'), digits: 4 },
    { header: 'marital AUC', value: auc('test_marital_auc'), digits: 4 },
  ],
  chart: {
    title: 'Census-income: validation AUC per epoch by training mode (mean over seeds)',
    x: 'epoch',
    panels: [
      { title: 'income', key: 'val_income_auc', yLabel: 'AUC' },
      { title: 'marital', key: 'val_marital_auc', yLabel: 'AUC' },
    ],
  },
  intro: (b) => `Census-income, ${b.model}; ${count(b.epochs, 'epoch')}, batch ${b.batchSize}, lr ${b.lr}. Alternating: each step one task's batch and loss, round-robin.`,
});

export const PRESETS: readonly Preset<MultitaskConfig>[] = [CENSUS, SYNTHETIC, AUX, ESMM, TRAINING];
