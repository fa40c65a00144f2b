// run.json: what a run's folder says about itself, so that a logdir found later needs nothing
// else to be understood or rerun: the full config, the command line, the version, the adapter,
// the data, the start and end times, and the final and best metrics.
import pkg from '../package.json' with { type: 'json' };
import type { Best } from '../src/experiments/best.ts';
import type { Estimate } from '../src/experiments/estimate.ts';
import { formatValue, type OptionSpec } from '../src/experiments/options.ts';
import { loggedScalars } from '../src/experiments/loop.ts';
import type { AnyExperiment, RunResult } from '../src/experiments/types.ts';
import type { AdapterReport } from '../src/gpu/adapter-report.ts';
import type { CheckpointData } from '../src/graph/checkpoint.ts';
import { markdownTable } from '../src/log/markdown.ts';

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
  /** The units trained when a Ctrl-C ended the run (its checkpoint, if any, is there), if one did. */
  interruptedAt?: number;
  /** What the run's timed first steps predicted for its training loop. */
  estimate?: Estimate;
}

/** run.json's object for a finished run. */
export function runRecord(
  ex: AnyExperiment,
  config: object,
  ctx: RunContext,
  end: RunEnd,
  times: { started: Date; ended: Date },
  files: { checkpoint?: string; resumedFrom?: string },
  /** The data set's name and fingerprint, as the run's checkpoints record them. */
  origin?: CheckpointData,
): Record<string, unknown> {
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
    data: origin ? { ...ctx.data, name: origin.name, fingerprint: origin.fingerprint } : ctx.data,
    adapter: ctx.adapter,
    started: times.started.toISOString(),
    ended: times.ended.toISOString(),
    seconds: (times.ended.getTime() - times.started.getTime()) / 1000,
    // The training loop's wall time (evaluations and their logging included), which the estimate predicts.
    training_seconds: end.result.seconds,
    estimate: end.estimate ? { seconds: end.estimate.seconds, ms_per_step: end.estimate.msPerStep, eval_ms: end.estimate.evalMs } : null,
    [`start_${ex.unit}`]: end.result.start,
    resumed_from: files.resumedFrom ?? null,
    checkpoint: files.checkpoint ?? null,
    stopped_early_at: end.stoppedAt ?? null,
    interrupted_at: end.interruptedAt ?? null,
    final,
    best,
  };
}

/** A run's settings as a markdown table of its flags and their values, in the options' order (a negated switch shows whether it was given). */
export function configMarkdown(options: readonly OptionSpec[], config: object): string {
  const c = config as Record<string, unknown>;
  const value = (o: OptionSpec): string => formatValue(o.type === 'bool' && o.negated ? !c[o.key] : c[o.key]);
  return markdownTable(['flag', 'value'], options.filter((o) => c[o.key] !== undefined).map((o) => [`--${o.flag}`, value(o)]));
}
