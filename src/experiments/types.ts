// What an experiment is, as data: the one descriptor each experiment folder exports
// (src/models/<name>/experiment.ts), from which the CLI's command, the web page's form, the
// worker's runs and the logged tags are all made. Browser-safe.
import type { Gpu } from '../gpu/context.ts';
import type { CheckpointData, CheckpointFile } from '../graph/checkpoint.ts';
import type { Watch } from './watch.ts';
import type { BufferLimits } from './limits.ts';
import type { StTensor } from '../log/safetensors.ts';
import type { OptionSpec, OptionValue } from './options.ts';

/** What training counts in: epochs over the data, or optimizer steps. */
export type Unit = 'epoch' | 'step';

export interface MetricSpec {
  /** Its field in an evaluation's values. */
  key: string;
  /** The TensorBoard tag (also the page's chart title and CSV column). */
  tag: string;
  better: 'higher' | 'lower';
  /** Measured by evaluate() on held-out data, rather than summed over the training steps. */
  test: boolean;
  /** Shown on the CLI's progress bar under this name. */
  bar?: string;
  /** What guessing scores (AUC 0.5, accuracy 1/N, cross-entropy ln N): the page's charts draw it as a line and keep it in range. */
  chance?: number;
  /** A value above this means training has diverged (no working model reaches it): the run stops there. */
  explodes?: number;
  /** The options (keys) whose values weight this loss: named when one is absurd and the loss diverges. */
  weights?: readonly string[];
}

/** What train() reports: the metrics of the units it trained, their wall time and optimizer steps. */
export interface TrainResult {
  values: Record<string, number>;
  ms: number;
  steps: number;
}

/** What evaluate() reports: the test metrics of the current weights, and its wall time. */
export interface EvalResult {
  values: Record<string, number>;
  ms: number;
}

/** One evaluation of a run, with the training that came before it. */
export interface Evaluation {
  /** Units (epochs or steps) trained when it was taken. */
  at: number;
  /** Metric key → value; the training metrics are null for an evaluation before any training. */
  values: Record<string, number | null>;
  /** Wall time and optimizer steps of the training since the previous evaluation (0 steps before any). */
  trainMs: number;
  steps: number;
  evalMs: number;
}

/** Every experiment's trainer: a compiled model over its data, trained and evaluated in units. */
export interface Trainer {
  /** Units trained so far (after restore(), the checkpoint's). */
  readonly done: number;
  /** Optimizer steps in `units` units from here. */
  stepsIn(units: number): number;
  /**
   * Trains `units` more units; `onStep(done, total)` after each step is submitted. Where the unit
   * is the step, `until` is asked before each step after the first: true ends the call there
   * (`steps` says how many it trained), where a checkpoint resumes exactly as the run would have gone on.
   * `watch` looks at the training metrics every few steps (src/experiments/watch.ts): when it
   * says diverged, the call ends there too, its values those of the steps it trained.
   */
  train(units: number, onStep?: (done: number, total: number) => void, until?: () => boolean, watch?: Watch): Promise<TrainResult>;
  evaluate(): Promise<EvalResult>;
  /** Weights, optimizer state, metric sums, the step and the generator, as safetensors bytes. */
  checkpoint(): Promise<Uint8Array>;
  /** Continues from a checkpoint of the same settings, or says which settings differ. */
  restore(bytes: Uint8Array, source: string): void;
  /** The parameter tensors holding a NaN or an infinity (read only once a run has diverged). */
  nonFiniteParams?(): Promise<string[]>;
  /** Facts about the compiled run worth reporting (--json's spelling): the input path taken, dispatches per step. */
  facts(): Record<string, string | number>;
  destroy(): void;
}

/** A finished (or stopped) run, as reports and --json see it. */
export interface RunResult<C> {
  config: C;
  /** Units trained before this run started (from a checkpoint). */
  start: number;
  evaluations: Evaluation[];
  /** Mean wall time per training step (evaluations excluded), and the run's wall time. */
  msPerStep: number;
  seconds: number;
  facts: Record<string, string | number>;
}

