// The page's bench view, worker side: the CLI's portable suites (bench/suites.ts) on this
// browser's adapter, one at a time and never beside a training run, whose timings they would
// disturb. The autotuner's picks come from its IndexedDB cache, measured only when missing.
import { benchJson, type BenchJson } from '../../bench/report.ts';
import { KERNEL_SUITES, PORTABLE_STEP_SUITES, runKernelSuite, timingText } from '../../bench/suites.ts';
import type { Gpu } from '../../src/gpu/context.ts';
import { StagingRing } from '../../src/gpu/readback.ts';

/** What the page may ask for: the suites that need nothing but the GPU. */
export const PAGE_SUITES = [...Object.keys(KERNEL_SUITES), ...Object.keys(PORTABLE_STEP_SUITES)];

export interface BenchRequest {
  suite: string;
  filter: string;
  reps: number;
  warmup: number;
}

/** Runs one suite; `log` gets the CLI's progress lines. Throws one sentence on a bad request. */
export async function runPageBench(gpu: Gpu, req: BenchRequest, log: (line: string) => void): Promise<{ json: BenchJson; timing: string }> {
  const kernels = Object.hasOwn(KERNEL_SUITES, req.suite) ? KERNEL_SUITES[req.suite] : undefined;
  const steps = Object.hasOwn(PORTABLE_STEP_SUITES, req.suite) ? PORTABLE_STEP_SUITES[req.suite] : undefined;
  if (!kernels && !steps) throw new Error(`unknown bench suite "${req.suite}"; choose one of ${PAGE_SUITES.join(', ')}.`);
  if (!Number.isInteger(req.reps) || req.reps < 1) throw new RangeError('Timed runs must be a whole number of at least 1.');
  if (!Number.isInteger(req.warmup) || req.warmup < 0) throw new RangeError('Warm-up runs must be a whole number of at least 0.');
  const timing = timingText(gpu, !steps, req.reps);
  if (steps) return { json: benchJson(gpu.report, await steps(gpu, req.reps, log)), timing };
  const ring = new StagingRing(gpu);
  try {
    const cases = (kernels as NonNullable<typeof kernels>)();
    if (!cases.some((c) => !req.filter || c.case.includes(req.filter))) {
      throw new RangeError(`No bench case's name contains "${req.filter}"; clear the filter or use part of a name such as "${cases[0].case}".`);
    }
    const run = await runKernelSuite(gpu, ring, cases, { reps: req.reps, warmup: req.warmup, filter: req.filter || undefined, log }, true);
    return { json: benchJson(gpu.report, run.results, run.picked), timing };
  } finally {
    ring.destroy();
  }
}
