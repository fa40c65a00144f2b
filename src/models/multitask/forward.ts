// Running the evaluation graph over rows: the one loop both evaluation and prediction use, so
// a prediction is what evaluation computes, bit for bit. Each chunk of the graph's rows is one
// upload (the feature inputs), one submission and one readback; the last chunk is padded.
import type { TabularData, TabularRows } from '../../data/tabular.ts';
import type { StagingRing } from '../../gpu/readback.ts';
import type { CompiledStep } from '../../graph/compile.ts';
import { featureBatch } from './batches.ts';
import type { EvalGraph, Layout } from './model.ts';
import type { Predictions } from './scores.ts';

export async function forwardRows(
  ev: { graph: EvalGraph; step: CompiledStep },
  ring: StagingRing,
  columns: Pick<TabularData, 'categorical' | 'continuous'>,
  layout: Layout,
  rows: Pick<TabularRows, 'count' | 'categorical' | 'continuous'>,
): Promise<Predictions> {
  const { graph, step } = ev;
  const K = graph.outputs;
  const values = new Float32Array(rows.count * K);
  const idx = new Uint32Array(graph.rows);
  for (let at = 0; at < rows.count; at += graph.rows) {
    const n = Math.min(graph.rows, rows.count - at);
    for (let i = 0; i < n; i++) idx[i] = at + i;
    step.feed(featureBatch(columns, layout, rows as TabularRows, idx.subarray(0, n), graph.rows));
    step.run();
    const out = (await step.read(ring, graph.predictions)) as Float32Array;
    values.set(out.subarray(0, n * K), at * K);
  }
  return { values, outputs: K };
}
