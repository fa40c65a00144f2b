// What `shadertrain predict` and the page's Predict panel share: which experiment a checkpoint
// is of (and whether it predicts), and the predictions as the CLI's CSV. Browser-safe.
import { CheckpointError, type CheckpointFile } from '../graph/checkpoint.ts';
import { EXPERIMENTS } from './registry.ts';
import type { AnyExperiment, PredictSink, Predictor } from './types.ts';

/** The experiment a checkpoint names, or one sentence on what is missing. */
export function experimentOf(file: CheckpointFile): AnyExperiment & { predictor: Predictor } {
  if (file.experiment === undefined) {
    const guess = file.config.experiment ?? file.config.model;
    const was = typeof guess === 'string' ? `a ${guess} checkpoint` : 'a checkpoint';
    throw new CheckpointError(
      `${file.source} is ${was} from before checkpoints described themselves (it has no experiment, data or schema metadata); resume it with --resume and --checkpoint for one more epoch to write one that predict can use`,
    );
  }
  const ex = EXPERIMENTS.find((e) => e.name === file.experiment);
  if (!ex) throw new CheckpointError(`${file.source} is a checkpoint of experiment "${file.experiment}", which this shadertrain does not have (it has ${EXPERIMENTS.map((e) => e.name).join(', ')})`);
  if (!ex.predictor) throw new CheckpointError(`${file.source} is a ${ex.name} checkpoint, and shadertrain predict does not predict for ${ex.name} yet`);
  return ex as AnyExperiment & { predictor: Predictor };
}

/** A CSV field: quoted where it holds a comma, a quote or a line break. */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export const csvLine = (row: readonly (string | number)[]): string => row.map(csvField).join(',');

/** Everything a prediction wrote, kept: the page's table and its CSV download. */
export class CollectedPrediction implements PredictSink {
  names: string[] = [];
  readonly table: (string | number)[][] = [];
  readonly notes: string[] = [];
  columns(names: readonly string[]): void {
    this.names = [...names];
  }
  rows(rows: readonly (readonly (string | number)[])[]): void {
    for (const r of rows) this.table.push([...r]);
  }
  note(line: string): void {
    this.notes.push(line);
  }
}

/** The rows as the CLI prints them without --json: a header, then a line per row. */
export function predictionCsv(names: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [csvLine(names), ...rows.map(csvLine)].map((l) => `${l}\n`).join('');
}
