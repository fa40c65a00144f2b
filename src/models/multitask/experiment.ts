// Multi-task architectures as an experiment: shared-bottom, OMoE, MMoE, ESMM, the auxiliary-task
// model and single-task baselines on tabular and CTR data, with per-task metrics and tags, the
// comparisons as presets, and ROC/PR curves and per-epoch charts at the end of every run.
import type { Evaluation, Experiment, MetricSpec } from '../../experiments/types.ts';
import { checkConfig, MULTITASK_DEFAULTS, MULTITASK_OPTIONS, taskSpecs, type MultitaskConfig } from './config.ts';
import { runCharts } from './charts.ts';
import { lossLabels } from './model.ts';
import { MULTITASK_PREDICTOR } from './predict.ts';
import { PRESETS } from './report.ts';
import { clickConversion } from './scores.ts';
import { dataOf, tableFor, type TabularSource } from './source.ts';
import { MultitaskTrainer } from './trainer.ts';
import { multitaskPytorch } from './pytorch.ts';

/** Every metric a run of `c` logs: each loss's training mean, then each split's per-task scores. */
export function multitaskMetrics(c: MultitaskConfig): MetricSpec[] {
  const out: MetricSpec[] = lossLabels(c).map((l) => ({ key: `train_${l}_loss`, tag: `train/${l} loss`, better: 'lower', test: false, weights: ['taskWeights'] }));
  for (const split of ['val', 'test'] as const) {
    for (const t of taskSpecs(c)) {
      const k = `${split}_${t.name}`;
      if (t.kind === 'binary') {
        out.push({ key: `${k}_auc`, tag: `${split}/${t.name} AUC`, better: 'higher', test: true, chance: 0.5, ...(split === 'val' ? { bar: `${t.name} AUC` } : {}) });
        out.push({ key: `${k}_logloss`, tag: `${split}/${t.name} logloss`, better: 'lower', test: true });
        out.push({ key: `${k}_accuracy`, tag: `${split}/${t.name} accuracy`, better: 'higher', test: true });
      } else {
        out.push({ key: `${k}_mse`, tag: `${split}/${t.name} MSE`, better: 'lower', test: true, ...(split === 'val' ? { bar: `${t.name} MSE` } : {}) });
      }
    }
    if (clickConversion(c)) {
      out.push({ key: `${split}_ctcvr_auc`, tag: `${split}/ctcvr AUC`, better: 'higher', test: true, chance: 0.5 });
      if (c.dataset === 'esmm-synthetic') out.push({ key: `${split}_conversion_all_auc`, tag: `${split}/conversion (all impressions) AUC`, better: 'higher', test: true, chance: 0.5 });
    }
  }
  return out;
}

const f = (x: number | null | undefined, digits: number): string => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '–');

/** "income AUC .941, marital AUC .993" for a split's values. */
function headline(c: MultitaskConfig, v: Record<string, number | null>, split: 'val' | 'test'): string {
  return taskSpecs(c)
    .map((t) => (t.kind === 'binary' ? `${t.name} AUC ${f(v[`${split}_${t.name}_auc`], 4)}` : `${t.name} MSE ${f(v[`${split}_${t.name}_mse`], 4)}`))
    .join(', ');
}

/** An evaluation as --json's record: the epoch, and per split an object keyed by task. */
export function epochRecord(c: MultitaskConfig, e: Evaluation): Record<string, unknown> {
  const split = (s: 'val' | 'test'): Record<string, Record<string, number | null>> => {
    const out: Record<string, Record<string, number | null>> = {};
    for (const t of taskSpecs(c)) {
      const k = `${s}_${t.name}`;
      out[t.name] = t.kind === 'binary' ? { auc: e.values[`${k}_auc`] ?? null, logloss: e.values[`${k}_logloss`] ?? null, accuracy: e.values[`${k}_accuracy`] ?? null } : { mse: e.values[`${k}_mse`] ?? null };
    }
    if (clickConversion(c)) {
      out.ctcvr = { auc: e.values[`${s}_ctcvr_auc`] ?? null };
      if (c.dataset === 'esmm-synthetic') out.conversion_all_impressions = { auc: e.values[`${s}_conversion_all_auc`] ?? null };
    }
    return out;
  };
  const train = Object.fromEntries(lossLabels(c).map((l) => [l, e.values[`train_${l}_loss`] ?? null]));
  return { epoch: e.at, train_loss: train, val: split('val'), test: split('test'), ms_per_step: e.steps > 0 ? e.trainMs / e.steps : null };
}

