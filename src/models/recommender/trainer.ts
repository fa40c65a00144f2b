// Training and evaluating the recommender on the GPU: one compiled step per batch (and one
// for the epoch's smaller last batch, over the same weights), losses summed on the GPU and read
// once per epoch, and an evaluation step that ranks every held-out pair on the GPU. Its unit is
// the epoch.
// Browser-safe: no file system here; the CLI and the web page bring the data and save files.
import type { Gpu } from '../../gpu/context.ts';
import { StagingRing } from '../../gpu/readback.ts';
import type { EvalResult, Trainer, TrainResult } from '../../experiments/types.ts';
import { Lookout, type Watch } from '../../experiments/watch.ts';
import { CheckpointError, checkpointConfig, loadCheckpoint, saveCheckpoint, type CheckpointData } from '../../graph/checkpoint.ts';
import { CompiledStep } from '../../graph/compile.ts';
import { nonFiniteParams } from '../../graph/metrics.ts';
import { ratedMask } from '../../graph/rated-mask.ts';
import { meanReciprocalRank } from '../../metrics/ranking.ts';
import { Rng } from '../../random.ts';
import { checkConfig, type RecommenderConfig } from './config.ts';
import { Recommender, evalGraph, recommenderAdam, trainGraph, type EvalGraph, type TrainGraph, type Tables } from './model.ts';
import type { AdamOptimizer } from '../../optim/adam.ts';
import { splitRows, tableSizes, type RatingRows, type Split } from './split.ts';

interface Compiled {
  graph: TrainGraph;
  step: CompiledStep;
}

export class RecommenderTrainer implements Trainer {
  /** Epochs finished (the next epoch's index). */
  private epochs = 0;

  private constructor(
    readonly config: RecommenderConfig,
    readonly tables: Tables,
    private readonly data: RatingRows,
    readonly split: Split,
    private rng: Rng,
    private readonly ring: StagingRing,
    private readonly optimizer: AdamOptimizer,
    private readonly full: Compiled,
    private readonly tail: Compiled | null,
    private readonly evaluation: { graph: EvalGraph; step: CompiledStep },
    /** The data set its checkpoints record (absent: they record none). */
    private readonly origin: CheckpointData | undefined,
  ) {}

  /** Splits the data, initialises the weights and compiles every step. */
  static async create(gpu: Gpu, data: RatingRows, config: RecommenderConfig, origin?: CheckpointData): Promise<RecommenderTrainer> {
    checkConfig(config);
    const tables = tableSizes(data);
    // One generator for everything, in a fixed order: split, weights, then each epoch's shuffle and negatives.
    const rng = new Rng(config.seed);
    const split = splitRows(data.count, config.testFraction, rng);
    if (split.train.length === 0 || split.test.length === 0) {
      throw new RangeError(`${data.count} ratings with --test_fraction ${config.testFraction} leave ${split.train.length} for training and ${split.test.length} for testing; both need at least one`);
    }
    const model = new Recommender(config, tables, rng);
    const batch = Math.min(config.batchSize, split.train.length);
    const tailSize = split.train.length % batch;
    const ring = new StagingRing(gpu);
    const made: { destroy(): void }[] = [];
    // Table rows the batches skip catch up when read; each epoch's metrics read flushes them,
    // so a row lags at most one epoch's steps.
    const optimizer = recommenderAdam(config, Math.ceil(split.train.length / batch) + 1);
    try {
      const fullGraph = trainGraph(model, batch, optimizer);
      const full = { graph: fullGraph, step: await CompiledStep.create(gpu, fullGraph.g) };
      made.push(full.step);
      await optimizer.compileFlush(gpu, full.step);
      made.push(optimizer);
      let tail: Compiled | null = null;
      if (tailSize > 0) {
        const tg = trainGraph(model, tailSize, optimizer);
        tail = { graph: tg, step: await CompiledStep.create(gpu, tg.g, { shareWith: full.step }) };
        made.push(tail.step);
      }
      const eg = evalGraph(model, split.test.length);
      const evaluation = { graph: eg, step: await CompiledStep.create(gpu, eg.g, { shareWith: full.step }) };
      made.push(evaluation.step);
      const trainer = new RecommenderTrainer(config, tables, data, split, rng, ring, optimizer, full, tail, evaluation, origin);
      trainer.feedEvaluation();
      return trainer;
    } catch (err) {
      for (const s of made.reverse()) s.destroy();
      ring.destroy();
      throw err;
    }
  }

  get stepsPerEpoch(): number {
    return Math.ceil(this.split.train.length / this.full.graph.batch);
  }

  get done(): number {
    return this.epochs;
  }

  stepsIn(units: number): number {
    return units * this.stepsPerEpoch;
  }

  facts(): Record<string, string | number> {
    return { dispatches_per_step: this.full.step.dispatchCount };
  }

  /** Optimizer steps taken so far (the full and the last batch's steps share one optimizer). */
  get step(): number {
    return this.optimizer.step;
  }

