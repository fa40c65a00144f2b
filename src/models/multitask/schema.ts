// What a multi-task checkpoint says about a prediction's inputs and outputs (metadata key
// `schema`): the feature columns as training built them (each categorical vocabulary with its
// unknown row 0, each continuous column's training mean and standard deviation), the tasks,
// the outputs of the evaluation graph in order, the columns a row may hold that are not read,
// and the evaluation graph's batch rows. Browser-safe: the page's form is generated from it.
import type { CategoricalColumn, ContinuousColumn, TabularData, TaskSpec } from '../../data/tabular.ts';
import { CheckpointError, type CheckpointFile } from '../../graph/checkpoint.ts';
import { taskSpecs, type MultitaskConfig } from './config.ts';

export interface MultitaskSchema {
  /** vocab[0] is the unknown row: values not seen in the training rows map to it. */
  categorical: CategoricalColumn[];
  /** Raw values are standardized as (x − mean) / std, with the training rows' statistics. */
  continuous: ContinuousColumn[];
  /** Continuous columns only one task reads (the aux model's z): column → task. */
  privateColumns: Record<string, string>;
  tasks: TaskSpec[];
  /** The evaluation graph's outputs in order: a probability (binary) or a value (regression). ESMM: click, conversion, ctcvr. */
  outputs: TaskSpec[];
  /** Columns a row may hold that are not features (labels, weights): accepted, not read. */
  ignored: string[];
  /** Rows per run of the evaluation graph, so prediction compiles the same graph. */
  rows: number;
}

/** Each output of the evaluation graph (model.ts evalGraph), in order. */
export function outputsOf(c: MultitaskConfig): TaskSpec[] {
  const tasks = taskSpecs(c);
  return c.model === 'esmm' ? [...tasks, { name: 'ctcvr', kind: 'binary' }] : tasks;
}

export function schemaOf(c: MultitaskConfig, data: TabularData, rows: number): MultitaskSchema {
  const tasks = taskSpecs(c);
  const ignored = [...new Set([...(data.otherColumns ?? []), ...tasks.map((t) => t.name)])];
  return { categorical: data.categorical, continuous: data.continuous, privateColumns: data.privateColumns, tasks, outputs: outputsOf(c), ignored, rows };
}

/** The schema of a multi-task checkpoint, or a sentence saying what is missing. */
export function schemaFrom(file: CheckpointFile): MultitaskSchema {
  const s = file.schema as Partial<MultitaskSchema> | undefined;
  if (!s) {
    throw new CheckpointError(
      `${file.source} has no feature schema (it was written before checkpoints described their features); resume it with --resume and --checkpoint for one more epoch to write one that does`,
    );
  }
  const missing = (['categorical', 'continuous', 'privateColumns', 'tasks', 'outputs', 'ignored', 'rows'] as const).filter((k) => s[k] === undefined);
  if (missing.length) throw new CheckpointError(`${file.source}'s feature schema lacks ${missing.join(', ')}; write the checkpoint again with this version of shadertrain`);
  return s as MultitaskSchema;
}
