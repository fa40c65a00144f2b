// The multi-task experiment's configuration: the model, its widths, the data set and its
// generator settings, the training mode and loss weighting, and the checks that name the flag a
// bad value came from.
import { TABULAR_DATASETS, type TabularSettings, type TaskKind } from '../../data/tabular.ts';
import { checkOptions, ConfigError, type OptionSpec } from '../../experiments/options.ts';

export const MODELS = ['single', 'shared-bottom', 'omoe', 'mmoe', 'esmm', 'aux'] as const;
export type MultitaskModel = (typeof MODELS)[number];

export const TRAINING_MODES = ['joint', 'alternating'] as const;
export const LOSS_WEIGHTINGS = ['fixed', 'uncertainty'] as const;
export const BATCHING = ['auto', 'rows', 'balanced'] as const;

export interface MultitaskConfig extends TabularSettings {
  model: MultitaskModel;
  /** single: each task's hidden layer (0: logistic or linear regression); shared-bottom: the shared layer; esmm: each tower's first layer. */
  bottomUnits: number;
  /** Each task's tower: one hidden ReLU layer of this width before its output. */
  towerUnits: number;
  experts: number;
  expertUnits: number;
  /** esmm: each categorical field's embedding width (concatenated, shared by both towers). */
  embeddingDim: number;
  /** Dropout after every hidden layer while training (0: none). */
  dropout: number;
  /** Each task's loss weight, in task order (empty: 1 each; aux: 0.9 main, 0.1 auxiliary). */
  taskWeights: number[];
  training: (typeof TRAINING_MODES)[number];
  lossWeighting: (typeof LOSS_WEIGHTINGS)[number];
  /** rows: batches of shuffled rows; balanced: equal rows from each task's labelled rows; auto: balanced for aux. */
  batching: (typeof BATCHING)[number];
  lr: number;
  batchSize: number;
  epochs: number;
}

export const MULTITASK_DEFAULTS: MultitaskConfig = {
  model: 'mmoe',
  dataset: 'census-income',
  tasks: [],
  labels: [],
  taskKinds: [],
  categorical: [],
  continuous: [],
  seed: 0,
  rho: 0.5,
  c: 1,
  m: 10,
  d: 100,
  rows: 0,
  auxRows: 0,
  mainRows: 0,
  bottomUnits: 113,
  towerUnits: 8,
  experts: 8,
  expertUnits: 16,
  embeddingDim: 8,
  dropout: 0,
  taskWeights: [],
  training: 'joint',
  lossWeighting: 'fixed',
  batching: 'auto',
  lr: 1e-3,
  batchSize: 1024,
  epochs: 20,
};

