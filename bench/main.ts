// `npm run bench -- SUITE [--json FILE] [--reps N] [--filter TEXT]`
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Gpu } from '../src/gpu/context.ts';
import { adapterLine } from '../src/gpu/adapter-report.ts';
import { StagingRing } from '../src/gpu/readback.ts';
import { fewshotResults } from './fewshot.ts';
import { formatTable, type BenchResult } from './harness.ts';
import { multitaskResults } from './multitask.ts';
import { predictResults } from './predict.ts';
import { recommenderResults } from './recommender.ts';
import { reliabilityResults } from './reliability.ts';
import { benchJson, benchJsonText, parseBenchJson } from './report.ts';
import { KERNEL_SUITES, PORTABLE_STEP_SUITES, runKernelSuite, timingText, type StepSuite } from './suites.ts';

const SUITES = KERNEL_SUITES;

/** Suites that time whole training steps rather than kernel variants. */
const STEP_SUITES: Record<string, StepSuite> = {
  ...PORTABLE_STEP_SUITES,
  recommender: recommenderResults,
  fewshot: fewshotResults,
  multitask: multitaskResults,
  predict: predictResults,
  reliability: reliabilityResults,
};

const USAGE = `usage: npm run bench -- SUITE [--json FILE] [--reps N] [--warmup N] [--filter TEXT]
       npm run bench -- report FILE   (prints the table of a --json file, or of the page's bench download)
suites: ${[...Object.keys(SUITES), ...Object.keys(STEP_SUITES)].join(', ')}`;

/** `report FILE`: a results file from this command or the page, printed as this command prints its table. */
function report(file: string | undefined): number {
  if (!file) {
    console.error(`bench: report needs the JSON file to print.\n${USAGE}`);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    console.error(`bench: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the path of a bench JSON file.`);
    return 2;
  }
  try {
    const json = parseBenchJson(text, file);
    console.log(`adapter: ${adapterLine(json.adapter)}`);
    console.log(formatTable(json.results));
    for (const [c, v] of Object.entries(json.picked ?? {})) console.log(`autotuner's pick for ${c}: ${v}`);
    return json.results.every((r) => r.ok) ? 0 : 1;
  } catch (err) {
    console.error(`bench: ${(err as Error).message}`);
    return 2;
  }
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        json: { type: 'string' },
        reps: { type: 'string', default: '30' },
        warmup: { type: 'string', default: '3' },
        filter: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const suite = positionals[0] ?? 'kernels';
  if (suite === 'report') return report(positionals[1]);
  const make = Object.hasOwn(SUITES, suite) ? SUITES[suite] : undefined;
  const steps = Object.hasOwn(STEP_SUITES, suite) ? STEP_SUITES[suite] : undefined;
  if (!make && !steps) {
    console.error(`bench: unknown suite "${suite}".\n${USAGE}`);
    return 2;
  }
  const reps = Number(values.reps);
  const warmup = Number(values.warmup);
  if (!Number.isInteger(reps) || reps < 1 || !Number.isInteger(warmup) || warmup < 0) {
    console.error('bench: --reps must be an integer >= 1 and --warmup an integer >= 0');
    return 2;
  }
  const gpu = await Gpu.create();
  const ring = new StagingRing(gpu);
  try {
    const timing = timingText(gpu, !steps, reps);
    console.log(`adapter: ${adapterLine(gpu.report)}; timing: ${timing}`);
    const results: BenchResult[] = [];
    const log = (l: string): void => console.error(l);
    if (steps) results.push(...(await steps(gpu, reps, log)));
    else if (make) results.push(...(await runKernelSuite(gpu, ring, make(), { reps, warmup, filter: values.filter, log }, false)).results);
    console.log(formatTable(results));
    if (values.json) {
      const tmp = `${values.json}.tmp-${process.pid}`;
      writeFileSync(tmp, benchJsonText(benchJson(gpu.report, results)));
      renameSync(tmp, values.json);
      console.log(`wrote ${values.json}`);
    }
    return results.every((r) => r.ok) ? 0 : 1;
  } finally {
    ring.destroy();
    gpu.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