/** The report's file names in a preset's (or a sweep's) logdir, the same for every experiment: a markdown table and an SVG chart. */
export const REPORT_FILES = { table: 'report.md', chart: 'report.svg' } as const;

/** `--experiments NAME`: a set of runs compared in a report (REPORT_FILES). */
export interface Preset<C> {
  name: string;
  /** The --help text after `--experiments NAME`. */
  help: string;
  /** The flags it sets for each run (refused beside it). */
  sets: readonly string[];
  runs(base: C): { label: string; dir: string; config: C }[];
  report(base: C, runs: { label: string; result: RunResult<C> }[], adapter: string): { table: string; chart: string };
  /** The table's rows as --json's `table` (the markdown table's file is then `table_file`). */
  rows?(base: C, runs: { label: string; result: RunResult<C> }[]): Record<string, unknown>[];
  /** Settings shared by every run that --json states once, beside the runs. */
  json?(base: C): Record<string, unknown>;
}

/** A look at a trained model that the page offers (a user's top items, a test episode). */
export interface InspectView<T, D> {
  name: string;
  /** Opened on a run the first time it is asked for; what it holds goes with close(). */
  open(gpu: Gpu, trainer: T, data: D): Promise<Inspector>;
}

export interface Inspector {
  /** The view for one input (a user id, a seed), structured-cloneable for the page. */
  show(input: number): Promise<unknown>;
  close(): void;
}

/** Bytes with the name errors quote: a file given to a predict flag (or chosen on the page). */
export interface PredictFile {
  name: string;
  bytes: Uint8Array;
}

/**
 * A predict flag (and the page's field): an option as training's (numbers, switches, choices;
 * `key` is the flag), or an input the front end reads: `text` (a string as typed), `file` (one
 * file; `-` on the CLI is standard input) or `files` (files, or a folder's files, recursively
 * and sorted, named by their path inside the folder).
 */
export type PredictFlag =
  | OptionSpec
  | { key: string; flag: string; type: 'text' | 'file' | 'files'; help: string; arg?: string; label: string };

export type PredictValue = OptionValue | PredictFile[];

/** Where a prediction goes: the column names once, then rows in order, in batches; notes for the person. */
export interface PredictSink {
  columns(names: readonly string[]): void;
  /** A batch of rows, one value per column. */
  rows(rows: readonly (readonly (string | number)[])[]): void;
  /** A remark that is not a row (the CLI's stderr, the page's note line). */
  note(line: string): void;
}

/** A field of the page's form for one input row, generated from the checkpoint's feature schema. */
export type PredictField =
  | { name: string; kind: 'number'; value: string; hint: string }
  | { name: string; kind: 'choice'; value: string; choices: readonly string[] };

/** The page's form for one row: its fields, given to the predictor as one JSON Lines row in `flag`. */
export interface PredictForm {
  /** A `file` flag that takes JSON Lines. */
  flag: string;
  /** Flags the form stands in for on the page (a row typed as text). */
  replaces: readonly string[];
  fields: PredictField[];
}

/**
 * How a trained model is used: `shadertrain predict --checkpoint FILE` and the page's Predict
 * panel both call it with a checkpoint and the flags' values. Browser-safe: the front end reads
 * the files.
 */
export interface Predictor {
  /** The lines `shadertrain predict --help` shows above its flags. */
  about: string;
  /** Command lines `shadertrain predict --help` shows at its end (after `shadertrain predict`), each with what it does. */
  examples?: readonly { args: string; does: string }[];
  flags: readonly PredictFlag[];
  /** The values of flags not given (a flag absent here and not given is undefined). */
  defaults: Record<string, OptionValue>;
  /** Loads the checkpoint's model, predicts for the inputs, writes the rows; an error names the flag, file, row or column. */
  predict(gpu: Gpu, checkpoint: CheckpointFile, values: Record<string, PredictValue | undefined>, out: PredictSink): Promise<void>;
  /** The page's form for one input row, where a checkpoint describes its inputs (a sentence if it cannot). */
  form?(checkpoint: CheckpointFile): PredictForm;
}