  private feedEvaluation(): void {
    const { data, split, tables } = this;
    const pick = <T extends Uint32Array | Float32Array>(src: T, rows: Uint32Array): T => {
      const out = new (src.constructor as { new (n: number): T })(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = src[rows[i]];
      return out;
    };
    const rated = ratedMask(pick(data.users, split.train), pick(data.items, split.train), tables);
    // Fed twice: the step alternates between two input sets, and evaluation inputs never change.
    for (let k = 0; k < 2; k++) this.evaluation.step.feed({ users: pick(data.users, split.test), items: pick(data.items, split.test), rated });
  }

  /**
   * `units` epochs, each: shuffle the training rows, sequential batches, one uniform negative
   * item per row. The losses are the means over their steps.
   */
  async train(units: number, onStep?: (done: number, total: number) => void, _until?: () => boolean, watch?: Watch): Promise<TrainResult> {
    const t0 = performance.now();
    const total = this.stepsIn(units);
    const { metrics } = this.full.graph;
    const lookout = new Lookout(watch, async (steps) => this.values(await metrics.peek(this.full.step, this.ring, steps)));
    let done = 0;
    try {
      for (let e = 0; e < units && done === e * this.stepsPerEpoch; e++) done += await this.epoch((s) => onStep?.(e * this.stepsPerEpoch + s, total), lookout, done);
    } finally {
      await lookout.close();
    }
    const sums = await metrics.read(this.full.step, this.ring, done, this.step, true); // a NaN is the training loop's to name
    return { values: this.values(sums), ms: performance.now() - t0, steps: done };
  }

  /** The training metrics as train() reports them, from the metric sums' per-step means. */
  private values({ factorization: f, regression: r }: Record<string, number>): Record<string, number> {
    const { factorizationWeight: wF, regressionWeight: wR } = this.config;
    return { factorizationLoss: f, trainMse: r, jointLoss: wF * f + wR * r };
  }

  nonFiniteParams(): Promise<string[]> {
    return nonFiniteParams(this.full.step, this.ring);
  }

  /** One epoch's steps, submitted; `onStep(done)` after each. Returns the steps submitted: fewer where `lookout` stops it (`before`: the call's steps until this epoch). */
  private async epoch(onStep: (done: number) => void, lookout: Lookout, before: number): Promise<number> {
    const { data, rng } = this;
    const order = rng.shuffle(Uint32Array.from(this.split.train));
    const total = this.stepsPerEpoch;
    for (let s = 0; s < total; s++) {
      const rows = order.subarray(s * this.full.graph.batch, (s + 1) * this.full.graph.batch);
      const c = rows.length === this.full.graph.batch ? this.full : (this.tail as Compiled);
      const n = rows.length;
      const users = new Uint32Array(n);
      const items = new Uint32Array(2 * n);
      const ratings = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        users[i] = data.users[rows[i]];
        items[i] = data.items[rows[i]];
        ratings[i] = data.ratings[rows[i]];
      }
      for (let i = 0; i < n; i++) items[n + i] = rng.int(this.tables.items);
      c.step.feed(this.config.sharedEmbeddings ? { users, items, ratings } : { users, items, ratings, positives: items.subarray(0, n) });
      this.optimizer.prepare(c.step);
      c.step.run();
      onStep(s + 1);
      if (lookout.due(before + s + 1) && (await lookout.after(before + s + 1))) return s + 1;
    }
    this.epochs += 1;
    return total;
  }

  /** MRR over users with held-out ratings, and the held-out MSE of the regression head. */
  async evaluate(): Promise<EvalResult> {
    const t0 = performance.now();
    const { ranks, predictions: pred } = await this.evaluationOutputs();
    const { data, split } = this;
    const users = new Uint32Array(split.test.length);
    let se = 0;
    for (let i = 0; i < split.test.length; i++) {
      const row = split.test[i];
      users[i] = data.users[row];
      se += (data.ratings[row] - pred[i]) ** 2;
    }
    return { values: { mrr: meanReciprocalRank(users, ranks), testMse: se / split.test.length }, ms: performance.now() - t0 };
  }

  /** Evaluation's outputs for the held-out pairs, in split.test's order: each one's rank and predicted rating. */
  async evaluationOutputs(): Promise<{ ranks: Float32Array; predictions: Float32Array }> {
    const { step, graph } = this.evaluation;
    step.run();
    const ranks = (await step.read(this.ring, graph.ranks)) as Float32Array;
    const predictions = (await step.read(this.ring, graph.predictions)) as Float32Array;
    return { ranks, predictions };
  }

  /** The current parameters by name (for inspection: top items, tests). */
  async weights(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const t of this.full.graph.g.params) out.set(t.name, (await this.full.step.read(this.ring, t)) as Float32Array);
    return out;
  }

  async checkpoint(): Promise<Uint8Array> {
    return saveCheckpoint(this.full.step, this.ring, {
      step: this.step,
      rng: this.rng.state(),
      config: { model: 'recommender', epoch: this.epochs, ...this.config },
      about: { experiment: 'recommender', ...(this.origin ? { data: this.origin } : {}) },
    });
  }

  /** Continues from a checkpoint of the same configuration (the number of epochs may differ). */
  restore(bytes: Uint8Array, source: string): void {
    // The settings first: a checkpoint of another configuration is named as such, not as a list of tensors.
    const saved = checkpointConfig(bytes, source);
    const mismatched = (Object.keys(this.config) as (keyof RecommenderConfig)[]).filter(
      (k) => k !== 'epochs' && JSON.stringify(saved[k]) !== JSON.stringify(this.config[k]),
    );
    if (saved.model !== 'recommender' || mismatched.length) {
      throw new CheckpointError(`${source} was trained with other settings (${mismatched.map((k) => `${k}: ${JSON.stringify(saved[k])}`).join(', ') || `model ${String(saved.model)}`}); resume with the same flags`);
    }
    const meta = loadCheckpoint(bytes, this.full.step, source);
    this.optimizer.restore(meta.step);
    this.rng = Rng.fromState(meta.rng);
    this.epochs = Number(saved.epoch);
  }

  destroy(): void {
    this.evaluation.step.destroy();
    this.tail?.step.destroy();
    this.optimizer.destroy();
    this.full.step.destroy();
    this.ring.destroy();
  }
}
