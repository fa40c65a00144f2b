// The table every multi-task data set becomes: categorical columns as vocabulary indices (row 0
// of each vocabulary is "unknown": values first seen outside the training rows), continuous
// columns standardized with the training rows' statistics, and one label column per task with
// NaN where a row has no label. Loaders (census-income, Ali-CCP, CSV) and the built-in
// generators all produce it; the multi-task trainer reads nothing else. Browser-safe.

export type TaskKind = 'binary' | 'regression';

export interface TaskSpec {
  name: string;
  kind: TaskKind;
}

export interface CategoricalColumn {
  name: string;
  /** Index 0 is the unknown value; 1.. are the values seen in the training rows, in first-seen order. */
  vocab: string[];
}

export interface ContinuousColumn {
  name: string;
  /** The training rows' mean and standard deviation (population; 1 where it is 0), applied to every split. */
  mean: number;
  std: number;
}

/** One split's rows. */
export interface TabularRows {
  count: number;
  /** [count × categorical columns] row-major: each value's index in its column's vocabulary. */
  categorical: Uint32Array;
  /** [count × continuous columns] row-major, standardized. */
  continuous: Float32Array;
  /** [count × tasks] row-major: 0/1 for a binary task, a value for regression, NaN where missing. */
  labels: Float32Array;
}

export interface TabularData {
  /** The --dataset name it came from: 'census-income', 'mmoe-synthetic', 'csv', ... */
  dataset: string;
  /** Where it came from, for logs and --json: the files, or the generator and its settings. */
  source: string;
  tasks: TaskSpec[];
  categorical: CategoricalColumn[];
  continuous: ContinuousColumn[];
  /**
   * Columns only one task reads (the auxiliary-task model's private feature z): continuous column
   * name → task name. Every other column is shared by all tasks.
   */
  privateColumns: Record<string, string>;
  /**
   * Columns of the source files that are neither features nor a task's name (label columns under
   * their own names, weights): a row given for prediction may hold them, and they are not read.
   */
  otherColumns?: string[];
  train: TabularRows;
  val: TabularRows;
  test: TabularRows;
  /** A generator's true parameters by name (aux-synthetic's B1, b3, b4, b0), reported beside the learned ones. */
  truth?: Record<string, number[]>;
  /**
   * Labels only a generator knows, for evaluation only: esmm-synthetic's `conversion` of every
   * impression had it been clicked (the real data has conversions of clicked impressions only).
   */
  hidden?: Record<string, { val: Float32Array; test: Float32Array }>;
}

/** The data sets --dataset names. */
export const TABULAR_DATASETS = ['census-income', 'mmoe-synthetic', 'aux-synthetic', 'ali-ccp', 'esmm-synthetic', 'csv'] as const;
export type TabularDataset = (typeof TABULAR_DATASETS)[number];

/**
 * What building a table needs besides the files: the multi-task config's data fields (the
 * config satisfies this interface). Empty lists and 0 mean "the data set's default".
 */
export interface TabularSettings {
  dataset: TabularDataset;
  /** census-income: which of income, marital, education (default income,marital); others: their own tasks. */
  tasks: string[];
  /** csv: the label columns (one task each), their kinds, and the feature columns. */
  labels: string[];
  taskKinds: TaskKind[];
  categorical: string[];
  continuous: string[];
  /** The splits' shuffle and the generators' draws. */
  seed: number;
  /** mmoe-synthetic: task correlation, scale, sine terms, input dimension; rows of every generator (0 = its default). */
  rho: number;
  c: number;
  m: number;
  d: number;
  rows: number;
  /** aux-synthetic: rows with only the auxiliary label, and rows with the main label. */
  auxRows: number;
  mainRows: number;
}

/** A file given with --data (or chosen on the page), by the name errors should quote. */
export interface TabularFile {
  name: string;
  bytes: Uint8Array;
}
