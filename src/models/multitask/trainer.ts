// Training and evaluating a multi-task model on the GPU: one compiled step per batch shape
// (the full batch, the epoch's smaller last batch, or one per task in alternating training),
// every step's losses summed on the GPU and read once per epoch; evaluation runs a forward-only
// step over the validation and test rows in chunks and scores them on the host (AUC needs every
// score). Its unit is the epoch. Browser-safe: the CLI or the page brings the data.
import type { TabularData, TabularRows } from '../../data/tabular.ts';
import type { EvalResult, Trainer, TrainResult } from '../../experiments/types.ts';
import { Lookout, type Watch } from '../../experiments/watch.ts';
import type { Gpu } from '../../gpu/context.ts';
import { StagingRing } from '../../gpu/readback.ts';
import { CheckpointError, checkpointConfig, loadCheckpoint, saveCheckpoint, type CheckpointData } from '../../graph/checkpoint.ts';
import { CompiledStep } from '../../graph/compile.ts';
import { nonFiniteParams } from '../../graph/metrics.ts';
import { AdamOptimizer } from '../../optim/adam.ts';
import { Rng } from '../../random.ts';
import { featureBatch, labelBatch, labelledRows, planEpoch, stepsPerEpoch } from './batches.ts';
import { balanced, checkConfig, taskSpecs, type MultitaskConfig } from './config.ts';
import { evalGraph, layoutOf, MultitaskModel, trainGraph, type EvalGraph, type Layout, type TrainGraph } from './model.ts';
import { forwardRows } from './forward.ts';
import { schemaOf } from './schema.ts';
import { scoreSplit, type Predictions, type Split } from './scores.ts';

/** Rows per evaluation run: enough to keep the GPU busy, few enough to read back quickly. */
export const EVAL_ROWS = 8192;

/** The training generator's seed: another stream than the data generator's (which takes the seed itself). */
const trainingSeed = (seed: number): number => (seed ^ 0x6d756c74) >>> 0;

interface Compiled {
  graph: TrainGraph;
  step: CompiledStep;
}

export class MultitaskTrainer implements Trainer {
  private epochs = 0;
  /** The last evaluation's predictions per split (the ROC and PR curves' input). */
  readonly last = new Map<Split, Predictions>();

  private constructor(
    readonly config: MultitaskConfig,
    readonly data: TabularData,
    readonly layout: Layout,
    readonly model: MultitaskModel,
    private readonly labelled: Uint32Array[],
    private rng: Rng,
    private readonly ring: StagingRing,
    private readonly optimizer: AdamOptimizer,
    /** Keyed by `${task ?? 'all'}:${rows}`; the first is the owner of the weights. */
    private readonly steps: Map<string, Compiled>,
    private readonly evaluation: { graph: EvalGraph; step: CompiledStep },
    /** The data set its checkpoints record (absent: they record none). */
    private readonly origin: CheckpointData | undefined,
  ) {}

  /** `origin`: the data set and its fingerprint, for the checkpoints (source.ts dataOf). */
  static async create(gpu: Gpu, data: TabularData, config: MultitaskConfig, origin?: CheckpointData): Promise<MultitaskTrainer> {
    checkConfig(config);
    const layout = layoutOf(config, data);
    const rng = new Rng(trainingSeed(config.seed));
    const model = new MultitaskModel(config, layout, rng);
    const T = taskSpecs(config).length;
    const labelled = labelledRows(data.train, T);
    const B = Math.min(config.batchSize, data.train.count);
    // Every batch shape an epoch can take.
    const shapes: { task?: number; rows: number }[] = [];
    if (config.training === 'alternating') {
      labelled.forEach((rows, t) => shapes.push({ task: t, rows: Math.min(B, rows.length) }));
    } else {
      shapes.push({ rows: B });
      if (!balanced(config) && data.train.count % B) shapes.push({ rows: data.train.count % B });
    }
    const ring = new StagingRing(gpu);
    const optimizer = new AdamOptimizer({ lr: config.lr });
    const made: { destroy(): void }[] = [];
    try {
      const steps = new Map<string, Compiled>();
      let owner: CompiledStep | undefined;
      for (const s of shapes) {
        const graph = trainGraph(model, s.rows, optimizer, s.task);
        const step = await CompiledStep.create(gpu, graph.g, owner ? { shareWith: owner } : {});
        made.push(step);
        owner ??= step;
        steps.set(key(s.task, s.rows), { graph, step });
      }
      const evalRows = Math.min(EVAL_ROWS, Math.max(data.val.count, data.test.count));
      const eg = evalGraph(model, evalRows);
      const evaluation = { graph: eg, step: await CompiledStep.create(gpu, eg.g, { shareWith: owner }) };
      made.push(evaluation.step);
      return new MultitaskTrainer(config, data, layout, model, labelled, rng, ring, optimizer, steps, evaluation, origin);
    } catch (err) {
      for (const s of made.reverse()) s.destroy();
      ring.destroy();
      throw err;
    }
  }

  private get owner(): Compiled {
    return this.steps.values().next().value as Compiled;
  }

  get done(): number {
    return this.epochs;
  }

  get stepsPerEpoch(): number {
    return stepsPerEpoch(this.config, this.data.train, this.labelled);
  }

  stepsIn(units: number): number {
    return units * this.stepsPerEpoch;
  }

  facts(): Record<string, string | number> {
    return { dispatches_per_step: this.owner.step.dispatchCount, train_rows: this.data.train.count, val_rows: this.data.val.count, test_rows: this.data.test.count };
  }