export const MULTITASK: Experiment<MultitaskConfig, TabularSource, MultitaskTrainer> = {
  name: 'multitask',
  title: 'multi-task architectures: shared-bottom, OMoE, MMoE, ESMM, auxiliary tasks',
  about:
    "Trains several tasks at once on tabular or CTR data: one network per task (single), a shared\nbottom, mixtures of experts with one gate (omoe) or one per task (mmoe), ESMM's CTR × CVR,\nor a data-poor main task helped by an auxiliary one (aux). Missing labels are masked out of\ntheir task's loss; AUC, log loss and accuracy (binary) or MSE (regression) per task on the\nvalidation and test rows every epoch; ROC and PR curves at the end.",
  examples: [
    { args: '--model mmoe --epochs 20', does: 'MMoE on the census-income split embedded in shadertrain (income, marital)' },
    { args: '--model shared-bottom --data census-income.data,census-income.test', does: "the MMoE paper's protocol on the official files" },
    { args: '--model esmm --dataset esmm-synthetic', does: "ESMM's CTR × CVR on impressions with a known sample selection bias" },
    { args: '--model aux --dataset aux-synthetic --main_rows 60', does: 'a data-poor main task helped by an auxiliary regression task' },
    { args: '--dataset csv --data a.csv,b.csv --labels clicked,spent --task_kinds binary,regression', does: 'your own CSVs: their union, each label missing where a file lacks it' },
    { args: '--experiments census', does: 'single, shared-bottom, OMoE and MMoE over 3 seeds: a table and a chart' },
  ],
  dataset: 'tabular',
  defaults: MULTITASK_DEFAULTS,
  options: MULTITASK_OPTIONS,
  unit: 'epoch',
  length: (c) => c.epochs,
  evalEvery: () => 1,
  lengthFlag: 'epochs',
  evaluateFirst: false,
  metrics: [],
  metricsFor: multitaskMetrics,
  // The first task's validation AUC (or MSE): the validation split is there to choose on.
  mainMetric: (c) => {
    const t = taskSpecs(c)[0];
    return `val_${t.name}_${t.kind === 'binary' ? 'auc' : 'mse'}`;
  },
  runName: (c) => `${c.model}_${c.dataset}${c.dataset === 'mmoe-synthetic' ? `_rho${c.rho}` : ''}${c.dataset === 'aux-synthetic' && c.mainRows ? `_main${c.mainRows}` : ''}${c.training === 'alternating' ? '_alternating' : ''}${c.lossWeighting === 'uncertainty' ? '_uncertainty' : ''}_seed${c.seed}`,
  checkConfig,
  checkData: (c, source) => void tableFor(c, source),
  create: async (gpu, source, config) => MultitaskTrainer.create(gpu, tableFor(config, source), config, await dataOf(config, source)),
  origin: (source, config) => dataOf(config, source),
  summary: (e) => {
    const c = e.values as Record<string, number | null>;
    const train = Object.entries(c)
      .filter(([k, v]) => k.startsWith('train_') && typeof v === 'number')
      .map(([k, v]) => `${k.slice(6, -5)} ${f(v, 4)}`)
      .join(', ');
    return `${train ? `train loss ${train}; ` : ''}val ${headlineOf(e)}`;
  },
  done: (r) => {
    const last = r.evaluations[r.evaluations.length - 1];
    return `done: test ${last ? headline(r.config, last.values, 'test') : '–'}; ${r.msPerStep.toFixed(2)} ms/step, ${r.seconds.toFixed(0)} s in all`;
  },
  json: (r) => ({ epochs_trained: r.config.epochs, start_epoch: r.start, tasks: taskSpecs(r.config), epochs: r.evaluations.map((e) => epochRecord(r.config, e)) }),
  presets: PRESETS,
  artifacts: async (trainer, r) => runCharts(trainer, r),
  inspect: [],
  predictor: MULTITASK_PREDICTOR,
  pytorch: multitaskPytorch,
};

/** The summary's validation part: the tasks are in the values' keys. */
function headlineOf(e: Evaluation): string {
  const keys = Object.keys(e.values).filter((k) => k.startsWith('val_') && (k.endsWith('_auc') || k.endsWith('_mse')));
  return keys.map((k) => `${k.slice(4).replace(/_(auc|mse)$/, '')} ${k.endsWith('_auc') ? 'AUC' : 'MSE'} ${f(e.values[k], 4)}`).join(', ');
}