export const MULTITASK_OPTIONS: readonly OptionSpec<keyof MultitaskConfig>[] = [
  { key: 'model', flag: 'model', type: 'choice', choices: MODELS, help: 'single (one network per task), shared-bottom, omoe, mmoe, esmm or aux', label: 'Model' },
  { key: 'dataset', flag: 'dataset', type: 'choice', choices: TABULAR_DATASETS, help: 'census-income, mmoe-synthetic, aux-synthetic, ali-ccp, esmm-synthetic or csv', label: 'Data set' },
  { key: 'tasks', flag: 'tasks', type: 'names', help: 'census-income: income, marital and/or education (default income,marital)', label: 'Tasks' },
  { key: 'epochs', flag: 'epochs', type: 'int', min: 1, help: 'passes over the training rows', label: 'Epochs' },
  { key: 'batchSize', flag: 'batch_size', type: 'int', min: 2, help: 'rows per step', label: 'Batch size' },
  { key: 'lr', flag: 'lr', type: 'number', above: 0, help: 'Adam learning rate', label: 'Learning rate' },
  { key: 'seed', flag: 'seed', type: 'int', min: 0, max: 2 ** 32 - 1, help: 'split, generators, initialisation, shuffles and dropout', label: 'Seed' },
  { key: 'training', flag: 'training', type: 'choice', choices: TRAINING_MODES, help: "joint (the weighted sum, one step) or alternating (one task's batch\nand loss per step, round-robin)", label: 'Training' },
  { key: 'lossWeighting', flag: 'loss_weighting', type: 'choice', choices: LOSS_WEIGHTINGS, help: 'fixed (--task_weights) or uncertainty (learned log-variances,\nKendall et al. 2018)', label: 'Loss weighting' },
  { key: 'taskWeights', flag: 'task_weights', type: 'numbers', help: 'loss weight of each task in order (default 1 each; aux: 0.9,0.1)', label: 'Task weights', more: true },
  { key: 'bottomUnits', flag: 'bottom_units', type: 'int', min: 0, help: "shared-bottom's shared layer, single's and esmm's first hidden layer\n(single: 0 for a linear model)", label: 'Bottom units', more: true },
  { key: 'towerUnits', flag: 'tower_units', type: 'int', min: 1, help: "each task tower's hidden layer", label: 'Tower units', more: true },
  { key: 'experts', flag: 'experts', type: 'int', min: 1, help: 'omoe/mmoe: experts', label: 'Experts', more: true },
  { key: 'expertUnits', flag: 'expert_units', type: 'int', min: 1, help: "omoe/mmoe: each expert's ReLU units", label: 'Expert units', more: true },
  { key: 'embeddingDim', flag: 'embedding_dim', type: 'int', min: 1, help: "esmm: each categorical field's embedding width", label: 'Embedding size', more: true },
  { key: 'dropout', flag: 'dropout', type: 'number', min: 0, below: 1, help: 'dropout rate after each hidden layer while training', label: 'Dropout', more: true },
  { key: 'batching', flag: 'batching', type: 'choice', choices: BATCHING, help: "rows, or balanced (equal rows from each task's labels; auto: balanced\nfor aux)", label: 'Batching', more: true },
  { key: 'labels', flag: 'labels', type: 'names', help: 'csv: the label columns, one task each (a missing label is -1 or empty)', label: 'CSV labels', more: true },
  { key: 'taskKinds', flag: 'task_kinds', type: 'names', help: 'csv: binary or regression for each label (default binary)', label: 'CSV task kinds', more: true },
  { key: 'categorical', flag: 'categorical', type: 'names', help: 'csv: the categorical feature columns', label: 'CSV categorical columns', more: true },
  { key: 'continuous', flag: 'continuous', type: 'names', help: 'csv: the continuous feature columns', label: 'CSV continuous columns', more: true },
  { key: 'rho', flag: 'rho', type: 'number', min: -1, help: "mmoe-synthetic: the tasks' correlation ρ (from -1 to 1)", label: 'ρ', more: true },
  { key: 'c', flag: 'c', type: 'number', above: 0, help: "mmoe-synthetic: the weight vectors' scale", label: 'c', more: true },
  { key: 'm', flag: 'm', type: 'int', min: 0, help: 'mmoe-synthetic: sine terms', label: 'm', more: true },
  { key: 'd', flag: 'd', type: 'int', min: 2, help: 'mmoe-synthetic: input dimension', label: 'd', more: true },
  { key: 'rows', flag: 'rows', type: 'int', min: 0, help: "mmoe-/esmm-synthetic: rows in all (0: the generator's default)", label: 'Rows', more: true },
  { key: 'auxRows', flag: 'aux_rows', type: 'int', min: 0, help: "aux-synthetic: training rows with the auxiliary label (0: its default)", label: 'Auxiliary rows', more: true },
  { key: 'mainRows', flag: 'main_rows', type: 'int', min: 0, help: "aux-synthetic: training rows with the main label (0: its default)", label: 'Main rows', more: true },
];

const CENSUS_TASKS = ['income', 'marital', 'education'];

/** The tasks a config trains, in order, with their kinds: known from the config alone. */
export function taskSpecs(c: MultitaskConfig): { name: string; kind: TaskKind }[] {
  switch (c.dataset) {
    case 'census-income':
      return (c.tasks.length ? c.tasks : ['income', 'marital']).map((name) => ({ name, kind: 'binary' }));
    case 'mmoe-synthetic':
      return [
        { name: 'y1', kind: 'regression' },
        { name: 'y2', kind: 'regression' },
      ];
    case 'aux-synthetic':
      return [
        { name: 'main', kind: 'binary' },
        { name: 'aux', kind: 'regression' },
      ];
    case 'ali-ccp':
    case 'esmm-synthetic':
      return [
        { name: 'click', kind: 'binary' },
        { name: 'conversion', kind: 'binary' },
      ];
    case 'csv':
      return c.labels.map((name, i) => ({ name, kind: c.taskKinds[i] ?? 'binary' }));
  }
}