  /** The training step of full batches, and a batch feeder (the bench times them). */
  get compiled(): { step: CompiledStep; optimizer: AdamOptimizer; batch(): Record<string, Float32Array | Uint32Array> } {
    const { step, graph } = this.owner;
    return {
      step,
      optimizer: this.optimizer,
      batch: () => {
        const plan = planEpoch(this.config, this.data.train, this.labelled, this.rng)[0];
        return this.feedFor(graph, this.data.train, plan.rows);
      },
    };
  }

  private feedFor(graph: TrainGraph, split: TabularRows, rows: Uint32Array): Record<string, Float32Array | Uint32Array> {
    const feed = { ...featureBatch(this.data, this.layout, split, rows), ...labelBatch(this.config, split, rows) };
    if (graph.seeded) feed.dropout_seed = Uint32Array.of(this.config.seed, this.optimizer.step);
    return feed;
  }

  async train(units: number, onStep?: (done: number, total: number) => void, _until?: () => boolean, watch?: Watch): Promise<TrainResult> {
    const t0 = performance.now();
    const total = this.stepsIn(units);
    const { metrics } = this.owner.graph;
    const lookout = new Lookout(watch, async (steps) => this.trainValues(await metrics.peek(this.owner.step, this.ring, steps)));
    let trained = 0;
    try {
      for (let e = 0; e < units && trained === this.stepsIn(e); e++) {
        for (const plan of planEpoch(this.config, this.data.train, this.labelled, this.rng)) {
          const c = this.steps.get(key(plan.task, plan.rows.length)) as Compiled;
          c.step.feed(this.feedFor(c.graph, this.data.train, plan.rows));
          this.optimizer.prepare(c.step);
          c.step.run();
          trained += 1;
          onStep?.(trained, total);
          if (lookout.due(trained) && (await lookout.after(trained))) break;
        }
        if (trained === this.stepsIn(e + 1)) this.epochs += 1;
      }
    } finally {
      await lookout.close();
    }
    const sums = await metrics.read(this.owner.step, this.ring, trained, this.optimizer.step, true); // a NaN is the training loop's to name
    return { values: this.trainValues(sums), ms: performance.now() - t0, steps: trained };
  }

  /**
   * The training metrics as train() reports them. Every step computes every loss over the labels
   * its batch holds (alternating training too, though it trains one): each is the mean over the steps.
   */
  private trainValues(sums: Record<string, number>): Record<string, number> {
    return Object.fromEntries(this.owner.graph.metrics.names.map((name) => [`train_${name}_loss`, sums[name]]));
  }

  nonFiniteParams(): Promise<string[]> {
    return nonFiniteParams(this.owner.step, this.ring);
  }

  /** Every task's validation and test metrics over the whole splits. */
  async evaluate(): Promise<EvalResult> {
    const t0 = performance.now();
    const values: Record<string, number> = {};
    for (const split of ['val', 'test'] as const) {
      const rows = this.data[split];
      if (rows.count === 0) continue;
      const p = await this.predict(rows);
      this.last.set(split, p);
      Object.assign(values, scoreSplit(this.config, this.data, split, rows, p));
    }
    return { values, ms: performance.now() - t0 };
  }

  /** Every row's outputs, in chunks of the evaluation step's rows (the last padded, its padding dropped). */
  async predict(rows: TabularRows): Promise<Predictions> {
    return forwardRows(this.evaluation, this.ring, this.data, this.layout, rows);
  }

  /** The current parameters by name (the recovered aux parameters, tests). */
  async weights(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const t of this.owner.graph.g.params) out.set(t.name, (await this.owner.step.read(this.ring, t)) as Float32Array);
    return out;
  }

  async checkpoint(): Promise<Uint8Array> {
    // The schema and data set let `shadertrain predict` and the page use the checkpoint alone.
    const schema = schemaOf(this.config, this.data, this.evaluation.graph.rows);
    return saveCheckpoint(this.owner.step, this.ring, {
      step: this.optimizer.step,
      rng: this.rng.state(),
      config: { experiment: 'multitask', epoch: this.epochs, ...this.config },
      about: { experiment: 'multitask', schema, ...(this.origin ? { data: this.origin } : {}) },
    });
  }

  /** Continues from a checkpoint of the same configuration (the number of epochs may differ). */
  restore(bytes: Uint8Array, source: string): void {
    const saved = checkpointConfig(bytes, source);
    const mismatched = (Object.keys(this.config) as (keyof MultitaskConfig)[]).filter((k) => k !== 'epochs' && JSON.stringify(saved[k]) !== JSON.stringify(this.config[k]));
    if (saved.experiment !== 'multitask' || mismatched.length) {
      const what = mismatched.map((k) => `${k}: ${JSON.stringify(saved[k])}`).join(', ') || `it is not a multitask checkpoint`;
      throw new CheckpointError(`${source} was trained with other settings (${what}); resume with the same flags`);
    }
    const meta = loadCheckpoint(bytes, this.owner.step, source);
    this.optimizer.restore(meta.step);
    this.rng = Rng.fromState(meta.rng);
    this.epochs = Number(saved.epoch);
  }

  destroy(): void {
    this.evaluation.step.destroy();
    for (const c of [...this.steps.values()].reverse()) c.step.destroy();
    this.ring.destroy();
  }
}

function key(task: number | undefined, rows: number): string {
  return `${task ?? 'all'}:${rows}`;
}
