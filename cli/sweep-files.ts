// Where a sweep keeps its runs: one folder per configuration in the sweep's logdir, with the run's
// logs, its checkpoint (resumed from when it exists) and, once it has finished, result.json
// (written atomically at the very end: the marker that a rerun skips it).
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Evaluation, RunResult } from '../src/experiments/types.ts';
import { writeFileAtomic } from '../src/data/files-node.ts';
import { experimentValue, type HParamInfo, type MetricInfo } from '../src/log/hparams.ts';
import { decodeSafetensors } from '../src/log/safetensors.ts';
import { EventFileEncoder } from '../src/log/tensorboard.ts';
import type { Configuration } from '../src/sweep/expand.ts';
import type { Settings } from '../src/sweep/spec.ts';
import { UserError } from './errors.ts';

export interface Finished {
  index: number;
  settings: Settings;
  swept: Settings;
  /** Not recorded for a result recovered from a stopped run's record. */
  adapter?: string;
  result: RunResult<object>;
}

export const runDir = (logdir: string, c: Configuration): string => join(logdir, c.dir);
export const resultFile = (logdir: string, c: Configuration): string => join(runDir(logdir, c), 'result.json');
/** Every evaluation of the configuration's runs, a JSON line each: a resumed run's earlier history. */
export const evaluationsFile = (logdir: string, c: Configuration): string => join(runDir(logdir, c), 'evaluations.jsonl');
export const checkpointFile = (logdir: string, c: Configuration): string => join(runDir(logdir, c), 'checkpoint.safetensors');
/** The output of a configuration's process when the sweep runs locally. */
export const outputFile = (logdir: string, c: Configuration): string => join(logdir, `${c.dir}.log`);

const same = (a: Settings, b: Settings): boolean => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** The finished run of `c`, if there is one; a finished run of other settings in its place is refused. */
export function finished(logdir: string, c: Configuration): Finished | undefined {
  const path = resultFile(logdir, c);
  if (!existsSync(path)) return undefined;
  let f: Finished;
  try {
    f = JSON.parse(readFileSync(path, 'utf8')) as Finished;
  } catch (err) {
    throw new UserError(`${path} is not a sweep result (${(err as Error).message}); delete it to run configuration ${c.index} again`);
  }
  if (!same(f.settings, c.settings)) {
    throw new UserError(`${path} was finished with other settings than configuration ${c.index} of this spec; give the sweep another --logdir`);
  }
  return f;
}

/** Started but not finished: its checkpoint is there. */
export const started = (logdir: string, c: Configuration): boolean => existsSync(checkpointFile(logdir, c)) && !existsSync(resultFile(logdir, c));

/** The sweep's experiment for TensorBoard's HParams view, in an event file of the sweep's logdir. */
export const experimentFile = (logdir: string): string => join(logdir, 'events.out.tfevents.0000000000.shadertrain-sweep');

/**
 * Writes the experiment summary: the same bytes every time (no clock in them), so every process
 * of a sweep (a local run, each cluster task) may write it, atomically, whichever comes first.
 */
export async function writeExperiment(logdir: string, hparams: readonly HParamInfo[], metrics: readonly MetricInfo[]): Promise<void> {
  const bytes = new EventFileEncoder(() => 0).summary(experimentValue(hparams, metrics, 0), 0);
  await writeFileAtomic(experimentFile(logdir), bytes);
}

export function recordEvaluation(logdir: string, c: Configuration, e: Evaluation): void {
  mkdirSync(runDir(logdir, c), { recursive: true });
  appendFileSync(evaluationsFile(logdir, c), `${JSON.stringify(e)}\n`);
}

/**
 * The whole run's result: a run resumed from a checkpoint taken after `r.start` units gets the
 * evaluations up to there from the earlier processes' record (the latest of each, as a process
 * stopped between recording one and writing its checkpoint evaluates it again when resumed).
 */
/** The recorded evaluations, the latest of each `at`, in order. */
function recorded(logdir: string, c: Configuration): Evaluation[] {
  if (!existsSync(evaluationsFile(logdir, c))) return [];
  const lines = readFileSync(evaluationsFile(logdir, c), 'utf8').split('\n').filter((l) => l !== '');
  const byAt = new Map<number, Evaluation>();
  for (const [i, line] of lines.entries()) {
    let e: Evaluation;
    try {
      e = JSON.parse(line) as Evaluation;
    } catch (err) {
      if (i === lines.length - 1) continue; // a line cut short by a stop
      throw new UserError(`${evaluationsFile(logdir, c)} line ${i + 1} is not an evaluation (${(err as Error).message}); delete the folder to run configuration ${c.index} again`);
    }
    byAt.set(e.at, e);
  }
  return [...byAt.values()].sort((a, b) => a.at - b.at);
}

/**
 * The result of a configuration stopped after its final checkpoint but before its result.json:
 * its record reaches the full length and the checkpoint holds every step of it. Wall time is
 * the record's training and evaluation time; the trainer's facts are not recorded.
 */
export function recoverFinished(logdir: string, c: Configuration, config: object, length: number): RunResult<object> | undefined {
  const evaluations = recorded(logdir, c);
  if (evaluations[evaluations.length - 1]?.at !== length) return undefined;
  const steps = evaluations.reduce((n, e) => n + e.steps, 0);
  const { metadata } = decodeSafetensors(readFileSync(checkpointFile(logdir, c)), checkpointFile(logdir, c));
  if (Number(metadata.step) !== steps) return undefined;
  const trainMs = evaluations.reduce((n, e) => n + e.trainMs, 0);
  const seconds = evaluations.reduce((n, e) => n + e.trainMs + e.evalMs, 0) / 1000;
  return { config, start: 0, evaluations, msPerStep: steps > 0 ? trainMs / steps : NaN, seconds, facts: {} };
}

export function withHistory(logdir: string, c: Configuration, r: RunResult<object>): RunResult<object> {
  if (r.start === 0) return r;
  return { ...r, evaluations: [...recorded(logdir, c).filter((e) => e.at <= r.start), ...r.evaluations] };
}
