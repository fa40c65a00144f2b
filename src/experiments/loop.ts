// The training loop of every experiment and front end: an evaluation first where the experiment
// asks for one, then the training up to each evaluation in one call of the trainer, and after
// each evaluation a hook that is awaited (log, checkpoint, pause): the generator is then where a
// checkpoint taken there resumes exactly. A step-counted run interrupted between evaluations
// ends at a step boundary, which is such a place too. Browser-safe.
import { checkDivergence, divergedMetric } from './divergence.ts';
import { WATCH_EVERY, type Watch } from './watch.ts';
import { estimate, type Estimate } from './estimate.ts';
import { metricsOf, type AnyExperiment, type Evaluation, type RunResult, type Trainer, type TrainResult } from './types.ts';

export interface LoopOptions {
  /** The trainer was restored from a checkpoint (which was taken after its first evaluation). */
  resumed: boolean;
  /** After each training step is submitted: steps of this run so far, and in all. */
  onStep?(done: number, total: number): void;
  onEvaluation(e: Evaluation): void | Promise<void>;
  /**
   * Step-counted runs only: train at most this many steps per call of the trainer and report
   * each piece's training metrics (their means) to `onTrained`, so that a chart of the training
   * loss fills between evaluations. Weights are the same; each piece ends in one readback.
   */
  chunk?: number;
  onTrained?(at: number, values: Record<string, number>): void;
  /**
   * Times the run's first steps (real steps of the run: the first round is trained in several
   * calls, which draw the same batches in the same order) and reports the whole run's expected
   * wall time before going on: pieces of `steps` steps until `seconds` have passed (a machine's
   * load comes and goes; a longer sample averages it), within the first round. An evaluation
   * costs what the first one took with its hook (logging, checkpoints). Only where the unit is a
   * step: an epoch is not split.
   */
  warmup?: { steps: number; seconds?: number; onEstimate(e: Estimate): void };
  /** Asked after each evaluation's hook: true ends the run there (early stopping). */
  stop?(): boolean;
  /**
   * A user's stop (Ctrl-C). Where the unit is the step, asked before each step: true ends the
   * run there without an evaluation, at `trainer.done`, where a checkpoint resumes exactly. Where
   * it is the epoch (whose steps are queued together and whose order is drawn for the whole
   * epoch), asked after each evaluation's hook, as stop() is.
   */
  interrupted?(): boolean;
}

/** Two parts of one round as one: train() reports per-step means, so they combine by steps. */
function merged(a: TrainResult, b: TrainResult): TrainResult {
  const n = a.steps + b.steps;
  const values = Object.fromEntries(Object.keys(b.values).map((k) => [k, (a.values[k] * a.steps + b.values[k] * b.steps) / n]));
  return { values, ms: a.ms + b.ms, steps: n };
}

/** The units trained between one evaluation and the next, from `done` to `length`. */
export function chunks(done: number, length: number, every: number): number[] {
  const out: number[] = [];
  for (let at = done; at < length; ) {
    const n = Math.min(every - (at % every), length - at);
    out.push(n);
    at += n;
  }
  return out;
}

