// `npm run bench -- predict`: `shadertrain predict`'s work for 100,000 census-income rows given as
// CSV (the embedded split's rows, repeated to 100,000) through an MMoE checkpoint of the default
// config: parsing and encoding the rows, the evaluation graph's batches on the GPU, and the CSV
// output text; and the GPU part alone. Prints rows per second. The weights are the untrained
// ones of a fresh trainer (the same work as trained ones).
import { readTabularFiles } from '../src/data/tabular/files-node.ts';
import { fileText, textLines } from '../src/data/tabular/table.ts';
import { buildTabular } from '../src/data/tabular/build.ts';
import { CENSUS_COLUMNS } from '../src/data/tabular/census.ts';
import type { Gpu } from '../src/gpu/context.ts';
import { median } from '../src/gpu/timing.ts';
import { readCheckpoint } from '../src/graph/checkpoint.ts';
import { MULTITASK_DEFAULTS, type MultitaskConfig } from '../src/models/multitask/config.ts';
import { encodeRows, readInputFile } from '../src/models/multitask/input-rows.ts';
import { MULTITASK_PREDICTOR, MultitaskPredictor } from '../src/models/multitask/predict.ts';
import type { MultitaskSchema } from '../src/models/multitask/schema.ts';
import { MultitaskTrainer } from '../src/models/multitask/trainer.ts';
import type { BenchResult } from './harness.ts';

const ROWS = 100_000;
const CONFIG: MultitaskConfig = { ...MULTITASK_DEFAULTS, model: 'mmoe', dataset: 'census-income' };

/** The census rows as a CSV with a header (the UCI files have none and separate by ", "). */
function censusCsv(name: string, bytes: Uint8Array): Uint8Array {
  const { lines } = textLines(fileText(name, bytes));
  const out = [CENSUS_COLUMNS.join(',')];
  for (let r = 0; r < ROWS; r++) out.push(lines[r % lines.length].split(', ').join(','));
  return new TextEncoder().encode(`${out.join('\n')}\n`);
}

export async function predictResults(gpu: Gpu, reps: number, log: (l: string) => void): Promise<BenchResult[]> {
  const files = readTabularFiles('census-income', undefined);
  const trainer = await MultitaskTrainer.create(gpu, buildTabular(CONFIG, files), CONFIG);
  let bytes: Uint8Array;
  try {
    bytes = await trainer.checkpoint();
  } finally {
    trainer.destroy();
  }
  const file = readCheckpoint(bytes, 'census-mmoe.safetensors');
  const input = { name: 'census.csv', bytes: censusCsv(files[0].name, files[0].bytes) };
  log(`  input: ${ROWS} census rows as CSV, ${(input.bytes.length / 1e6).toFixed(1)} MB; MMoE (${CONFIG.experts} experts), batches of ${(file.schema as MultitaskSchema).rows} rows`);
  const times = Math.max(1, Math.min(reps, 3));

  // The whole of `predict`: parse, encode, forward, output text (kept, not printed).
  const whole: number[] = [];
  let outRows = 0;
  for (let i = 0; i <= times; i++) {
    const t0 = performance.now();
    let chars = 0;
    outRows = 0;
    const sink = { columns: () => {}, rows: (rs: readonly (readonly (string | number)[])[]) => void ((outRows += rs.length), (chars += rs.map((r) => r.join(',')).join('\n').length)), note: () => {} };
    await MULTITASK_PREDICTOR.predict(gpu, file, { input: [input], threshold: 0.5 }, sink);
    if (i > 0) whole.push(performance.now() - t0); // the first run compiles the pipelines
  }
  if (outRows !== ROWS) throw new Error(`predict wrote ${outRows} rows for ${ROWS}`);

  // The GPU part alone: the encoded rows through the evaluation graph.
  const rows = encodeRows(file.schema as MultitaskSchema, readInputFile(input), () => {});
  const p = await MultitaskPredictor.open(gpu, file);
  const forward: number[] = [];
  try {
    await p.predict(rows);
    for (let i = 0; i < times; i++) {
      const t0 = performance.now();
      await p.predict(rows);
      forward.push(performance.now() - t0);
    }
  } finally {
    p.destroy();
  }
  const all = median(whole);
  const gpuMs = median(forward);
  log(`  predict: ${(ROWS / (all / 1000)).toFixed(0)} rows/s (${(all / 1000).toFixed(2)} s for ${ROWS} rows, CSV in and out); forward alone: ${(ROWS / (gpuMs / 1000)).toFixed(0)} rows/s (${(gpuMs / 1000).toFixed(2)} s); medians of ${times}`);
  const c = `predict ${ROWS} census rows, MMoE`;
  return [
    { case: c, impl: 'predict (CSV parse, encode, GPU, CSV out)', median_ms: all, ok: true, speedup: 1 },
    { case: c, impl: 'evaluation graph alone (GPU, batches)', median_ms: gpuMs, ok: true, speedup: all / gpuMs },
  ];
}
