// The suites that run wherever WebGPU does: the CLI (bench/main.ts) and the page's bench view
// (web/worker/bench.ts) run them through this one function. The experiments' whole-step suites
// stay in the CLI: they read their data from disk, and compare with TF.js (a dev dependency the
// page does not bundle) and PyTorch (a Python process).
import type { Gpu } from '../src/gpu/context.ts';
import type { StagingRing } from '../src/gpu/readback.ts';
import { runCase, type BenchCase, type BenchResult } from './harness.ts';
import { kernelCases } from './kernels/index.ts';
import { stepResults } from './step.ts';

/** Kernel-variant suites: each variant validated against its reference, then timed. */
export const KERNEL_SUITES: Record<string, () => BenchCase[]> = {
  kernels: kernelCases,
};

export type StepSuite = (gpu: Gpu, reps: number, log: (l: string) => void) => Promise<BenchResult[]>;

/** Whole-step suites that need nothing but the GPU. */
export const PORTABLE_STEP_SUITES: Record<string, StepSuite> = {
  step: stepResults,
};

export interface SuiteOptions {
  reps: number;
  warmup: number;
  /** Only the cases whose name contains this text (kernel suites). */
  filter?: string;
  log: (line: string) => void;
}

export interface SuiteRun {
  results: BenchResult[];
  /** case → the autotuner's variant, for the tuned cases that ran. */
  picked: Record<string, string>;
}

/** The timing line the CLI prints under the adapter. */
export function timingText(gpu: Gpu, kernelSuite: boolean, reps: number): string {
  if (!kernelSuite) return `wall clock, mean over ${reps} steps after 3 warm-up steps`;
  return gpu.report.timestamps ? 'GPU timestamps, median' : 'wall clock, median';
}

/** Kernel cases matching the filter, each run through the harness; the autotuner asked for the tuned ones. */
export async function runKernelSuite(gpu: Gpu, ring: StagingRing, cases: readonly BenchCase[], opts: SuiteOptions, withPicks: boolean): Promise<SuiteRun> {
  const results: BenchResult[] = [];
  const picked: Record<string, string> = {};
  for (const c of cases.filter((k) => !opts.filter || k.case.includes(opts.filter))) {
    results.push(...(await runCase(gpu, ring, c, opts)));
    if (withPicks && c.tuned) picked[c.case] = await c.tuned(gpu);
  }
  return { results, picked };
}