/** Trains `config`'s length from where the trainer is, evaluating where the experiment says. */
export async function trainLoop(ex: AnyExperiment, trainer: Trainer, config: object, o: LoopOptions): Promise<RunResult<object>> {
  const start = trainer.done;
  const plan = chunks(start, ex.length(config), ex.evalEvery(config));
  const total = trainer.stepsIn(plan.reduce((a, b) => a + b, 0));
  const evaluations: Evaluation[] = [];
  const warmup = o.warmup && ex.unit === 'step' && plan.length > 0 && plan[0] > o.warmup.steps ? o.warmup : undefined;
  let trainMs = 0;
  let steps = 0;
  const t0 = performance.now();
  // The first evaluation's wall time with its hook: what each evaluation of the run will cost.
  let firstEvalMs: number | undefined;
  const report = async (e: Evaluation): Promise<void> => {
    evaluations.push(e);
    const h0 = performance.now();
    await o.onEvaluation(e);
    firstEvalMs ??= e.evalMs + performance.now() - h0;
  };
  if (ex.evaluateFirst && !o.resumed) {
    const ev = await trainer.evaluate();
    await checkDivergence(ex, config, trainer, ev.values, trainer.done, true);
    const untrained = Object.fromEntries(metricsOf(ex, config).filter((m) => !m.test).map((m) => [m.key, null]));
    await report({ at: trainer.done, values: { ...untrained, ...ev.values }, trainMs: 0, steps: 0, evalMs: ev.ms });
  }
  const until = ex.unit === 'step' ? o.interrupted?.bind(o) : undefined;
  // The training metrics looked at every few steps inside a round: a diverging run stops there, not at the round's end.
  let diverged: Record<string, number> | undefined;
  const watch: Watch = {
    every: WATCH_EVERY,
    diverged: (values) => {
      if (divergedMetric(ex, config, values)) diverged = values;
      return diverged !== undefined;
    },
  };
  for (const [i, units] of plan.entries()) {
    if (until?.()) break;
    const before = steps;
    const roundStart = trainer.done;
    const onStep = (done: number): void => o.onStep?.(before + done, total);
    let tr: TrainResult;
    if (i === 0 && warmup) {
      let first = await trainer.train(warmup.steps, onStep, until, watch);
      while (!until?.() && !diverged && first.ms < (warmup.seconds ?? 0) * 1000 && units - first.steps > warmup.steps) {
        const timed = first.steps;
        first = merged(first, await trainer.train(warmup.steps, (done) => onStep(timed + done), until, watch));
      }
      if (until?.() || diverged) {
        tr = first;
      } else {
        warmup.onEstimate(estimate(total, plan.length + evaluations.length, first.ms / first.steps, firstEvalMs ?? 0));
        const timed = first.steps;
        const rest = await trainPieces(ex, trainer, config, units - timed, o, (done) => onStep(timed + done), until, watch);
        tr = merged(first, rest);
      }
    } else {
      tr = await trainPieces(ex, trainer, config, units, o, onStep, until, watch);
    }
    trainMs += tr.ms;
    steps += tr.steps;
    // Before the evaluation and its hook: a diverged run writes no checkpoint over the last good one.
    // Stopped inside an epoch: where in it ("step 64 of epoch 2"); steps are their own unit.
    const into = tr.steps - trainer.stepsIn(trainer.done - roundStart);
    const at = ex.unit === 'step' || into === 0 ? trainer.done : `step ${into} of ${ex.unit} ${trainer.done + 1}`;
    await checkDivergence(ex, config, trainer, tr.values, at);
    // What the watch saw diverge (the round's values, read later, may have come back under a bound).
    if (diverged) await checkDivergence(ex, config, trainer, diverged, at);
    if (tr.steps < units) break; // interrupted between two evaluations
    const ev = await trainer.evaluate();
    await checkDivergence(ex, config, trainer, ev.values, trainer.done);
    await report({ at: trainer.done, values: { ...tr.values, ...ev.values }, trainMs: tr.ms, steps: tr.steps, evalMs: ev.ms });
    if (o.interrupted?.() || o.stop?.()) break;
  }
  return { config, start, evaluations, msPerStep: steps > 0 ? trainMs / steps : NaN, seconds: (performance.now() - t0) / 1000, facts: trainer.facts() };
}

/** `units` of training in one call, or in pieces of `o.chunk` steps whose means are combined by their steps; fewer where `until` stops it. */
async function trainPieces(ex: AnyExperiment, trainer: Trainer, config: object, units: number, o: LoopOptions, onStep: (done: number) => void, until?: () => boolean, watch?: Watch): Promise<TrainResult> {
  const chunk = ex.unit === 'step' && o.chunk && o.chunk > 0 ? o.chunk : units;
  if (chunk >= units) return trainer.train(units, (done) => onStep(done), until, watch);
  const sums: Record<string, number> = {};
  let ms = 0;
  let steps = 0;
  for (let left = units; left > 0; ) {
    const n = Math.min(chunk, left);
    const before = steps;
    const tr = await trainer.train(n, (done) => onStep(before + done), until, watch);
    ms += tr.ms;
    steps += tr.steps;
    left -= tr.steps;
    for (const [k, v] of Object.entries(tr.values)) sums[k] = (sums[k] ?? 0) + v * tr.steps;
    // The last piece's values arrive with the evaluation.
    if (left > 0) {
      await checkDivergence(ex, config, trainer, tr.values, trainer.done);
      o.onTrained?.(trainer.done, tr.values);
    }
    if (until?.() || tr.steps < n) break;
  }
  return { values: Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / steps])), ms, steps };
}


/**
 * An evaluation as every output records it (console, metrics.jsonl, TensorBoard, the page's
 * charts, CSV and JSON): at the units trained when it was taken, so epoch 1 (or step 100) is the
 * evaluation after the first epoch (the first 100 steps) and 0 the untrained model's; each
 * measured metric under its tag.
 */
export function loggedScalars(ex: AnyExperiment, config: object, e: Evaluation): { step: number; scalars: Record<string, number> } {
  const scalars: Record<string, number> = {};
  for (const m of metricsOf(ex, config)) {
    const x = e.values[m.key];
    if (typeof x === 'number') scalars[m.tag] = x;
  }
  return { step: e.at, scalars };
}
