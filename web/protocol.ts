// Messages between the page (main.ts) and the training worker (worker.ts). Everything crosses
// by structured clone; file bytes are transferred, not copied.
import type { AdapterReport } from '../src/gpu/adapter-report.ts';
import type { ResizeFilter } from '../src/data/omniglot-set.ts';
import type { FewshotConfig } from '../src/models/fewshot/config.ts';
import type { FewshotEval } from '../src/models/fewshot/train.ts';
import type { RecommenderConfig } from '../src/models/recommender/config.ts';
import type { EpochMetrics } from '../src/models/recommender/trainer.ts';

export type Experiment = 'recommender' | 'fewshot';

export interface FileBytes {
  name: string;
  bytes: Uint8Array;
}

export interface RecommenderRunSpec {
  experiment: 'recommender';
  config: RecommenderConfig;
}

export interface FewshotRunSpec {
  experiment: 'fewshot';
  config: FewshotConfig;
  steps: number;
  evalEvery: number;
}

export type RunSpec = RecommenderRunSpec | FewshotRunSpec;

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
  | { type: 'start'; runId: number; spec: RunSpec; mode: RunMode; checkpoint?: FileBytes }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'checkpoint' }
  | { type: 'top-items'; user: number }
  | { type: 'episode'; seed: number };

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

export interface TopItem {
  item: number;
  title: string | null;
  /** Factorization score u·q + a_u + b_i, which ranks the items. */
  score: number;
  /** The regression head's predicted rating. */
  predicted: number;
}

export interface RatedItem {
  item: number;
  title: string | null;
  rating: number;
  predicted: number;
  /** Its place among the items the user did not rate in training (1 = top), by the ranking score. */
  rank: number;
}

export interface EpisodeView {
  numClasses: number;
  numShot: number;
  side: number;
  /** Support images [K][N] (class c's k-th drawing), then queries [N], each side·side ink bytes. */
  support: Uint8Array[];
  queries: Uint8Array[];
  /** The true class of each query, the predicted class, and the predicted probabilities. */
  truth: number[];
  predicted: number[];
  probabilities: number[][];
  /** Character names, by class. */
  names: string[];
}

export type FromWorker =
  | { type: 'ready'; adapter: AdapterReport; adapterLine: string }
  | { type: 'no-webgpu'; message: string }
  | { type: 'ratings'; summary: RatingsSummary }
  | { type: 'titles'; name: string; count: number }
  | { type: 'omniglot'; summary: OmniglotSummary }
  /** A problem with what the user gave (file, option): one sentence. `about` says which input. */
  | { type: 'input-error'; about: 'ratings' | 'titles' | 'omniglot' | 'checkpoint' | 'config'; message: string }
  | { type: 'state'; runId: number; state: RunState; detail?: string }
  | { type: 'run-info'; runId: number; stepsPerEpoch?: number; startEpoch?: number; startStep?: number; train: number; test: number }
  | { type: 'progress'; runId: number; done: number; total: number; msPerStep: number | null }
  | { type: 'epoch'; runId: number; metrics: EpochMetrics; msPerStep: number }
  | { type: 'eval'; runId: number; metrics: FewshotEval }
  /** An evaluation of a loaded checkpoint without training: tag → value at epoch or step `at`. */
  | { type: 'evaluated'; runId: number; at: number; values: Record<string, number> }
  | { type: 'run-error'; runId: number; message: string }
  | { type: 'checkpoint'; runId: number; name: string; bytes: Uint8Array }
  | { type: 'top-items'; runId: number; user: number; top: TopItem[]; rated: RatedItem[]; users: number }
  | { type: 'episode'; runId: number; view: EpisodeView }
  | { type: 'request-error'; message: string };
