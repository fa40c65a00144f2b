// `npm run bench -- SUITE [--json FILE] [--reps N] [--filter TEXT]`
import { writeFileSync, renameSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Gpu } from '../src/gpu/context.ts';
import { adapterLine } from '../src/gpu/adapter-report.ts';
import { StagingRing } from '../src/gpu/readback.ts';
import { fewshotResults } from './fewshot.ts';
import { formatTable, runCase, type BenchCase, type BenchResult } from './harness.ts';
import { kernelCases } from './kernels/index.ts';
import { multitaskResults } from './multitask.ts';
import { recommenderResults } from './recommender.ts';
import { stepResults } from './step.ts';

const SUITES: Record<string, () => BenchCase[]> = {
  kernels: kernelCases,
};

/** Suites that time whole training steps rather than kernel variants. */
const STEP_SUITES: Record<string, (gpu: Gpu, reps: number, log: (l: string) => void) => Promise<BenchResult[]>> = {
  step: stepResults,
  recommender: recommenderResults,
  fewshot: fewshotResults,
  multitask: multitaskResults,
};

const USAGE = `usage: npm run bench -- SUITE [--json FILE] [--reps N] [--warmup N] [--filter TEXT]
suites: ${[...Object.keys(SUITES), ...Object.keys(STEP_SUITES)].join(', ')}`;

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
    const timing = steps ? `wall clock, mean over ${reps} steps after 3 warm-up steps` : gpu.report.timestamps ? 'GPU timestamps, median' : 'wall clock, median';
    console.log(`adapter: ${adapterLine(gpu.report)}; timing: ${timing}`);
    const results: BenchResult[] = [];
    const log = (l: string): void => console.error(l);
    if (steps) results.push(...(await steps(gpu, reps, log)));
    else if (make) {
      const cases = make().filter((c) => !values.filter || c.case.includes(values.filter));
      for (const c of cases) results.push(...(await runCase(gpu, ring, c, { reps, warmup, log })));
    }
    console.log(formatTable(results));
    if (values.json) {
      const out = {
        adapter: gpu.report,
        results: results.map((r) => ({ case: r.case, impl: r.impl, median_ms: r.median_ms, ok: r.ok, speedup: r.speedup, ...(r.error ? { error: r.error } : {}) })),
      };
      const tmp = `${values.json}.tmp-${process.pid}`;
      writeFileSync(tmp, JSON.stringify(out, null, 2) + '\n');
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