/**
 * One experiment. C: its config (every option's field, and fixed ones the options do not set);
 * D: the data its dataset loads; T: its trainer.
 */
export interface Experiment<C extends object, D, T extends Trainer> {
  /** The CLI command and the protocol's name. */
  name: string;
  /** One line for `shadertrain --help` and the page's choice. */
  title: string;
  /** The paragraph under --help's usage line. */
  about: string;
  /** Command lines shown at the end of --help (after `shadertrain NAME`), each with what it does. */
  examples?: readonly { args: string; does: string }[];
  /** The dataset it trains on: the CLI's and the page's loaders are keyed by it. */
  dataset: string;
  defaults: C;
  options: readonly OptionSpec<keyof C & string>[];
  unit: Unit;
  /** Units to train, and between evaluations, for a config. */
  length(c: C): number;
  evalEvery(c: C): number;
  /** The option giving the length (named in "ask for more with --epochs"). */
  lengthFlag: string;
  /** Evaluates before any training, so that curves start at the untrained model. */
  evaluateFirst: boolean;
  metrics: readonly MetricSpec[];
  /** The key of the held-out metric that says which evaluation is best (--keep_best's default); its `better` gives the direction. */
  mainMetric(c: C): string;
  /** The metrics of a config, where they depend on it (a multi-task run's tasks); `metrics` otherwise. */
  metricsFor?(c: C): readonly MetricSpec[];
  /** Names a run in file and folder names: `shared_fw0.5_rw0.5_seed0`. */
  runName(c: C): string;
  /** Every check of a config on its own, options first; ConfigError naming the flag. */
  checkConfig(c: C): void;
  /** The config against the data, before any GPU work. */
  checkData?(c: C, data: D): void;
  /**
   * The buffers the config and data call for against the adapter's limits, from the sizes alone
   * (nothing is built yet); ConfigError or DataError naming the flag or the data line, and the limit.
   */
  checkLimits?(c: C, data: D, limits: BufferLimits): void;
  create(gpu: Gpu, data: D, config: C): Promise<T>;
  /** The data set and its fingerprint as the trainer's checkpoints record them: a resume on other data is refused. */
  origin?(data: D, config: C): Promise<CheckpointData | undefined>;
  /** A lasting line per evaluation (CLI) and the page's latest line. */
  summary(e: Evaluation): string;
  /** The last line of a run. */
  done(r: RunResult<C>): string;
  /** The experiment's own fields of a run in --json (and the page's JSON download). */
  json(r: RunResult<C>): Record<string, unknown>;
  presets: readonly Preset<C>[];
  /** Files (name → text: charts, curves) a finished run leaves in its log folder, made from the trainer before it goes. */
  artifacts?(trainer: T, r: RunResult<C>): Promise<Record<string, string>>;
  inspect: readonly InspectView<T, D>[];
  /** Names of parameter groups (a tensor name's first part) as the user knows them, where "user_embeddings" → "user embeddings" is not enough. */
  paramNames?: Readonly<Record<string, string>>;
  /** What `shadertrain predict` does with this experiment's checkpoints (none: it says so). */
  predictor?: Predictor;
  /**
   * A checkpoint's weights as the original's PyTorch module holds them (`shadertrain export
   * --format pytorch`): its `state_dict` names and layouts; no optimizer moments.
   */
  pytorch?(file: CheckpointFile): Record<string, StTensor>;
}

/** The metrics a run of `config` logs. */
export function metricsOf(ex: AnyExperiment, config: object): readonly MetricSpec[] {
  return ex.metricsFor?.(config) ?? ex.metrics;
}

/** Any experiment, as the registry holds them (each descriptor is type-checked where it is written). */
export type AnyExperiment = Omit<Experiment<object, unknown, Trainer>, 'options'> & { options: readonly OptionSpec[] };
