// Multi-task prediction from a checkpoint alone: its config rebuilds the model, its feature
// schema encodes the rows, and the evaluation graph of the same batch rows runs them through
// the loop evaluation uses (forward.ts), so a prediction equals evaluation's, bit for bit, on
// the same adapter. Browser-safe: `shadertrain predict` and the page's form both call it.
import { DataError } from '../../data/errors.ts';
import type { PredictField, PredictForm, Predictor, PredictFile, PredictSink } from '../../experiments/types.ts';
import type { Gpu } from '../../gpu/context.ts';
import { StagingRing } from '../../gpu/readback.ts';
import { CompiledStep } from '../../graph/compile.ts';
import { loadWeights, type CheckpointFile } from '../../graph/checkpoint.ts';
import type { TabularRows } from '../../data/tabular.ts';
import { Rng } from '../../random.ts';
import { MULTITASK_DEFAULTS, type MultitaskConfig } from './config.ts';
import { forwardRows } from './forward.ts';
import { encodeRows, readInputFile, readRowText, type InputRows } from './input-rows.ts';
import { evalGraph, layoutOf, MultitaskModel, type EvalGraph, type Layout } from './model.ts';
import { schemaFrom, type MultitaskSchema } from './schema.ts';

/** A multi-task checkpoint's model on the GPU, ready to predict any number of rows. */
export class MultitaskPredictor {
  private constructor(
    readonly config: MultitaskConfig,
    readonly schema: MultitaskSchema,
    private readonly layout: Layout,
    private readonly ev: { graph: EvalGraph; step: CompiledStep },
    private readonly ring: StagingRing,
  ) {}

  /** `rows`: the batch rows (default: the evaluation graph's, from the schema). */
  static async open(gpu: Gpu, file: CheckpointFile, rows?: number): Promise<MultitaskPredictor> {
    const schema = schemaFrom(file);
    const config = { ...MULTITASK_DEFAULTS, ...file.config } as MultitaskConfig;
    const layout = layoutOf(config, schema);
    // The initial weights are drawn only to be overwritten by the checkpoint's.
    const model = new MultitaskModel(config, layout, new Rng(0));
    const graph = evalGraph(model, rows ?? schema.rows);
    const ring = new StagingRing(gpu);
    let step: CompiledStep | undefined;
    try {
      step = await CompiledStep.create(gpu, graph.g);
      loadWeights(file, step);
      return new MultitaskPredictor(config, schema, layout, { graph, step }, ring);
    } catch (err) {
      step?.destroy();
      ring.destroy();
      throw err;
    }
  }

  /** [rows × outputs] row-major, each output as schema.outputs says, for rows encoded as training encodes them. */
  async predict(rows: Pick<TabularRows, 'count' | 'categorical' | 'continuous'>): Promise<Float32Array> {
    return (await forwardRows(this.ev, this.ring, this.schema, this.layout, rows)).values;
  }

  destroy(): void {
    this.ev.step.destroy();
    this.ring.destroy();
  }
}

/** The output's columns: a probability and a 0/1 decision per binary output, a value per regression output. */
export function outputColumns(schema: MultitaskSchema): string[] {
  return schema.outputs.flatMap((o) => (o.kind === 'binary' ? [`${o.name}_probability`, `${o.name}_decision`] : [`${o.name}_value`]));
}

/** Rows of output values for predictions [rows × outputs]: probabilities and values as float32 values print, decisions at `threshold`. */
export function outputRows(schema: MultitaskSchema, values: Float32Array, threshold: number): number[][] {
  const K = schema.outputs.length;
  const out: number[][] = [];
  for (let r = 0; r * K < values.length; r++) {
    const row: number[] = [];
    schema.outputs.forEach((o, k) => {
      const v = values[r * K + k];
      row.push(v);
      if (o.kind === 'binary') row.push(v >= threshold ? 1 : 0);
    });
    out.push(row);
  }
  return out;
}

/** Four significant digits, without a trailing exponent for everyday values: a form's starting value and hint. */
const short = (x: number): string => String(Number(x.toPrecision(4)));

/**
 * The page's form: a number per continuous column (starting at its training mean, the spread
 * as hint) and a choice per categorical column (its training vocabulary, without the unknown row).
 */
export function formOf(schema: MultitaskSchema): PredictForm {
  const fields: PredictField[] = [
    ...schema.continuous.map((c): PredictField => ({ name: c.name, kind: 'number', value: short(c.mean), hint: `training mean ${short(c.mean)}, standard deviation ${short(c.std)}${schema.privateColumns[c.name] ? `; read by ${schema.privateColumns[c.name]} only` : ''}` })),
    ...schema.categorical.map((c): PredictField => ({ name: c.name, kind: 'choice', value: c.vocab[1] ?? '', choices: c.vocab.slice(1) })),
  ];
  return { flag: 'input', replaces: ['row'], fields };
}

/** The rows the flags give: --input (a file, or standard input as the front end read it) or --row. */
function inputOf(values: Record<string, unknown>): InputRows {
  const files = values.input as PredictFile[] | undefined;
  const row = values.row as string | undefined;
  if (files && row !== undefined) throw new DataError('--input and --row cannot be combined; give one.');
  if (files) return readInputFile(files[0]);
  if (row !== undefined) return readRowText(row);
  throw new DataError('predict needs rows: give --input FILE (CSV with a header, or JSON Lines; - for standard input) or --row \'name=value,...\'.');
}

export const MULTITASK_PREDICTOR: Predictor = {
  about:
    "Each input row's output per task: a probability and a 0/1 decision at --threshold (binary)\nor a value (regression); ESMM adds ctcvr. One output row per input row, in order: CSV on\nstdout, or JSON Lines with --json. A categorical value not seen in training maps to its\ncolumn's unknown row, with a note on stderr.",
  flags: [
    { key: 'input', flag: 'input', type: 'file', arg: 'FILE', help: 'rows to predict: CSV with a header, or JSON Lines; - reads standard input', label: 'Rows (CSV or JSON Lines)' },
    { key: 'row', flag: 'row', type: 'text', arg: "'a=1,b=x'", help: 'one row as name=value pairs', label: 'One row' },
    { key: 'threshold', flag: 'threshold', type: 'number', above: 0, below: 1, arg: 'P', help: 'a binary task decides 1 where its probability is >= P', label: 'Decision threshold' },
  ],
  defaults: { threshold: 0.5 },
  form: (file) => formOf(schemaFrom(file)),
  async predict(gpu: Gpu, file: CheckpointFile, values: Record<string, unknown>, out: PredictSink): Promise<void> {
    const schema = schemaFrom(file);
    const rows = encodeRows(schema, inputOf(values), (line) => out.note(line));
    const predictor = await MultitaskPredictor.open(gpu, file);
    try {
      out.columns(outputColumns(schema));
      const threshold = values.threshold as number;
      // A batch of output rows per batch of the graph, so large inputs stream out as they are done.
      const B = schema.rows;
      for (let at = 0; at < rows.count; at += B) {
        const n = Math.min(B, rows.count - at);
        const F = schema.categorical.length;
        const C = schema.continuous.length;
        const batch = { count: n, categorical: rows.categorical.subarray(at * F, (at + n) * F), continuous: rows.continuous.subarray(at * C, (at + n) * C) };
        out.rows(outputRows(schema, await predictor.predict(batch), threshold));
      }
    } finally {
      predictor.destroy();
    }
  },
};
