// run.json: what a run's folder says about itself, so that a logdir found later needs nothing
// else to be understood or rerun: the full config, the command line, the version, the adapter,
// the data, the start and end times, and the final and best metrics.
import pkg from '../package.json' with { type: 'json' };
import type { Best } from '../src/experiments/best.ts';
import { loggedScalars } from '../src/experiments/loop.ts';
import type { AnyExperiment, RunResult } from '../src/experiments/types.ts';
import type { AdapterReport } from '../src/gpu/adapter-report.ts';

export const RUN_FILE = 'run.json';

/** What every run of one command shares. */
export interface RunContext {
  /** The command line as typed after `shadertrain`. */
  command: string[];
  adapter: AdapterReport;
  data: { source: string; summary: string };
}

export interface RunEnd {
  result: RunResult<object>;
  best: Best;
  bestFile: string;
  stoppedAt?: number;
}

/** run.json's object for a finished run. */
export function runRecord(ex: AnyExperiment, config: object, ctx: RunContext, end: RunEnd, times: { started: Date; ended: Date }, files: { checkpoint?: string; resumedFrom?: string }): Record<string, unknown> {
  const evals = end.result.evaluations;
  const last = evals[evals.length - 1];
  const final = last ? { [ex.unit]: last.at, metrics: loggedScalars(ex, config, last).scalars } : null;
  const best = end.best.at === null ? null : { metric: end.best.metric.tag, [ex.unit]: end.best.at, value: end.best.value, file: end.bestFile };
  return {
    experiment: ex.name,
    run: ex.runName(config),
    version: pkg.version,
    command: ['shadertrain', ...ctx.command],
    config,
    data: ctx.data,
    adapter: ctx.adapter,
    started: times.started.toISOString(),
    ended: times.ended.toISOString(),
    seconds: (times.ended.getTime() - times.started.getTime()) / 1000,
    [`start_${ex.unit}`]: end.result.start,
    resumed_from: files.resumedFrom ?? null,
    checkpoint: files.checkpoint ?? null,
    stopped_early_at: end.stoppedAt ?? null,
    final,
    best,
  };
}
