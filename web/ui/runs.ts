// The page's record of every run started in it (several are charted together, as TensorBoard
// overlays runs), and their metrics as JSON (the CLI's --json shape) and CSV.
import type { FewshotEval } from '../../src/models/fewshot/train.ts';
import type { EpochMetrics } from '../../src/models/recommender/trainer.ts';
import type { Experiment, RunMode, RunSpec, RunState } from '../protocol.ts';
import { CHARTS, FEWSHOT_TAGS, RECOMMENDER_TAGS } from '../tags.ts';

/** Tableau 10: distinct, and readable on white. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export interface Series {
  x: number[];
  y: number[];
}

export interface RunRecord {
  id: number;
  experiment: Experiment;
  label: string;
  color: string;
  spec: RunSpec;
  mode: RunMode;
  /** Where the data came from, and the checkpoint the run started from. */
  data: string;
  checkpoint: string | null;
  adapter: string;
  state: RunState;
  detail: string;
  /** tag → points, in the order they came. */
  series: Map<string, Series>;
  epochs: EpochMetrics[];
  evals: FewshotEval[];
  /** Evaluations of a checkpoint without training. */
  evaluated: { at: number; values: Record<string, number> }[];
  msPerStep: number | null;
  progress: { done: number; total: number };
  visible: boolean;
}

export function runLabel(id: number, spec: RunSpec, mode: RunMode, resumed: boolean): string {
  const c = spec.config;
  const what =
    spec.experiment === 'recommender'
      ? `${spec.config.sharedEmbeddings ? 'shared' : 'separate'} fw${spec.config.factorizationWeight} rw${spec.config.regressionWeight}`
      : `N${spec.config.numClasses} K${spec.config.numShot} H${spec.config.hidden}`;
  return `#${id} ${what} seed${c.seed}${mode === 'evaluate' ? ' (evaluation)' : resumed ? ' (resumed)' : ''}`;
}

export function newRun(id: number, spec: RunSpec, mode: RunMode, data: string, checkpoint: string | null, adapter: string): RunRecord {
  return {
    id,
    experiment: spec.experiment,
    label: runLabel(id, spec, mode, checkpoint !== null),
    color: PALETTE[(id - 1) % PALETTE.length],
    spec,
    mode,
    data,
    checkpoint,
    adapter,
    state: 'starting',
    detail: '',
    series: new Map(),
    epochs: [],
    evals: [],
    evaluated: [],
    msPerStep: null,
    progress: { done: 0, total: 0 },
    visible: true,
  };
}

function push(run: RunRecord, tag: string, x: number, y: number | null): void {
  if (y === null || !Number.isFinite(y)) return;
  let s = run.series.get(tag);
  if (!s) run.series.set(tag, (s = { x: [], y: [] }));
  s.x.push(x);
  s.y.push(y);
}

export function addEpoch(run: RunRecord, m: EpochMetrics): void {
  run.epochs.push(m);
  // Charted against epochs trained (1 after the first epoch); the JSON keeps the CLI's 0-based index.
  for (const [key, tag] of Object.entries(RECOMMENDER_TAGS)) push(run, tag, m.epoch + 1, m[key as keyof typeof RECOMMENDER_TAGS]);
}

export function addEval(run: RunRecord, e: FewshotEval): void {
  run.evals.push(e);
  push(run, FEWSHOT_TAGS.trainLoss, e.step, e.trainLoss);
  push(run, FEWSHOT_TAGS.testLoss, e.step, e.testLoss);
  push(run, FEWSHOT_TAGS.testAccuracy, e.step, e.testAccuracy);
}

export function addEvaluated(run: RunRecord, at: number, values: Record<string, number>): void {
  run.evaluated.push({ at, values });
  for (const [tag, v] of Object.entries(values)) push(run, tag, at, v);
}

/** The run's metrics as the CLI's --json prints them (without the log folder). */
export function runJson(run: RunRecord): string {
  const common = { experiment: run.experiment, run: run.label, adapter: run.adapter, data: run.data, checkpoint: run.checkpoint, state: run.state };
  let body: Record<string, unknown>;
  if (run.spec.experiment === 'recommender') {
    body = { config: run.spec.config, ms_per_step: run.msPerStep, epochs: run.epochs };
  } else {
    body = {
      config: run.spec.config,
      steps: run.spec.steps,
      eval_every: run.spec.evalEvery,
      ms_per_step: run.msPerStep,
      evals: run.evals.map((e) => ({ step: e.step, train_loss: e.trainLoss, train_accuracy: e.trainAccuracy, test_loss: e.testLoss, test_accuracy: e.testAccuracy, ms_per_step: e.msPerStep })),
    };
  }
  if (run.evaluated.length) body.evaluations = run.evaluated;
  return `${JSON.stringify({ ...common, ...body }, null, 2)}\n`;
}

const csvCell = (v: string | number | null | undefined): string => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One row per epoch (recommender) or evaluation (few-shot): the x value, then every tag. */
export function runCsv(run: RunRecord): string {
  const { x, tags } = CHARTS[run.experiment];
  const rows = new Map<number, Map<string, number>>();
  for (const [tag, s] of run.series) {
    s.x.forEach((xv, i) => {
      let r = rows.get(xv);
      if (!r) rows.set(xv, (r = new Map()));
      r.set(tag, s.y[i]);
    });
  }
  const lines = [[x, ...tags].map(csvCell).join(',')];
  for (const xv of [...rows.keys()].sort((a, b) => a - b)) {
    const r = rows.get(xv) as Map<string, number>;
    lines.push([xv, ...tags.map((t) => r.get(t) ?? null)].map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

export function fileStem(run: RunRecord): string {
  return `shadertrain-${run.experiment}-run${run.id}-${run.label.replace(/^#\d+ /, '').replace(/[^A-Za-z0-9._-]+/g, '_')}`;
}
