// Messages between the page (main.ts) and the training worker (worker.ts). Everything crosses
// by structured clone; file bytes are transferred, not copied. Runs, their evaluations and the
// looks at a model are the same messages for every experiment of the registry.
import type { AdapterReport } from '../src/gpu/adapter-report.ts';
import type { ResizeFilter } from '../src/data/omniglot-set.ts';
import type { Evaluation, PredictValue, Unit } from '../src/experiments/types.ts';
import type { BenchJson } from '../bench/report.ts';

export interface FileBytes {
  name: string;
  bytes: Uint8Array;
}

/** A run: the experiment's name (src/experiments/registry.ts) and its config, checked by its descriptor. */
export interface RunSpec {
  experiment: string;
  config: object;
}

/** What a run does: train (from scratch or from the checkpoint), or only evaluate the checkpoint. */
export type RunMode = 'train' | 'evaluate';

export type ToWorker =
  | { type: 'init' }
  /** MovieLens ratings (u.data, ratings.dat, ratings.csv, gzip or zip) and optional titles. */
  | { type: 'ratings'; file: FileBytes }
  | { type: 'titles'; file: FileBytes }
  /** The embedded set (its bytes fetched by the page) or official zips / npz files. */
  | { type: 'omniglot'; source: 'embedded'; file: FileBytes }
  | { type: 'omniglot'; source: 'files'; files: FileBytes[]; filter: ResizeFilter }
  | { type: 'tabular'; files: FileBytes[] }
  | { type: 'start'; runId: number; spec: RunSpec; mode: RunMode; checkpoint?: FileBytes }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  /** The current run's checkpoint: to save as a file, or for the Predict panel. */
  | { type: 'checkpoint'; purpose: CheckpointPurpose }
  /** What a checkpoint predicts for the predictor's flag values (files as bytes), as `shadertrain predict` does. */
  | { type: 'predict'; checkpoint: FileBytes; values: Record<string, PredictValue | undefined> }
  /** One of the experiment's inspect views (its descriptor's `inspect`) for one input: a user id, a seed. */
  | { type: 'inspect'; view: string; input: number }
  /** The bench view: one of the CLI's portable suites (web/worker/bench.ts), cases filtered by name. */
  | { type: 'bench'; suite: string; filter: string; reps: number; warmup: number };

export type CheckpointPurpose = 'download' | 'predict';

export type RunState = 'starting' | 'running' | 'pausing' | 'paused' | 'stopping' | 'stopped' | 'done' | 'failed';

export interface RatingsSummary {
  name: string;
  count: number;
  users: number;
  items: number;
  format: string;
  /** Titles came with it (a zip holding u.item). */
  titles: number;
}

export interface OmniglotSummary {
  source: string;
  characters: number;
  drawings: number;
  side: number;
  filter: ResizeFilter;
  binary: boolean;
}

export type FromWorker =
  /** `benchSuites`: what the bench view can run here. */
  | { type: 'ready'; adapter: AdapterReport; adapterLine: string; benchSuites: string[] }
  | { type: 'no-webgpu'; message: string }
  | { type: 'ratings'; summary: RatingsSummary }
  | { type: 'titles'; name: string; count: number }
  | { type: 'omniglot'; summary: OmniglotSummary }
  /** A problem with what the user gave (file, option): one sentence. `about` says which input. */
  | { type: 'input-error'; about: 'ratings' | 'titles' | 'omniglot' | 'checkpoint' | 'config'; message: string }
  | { type: 'state'; runId: number; state: RunState; detail?: string }
  /** While a run's model compiles: its pipelines ready, of those asked for so far. */
  | { type: 'compile'; runId: number; ready: number; asked: number }
  /** Where a run starts (units trained, from its checkpoint), its length, and what its trainer reports. */
  | { type: 'run-info'; runId: number; unit: Unit; start: number; length: number; stepsPerUnit: number; facts: Record<string, string | number> }
  | { type: 'progress'; runId: number; done: number; total: number; msPerStep: number | null }
  | { type: 'evaluation'; runId: number; evaluation: Evaluation }
  /** Training metrics (means) of a piece of training between evaluations, at `at` units trained. */
  | { type: 'trained'; runId: number; at: number; values: Record<string, number> }
  /** An evaluation of a loaded checkpoint without training: tag → value at epoch or step `at`. */
  | { type: 'evaluated'; runId: number; at: number; values: Record<string, number> }
  | { type: 'run-error'; runId: number; message: string }
  /** The device was lost and the run went on from its snapshot at `from` units: what was charted after it is drawn again. */
  | { type: 'device-lost'; runId: number; from: number; message: string }
  /** SVG charts of a finished run (the experiment's artifacts: file name → text). */
  | { type: 'artifacts'; runId: number; files: Record<string, string> }
  | { type: 'checkpoint'; runId: number; name: string; bytes: Uint8Array; purpose: CheckpointPurpose }
  /** A prediction's rows (columns as `shadertrain predict` prints them) and its notes. */
  | { type: 'predict-result'; columns: string[]; rows: (string | number)[][]; notes: string[] }
  | { type: 'predict-error'; message: string }
  | { type: 'inspect'; runId: number; view: string; result: unknown }
  | { type: 'request-error'; message: string }
  /** The bench's progress lines, as the CLI prints them to stderr. */
  | { type: 'bench-log'; line: string }
  | { type: 'bench-done'; json: BenchJson; timing: string }
  | { type: 'bench-error'; message: string };
