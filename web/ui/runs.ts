// The page's record of every run started in it (several are charted together, as TensorBoard
// overlays runs), and their metrics as JSON (the CLI's --json shape, from the same descriptor)
// and CSV.
import { loggedScalars } from '../../src/experiments/loop.ts';
import { experiment } from '../../src/experiments/registry.ts';
import { metricsOf, type Evaluation, type Unit } from '../../src/experiments/types.ts';
import type { RunMode, RunSpec, RunState } from '../protocol.ts';

/** Tableau 10: distinct, and readable on white. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export interface Series {
  x: number[];
  y: number[];
}

export interface RunRecord {
  id: number;
  experiment: string;
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
  /** From the worker when the run starts: where it starts (units trained), its length, the trainer's facts. */
  info: { unit: Unit; start: number; length: number; stepsPerUnit: number; facts: Record<string, string | number> } | null;
  evaluations: Evaluation[];
  /** Evaluations of a checkpoint without training. */
  evaluated: { at: number; values: Record<string, number> }[];
  msPerStep: number | null;
  progress: { done: number; total: number };
  visible: boolean;
  /** While compiling: pipelines ready, of those asked for so far. */
  compile: { ready: number; asked: number } | null;
  /** The experiment's SVG charts of the finished run (file name → SVG text). */
  artifacts: Record<string, string>;
}

export function runLabel(id: number, spec: RunSpec, mode: RunMode, resumed: boolean): string {
  const name = experiment(spec.experiment).runName(spec.config).replaceAll('_', ' ');
  return `#${id} ${name}${mode === 'evaluate' ? ' (evaluation)' : resumed ? ' (resumed)' : ''}`;
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
    info: null,
    evaluations: [],
    evaluated: [],
    msPerStep: null,
    progress: { done: 0, total: 0 },
    visible: true,
    artifacts: {},
    compile: null,
  };
}

function push(run: RunRecord, tag: string, x: number, y: number | null): void {
  if (y === null || !Number.isFinite(y)) return;
  let s = run.series.get(tag);
  if (!s) run.series.set(tag, (s = { x: [], y: [] }));
  s.x.push(x);
  s.y.push(y);
}

export function addEvaluation(run: RunRecord, e: Evaluation): void {
  run.evaluations.push(e);
  const { step, scalars } = loggedScalars(experiment(run.experiment), run.spec.config, e);
  for (const [tag, y] of Object.entries(scalars)) push(run, tag, step, y);
}

/** Training metrics between evaluations: charted, but not rows of the CSV or JSON (those are the evaluations'). */
export function addTrained(run: RunRecord, at: number, values: Record<string, number>): void {
  for (const m of metricsOf(experiment(run.experiment), run.spec.config)) if (!m.test) push(run, m.tag, at, values[m.key] ?? null);
}

/** The run went on from `at` units (its device was lost): points charted after it come again. */
export function rewindRun(run: RunRecord, at: number): void {
  for (const series of run.series.values()) {
    const keep = series.x.findIndex((x) => x > at);
    if (keep < 0) continue;
    series.x.length = keep;
    series.y.length = keep;
  }
}

export function addEvaluated(run: RunRecord, at: number, values: Record<string, number>): void {
  run.evaluated.push({ at, values });
  for (const [tag, v] of Object.entries(values)) push(run, tag, at, v);
}

/** The run's metrics as the CLI's --json prints them (without the log folder). */
export function runJson(run: RunRecord): string {
  const ex = experiment(run.experiment);
  const common = { experiment: run.experiment, run: run.label, adapter: run.adapter, data: run.data, checkpoint: run.checkpoint, state: run.state };
  const seconds = run.evaluations.reduce((s, e) => s + (e.trainMs + e.evalMs) / 1000, 0);
  const result = { config: run.spec.config, start: run.info?.start ?? 0, evaluations: run.evaluations, msPerStep: run.msPerStep ?? NaN, seconds, facts: run.info?.facts ?? {} };
  const body: Record<string, unknown> = { config: run.spec.config, ...result.facts, ms_per_step: run.msPerStep, ...ex.json(result) };
  if (run.evaluated.length) body.evaluations = run.evaluated;
  return `${JSON.stringify({ ...common, ...body }, null, 2)}\n`;
}

const csvCell = (v: string | number | null | undefined): string => {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One row per evaluation: the units trained, then every tag. */
export function runCsv(run: RunRecord): string {
  const ex = experiment(run.experiment);
  const x = ex.unit;
  const tags = metricsOf(ex, run.spec.config).map((m) => m.tag);
  const rows = new Map<number, Map<string, number>>();
  // A row per evaluation: the training pieces between them are only charted.
  const evaluated = new Set([...run.evaluations.map((e) => e.at), ...run.evaluated.map((e) => e.at)]);
  for (const [tag, s] of run.series) {
    s.x.forEach((xv, i) => {
      if (!evaluated.has(xv)) return;
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