/** Each task's loss weight. */
export function taskWeights(c: MultitaskConfig): number[] {
  const tasks = taskSpecs(c);
  if (c.taskWeights.length) return c.taskWeights;
  if (c.model === 'aux') return [0.9, 0.1];
  return tasks.map(() => 1);
}

/** Balanced batches (equal rows from each task's labels) or plain shuffled rows. */
export function balanced(c: MultitaskConfig): boolean {
  return c.batching === 'balanced' || (c.batching === 'auto' && c.model === 'aux');
}

/** Every problem with a configuration, as one sentence naming the option. */
export function checkConfig(c: MultitaskConfig): void {
  checkOptions(MULTITASK_OPTIONS, c);
  if (c.rho > 1) throw new ConfigError(`--rho must be from -1 to 1, not ${c.rho}`);
  if (c.dataset === 'census-income') {
    const bad = c.tasks.find((t) => !CENSUS_TASKS.includes(t));
    if (bad !== undefined) throw new ConfigError(`--tasks: census-income has no task "${bad}"; choose from ${CENSUS_TASKS.join(', ')}`);
    if (new Set(c.tasks).size !== c.tasks.length) throw new ConfigError(`--tasks names a task twice: ${c.tasks.join(',')}`);
  } else if (c.tasks.length) {
    throw new ConfigError(`--tasks chooses census-income's tasks; ${c.dataset} has its own (${taskSpecs(c).map((t) => t.name).join(', ')})${c.dataset === 'csv' ? ': name them with --labels' : ''}`);
  }
  if (c.dataset === 'csv') {
    if (c.labels.length === 0) throw new ConfigError('--dataset csv needs --labels: the label columns, one task each');
    if (c.taskKinds.length && c.taskKinds.length !== c.labels.length) throw new ConfigError(`--task_kinds gives ${c.taskKinds.length} kinds for ${c.labels.length} --labels; give one per label`);
    const kind = c.taskKinds.find((k) => k !== 'binary' && k !== 'regression');
    if (kind !== undefined) throw new ConfigError(`--task_kinds must list binary or regression, not "${kind}"`);
  } else {
    for (const f of ['labels', 'taskKinds', 'categorical', 'continuous'] as const) {
      if (c[f].length) throw new ConfigError(`--${MULTITASK_OPTIONS.find((o) => o.key === f)?.flag} is for --dataset csv; ${c.dataset} knows its columns`);
    }
  }
  const tasks = taskSpecs(c);
  if (c.taskWeights.length && c.taskWeights.length !== tasks.length) {
    throw new ConfigError(`--task_weights gives ${c.taskWeights.length} weights for ${tasks.length} tasks (${tasks.map((t) => t.name).join(', ')}); give one per task`);
  }
  if (taskWeights(c).every((w) => w === 0)) throw new ConfigError('--task_weights are all 0: nothing would be trained');
  if (c.model === 'esmm' && (!['ali-ccp', 'esmm-synthetic', 'csv'].includes(c.dataset) || tasks.length !== 2 || tasks[0].kind !== 'binary' || tasks[1].kind !== 'binary')) {
    throw new ConfigError(`--model esmm needs two binary tasks, click then conversion (ali-ccp, esmm-synthetic, or a csv with two binary --labels); ${c.dataset} has ${tasks.map((t) => `${t.name} (${t.kind})`).join(', ')}`);
  }
  if (c.model === 'aux' && c.dataset !== 'aux-synthetic') {
    throw new ConfigError(`--model aux needs a main task with a private feature, as --dataset aux-synthetic has; ${c.dataset} has none`);
  }
  if (c.bottomUnits === 0 && c.model !== 'single') throw new ConfigError(`--bottom_units 0 (a linear model) is only for --model single; ${c.model} needs a width >= 1`);
  if (c.training === 'alternating' && c.model === 'esmm') throw new ConfigError('--training alternating: esmm has one loss over both towers; train it jointly');
  if (c.training === 'alternating' && c.lossWeighting === 'uncertainty') throw new ConfigError('--loss_weighting uncertainty weighs the tasks of one joint step; use it with --training joint');
  if (c.lossWeighting === 'uncertainty' && tasks.length < 2) throw new ConfigError('--loss_weighting uncertainty needs at least two tasks');
  if (balanced(c) && c.batchSize < tasks.length) throw new ConfigError(`--batch_size ${c.batchSize} cannot hold a row of each of ${tasks.length} tasks in balanced batches`);
}
