// Training and evaluating the few-shot network: one compiled step per batch (forward, loss,
// backward, Adam in one command buffer), the loss and accuracy summed on the GPU and read only
// at evaluations, and the next batch's episodes drawn on the host while the GPU runs this one.
// Evaluation is a second, forward-only compiled step over the same weight buffers. Its unit is
// the optimizer step.
// Browser-safe: no file system here; the CLI (or a web worker) brings the data and keeps files.
import type { OmniglotSet } from '../../data/omniglot-set.ts';
import { splitOmniglotCharacters, type CharacterSplit } from '../../data/omniglot-split.ts';
import type { EvalResult, Trainer, TrainResult } from '../../experiments/types.ts';
import { Lookout, type Watch } from '../../experiments/watch.ts';
import type { Gpu } from '../../gpu/context.ts';
import { StagingRing } from '../../gpu/readback.ts';
import { CheckpointError, loadCheckpoint, saveCheckpoint, type CheckpointData } from '../../graph/checkpoint.ts';
import { fingerprint } from '../../data/fingerprint.ts';
import { CompiledStep } from '../../graph/compile.ts';
import type { Graph, Tensor } from '../../graph/graph.ts';
import { Metrics, nonFiniteParams } from '../../graph/metrics.ts';
import { accumulateMetric } from '../../graph/ops/loss.ts';
import { AdamOptimizer } from '../../optim/adam.ts';
import { Rng } from '../../random.ts';
import { checkConfig, checkData, type FewshotConfig } from './config.ts';
import { ImageBank, sampleEpisodes, episodeWords, type EpisodeShape } from './episodes.ts';
import { FewshotNet, buildFewshotGraph, type FewshotGraph, type InputPath } from './model.ts';
import { inputPathOf, schemaOfSet, type FewshotSchema } from './schema.ts';

/** Steps kept queued on the GPU: enough to overlap the host's sampling, few enough to stay responsive. */
const IN_FLIGHT = 2;

export class FewshotTrainer implements Trainer {
  /** Optimizer steps taken. */
  private steps = 0;

  private constructor(
    private readonly gpu: Gpu,
    readonly config: FewshotConfig,
    readonly split: CharacterSplit,
    readonly path: InputPath,
    private readonly drawings: number,
    private rng: Rng,
    private readonly ring: StagingRing,
    private readonly training: { graph: FewshotGraph; step: CompiledStep; optimizer: AdamOptimizer; metrics: Metrics; shape: EpisodeShape },
    private readonly evaluation: { graph: FewshotGraph; step: CompiledStep; sums: Tensor; shape: EpisodeShape },
    /** The data set its checkpoints record, fingerprinted on the first checkpoint. */
    private readonly origin: () => Promise<CheckpointData>,
    /** Its images' side, filter and binariness, recorded for prediction. */
    private readonly schema: FewshotSchema,
  ) {}

  /** Checks the configuration against the data, splits the characters, initialises and compiles both steps. */
  static async create(gpu: Gpu, set: OmniglotSet, config: FewshotConfig): Promise<FewshotTrainer> {
    checkConfig(config);
    const split = splitOmniglotCharacters(set.characters, config.splitSeed);
    checkData(config, set, split);
    const path = inputPathOf(config, set.binary);
    const bank = new ImageBank(set);
    // One generator for everything, in a fixed order: the weights, then the episodes of each
    // step and evaluation as they come. Its state in a checkpoint resumes the same sequence.
    const rng = new Rng(config.seed);
    const net = new FewshotNet(rng, config.numClasses, config.hidden, bank.pixels);
    const model = { numClasses: config.numClasses, numShot: config.numShot, hidden: config.hidden };
    const trainShape = { ...model, batch: config.metaBatch };
    const evalShape = { ...model, batch: config.evalBatch };
    const ring = new StagingRing(gpu);
    const made: CompiledStep[] = [];
    try {
      const tg = buildFewshotGraph(trainShape, bank, net, path, true);
      const metrics = new Metrics(tg.g, ['loss', 'correct']);
      metrics.add(tg.g, 'loss', tg.loss);
      metrics.add(tg.g, 'correct', tg.correct);
      const optimizer = new AdamOptimizer({ lr: config.learningRate }).attach(tg.g, tg.grads as Map<Tensor, Tensor>);
      const trainStep = await CompiledStep.create(gpu, tg.g);
      made.push(trainStep);
      const eg = buildFewshotGraph(evalShape, bank, net, path, false);
      const sums = evalSums(eg.g, eg);
      // Kept (a place in the memory plan, no dispatch) so that evaluationLogits can read it.
      eg.g.keep(eg.logits);
      // The weights are the training step's buffers, matched by name.
      const evalStep = await CompiledStep.create(gpu, eg.g, { shareWith: trainStep });
      made.push(evalStep);
      return new FewshotTrainer(gpu, config, split, path, set.drawings, rng, ring, { graph: tg, step: trainStep, optimizer, metrics, shape: trainShape }, { graph: eg, step: evalStep, sums, shape: evalShape }, omniglotOrigin(set), schemaOfSet(set));
    } catch (err) {
      for (const s of made.reverse()) s.destroy();
      ring.destroy();
      throw err;
    }
  }

  /** Optimizer steps taken so far. */
  get done(): number {
    return this.steps;
  }

  stepsIn(units: number): number {
    return units;
  }

  facts(): Record<string, string | number> {
    return { input: this.path, dispatches_per_step: this.stats.dispatches };
  }

  /** Dispatches per training step, and the bytes its values take. */
  get stats(): { dispatches: number; valueBytes: number; evalDispatches: number } {
    return { dispatches: this.training.step.dispatchCount, valueBytes: this.training.step.memory.peakBytes, evalDispatches: this.evaluation.step.dispatchCount };
  }

  /** The training step itself (the bench times it and its kernels). */
  get compiled(): { step: CompiledStep; optimizer: AdamOptimizer; sample(): Uint32Array } {
    return { step: this.training.step, optimizer: this.training.optimizer, sample: () => this.sample(this.split.train, this.training.shape) };
  }

  private sample(characters: readonly number[], shape: EpisodeShape, out?: Uint32Array): Uint32Array {
    return sampleEpisodes(this.rng, characters, this.drawings, shape, out ?? new Uint32Array(episodeWords(shape)));
  }

  /** Query loss and accuracy of the current weights on one batch of fresh meta-test episodes. */
  async evaluate(): Promise<EvalResult> {
    const t0 = performance.now();
    const { step, sums, shape } = this.evaluation;
    step.feed({ episodes: this.sample(this.split.test, shape) });
    step.run();
    const [loss, correct] = (await step.read(this.ring, sums)) as Float32Array;
    step.write(sums, new Float32Array(2));
    return { values: { testLoss: loss, testAccuracy: correct / (shape.numClasses * shape.batch) }, ms: performance.now() - t0 };
  }

  /**
   * Evaluation's logits [T·B, N] (time-major rows, see episodes.ts) for a batch of the evaluation's
   * shape, as sampleEpisodes lays one out: what evaluate() computes its loss and accuracy from.
   * The evaluation's sums are left at zero, as evaluate() leaves them.
   */
  async evaluationLogits(episodes: Uint32Array): Promise<Float32Array> {
    const { step, graph, sums } = this.evaluation;
    step.feed({ episodes });
    step.run();
    const logits = (await step.read(this.ring, graph.logits)) as Float32Array;
    step.write(sums, new Float32Array(2));
    return logits;
  }

  /** The evaluation's batch shape. */
  get evaluationShape(): EpisodeShape {
    return this.evaluation.shape;
  }

  /**
   * Trains `units` steps, fewer where `until` says stop. The next batch is drawn while the GPU
   * runs this one, except after the last: whatever comes next (an evaluation's episodes, or the
   * next call's first batch) comes first from the generator, so that a checkpoint taken between
   * two calls resumes the same sequence.
   */
  async train(units: number, onStep?: (done: number, total: number) => void, until?: () => boolean, watch?: Watch): Promise<TrainResult> {
    const { step, optimizer, metrics, shape } = this.training;
    const lookout = new Lookout(watch, async (steps) => this.values(await metrics.peek(step, this.ring, steps)));
    const queue = this.gpu.device.queue;
    const t0 = performance.now();
    const buffers = [new Uint32Array(episodeWords(shape)), new Uint32Array(episodeWords(shape))];
    let next = this.sample(this.split.train, shape, buffers[this.steps & 1]);
    const inFlight: Promise<unknown>[] = [];
    let trained = 0;
    while (trained < units) {
      step.feed({ episodes: next });
      optimizer.prepare(step);
      step.run();
      this.steps += 1;
      trained += 1;
      inFlight.push(queue.onSubmittedWorkDone());
      // Asked before the next batch is drawn: a stop here leaves the generator where a resumed run draws it.
      const last = trained === units || until?.() === true;
      if (!last) next = this.sample(this.split.train, shape, buffers[this.steps & 1]);
      while (inFlight.length > IN_FLIGHT) await this.gpu.guard(inFlight.shift() as Promise<unknown>);
      onStep?.(trained, units);
      if (last || (lookout.due(trained) && (await lookout.after(trained)))) break;
    }
    await lookout.close();
    await this.gpu.idle();
    const ms = performance.now() - t0;
    const m = await metrics.read(step, this.ring, trained, this.steps, true); // a NaN is the training loop's to name
    return { values: this.values(m), ms, steps: trained };
  }

  /** The training metrics as train() reports them, from the metric sums' per-step means. */
  private values(m: Record<string, number>): Record<string, number> {
    const { shape } = this.training;
    return { trainLoss: m.loss, trainAccuracy: m.correct / (shape.numClasses * shape.batch) };
  }

  nonFiniteParams(): Promise<string[]> {
    return nonFiniteParams(this.training.step, this.ring);
  }

  /** Every weight, Adam moment and metric sum, the step count, the generator and the configuration. */
  async checkpoint(): Promise<Uint8Array> {
    return saveCheckpoint(this.training.step, this.ring, {
      step: this.steps,
      rng: this.rng.state(),
      config: { model: 'fewshot', ...this.config },
      about: { experiment: 'fewshot', data: await this.origin(), schema: this.schema },
    });
  }

  /** Continues from a checkpoint of the same model (N, K, hidden size); the run then goes on exactly as it would have. */
  restore(bytes: Uint8Array, source: string): void {
    const meta = loadCheckpoint(bytes, this.training.step, source);
    const saved = meta.config;
    const keys = ['numClasses', 'numShot', 'hidden', 'metaBatch'] as const;
    const differ = keys.filter((k) => saved[k] !== this.config[k]);
    if (saved.model !== 'fewshot' || differ.length) {
      const what = differ.map((k) => `${k} ${JSON.stringify(saved[k])} instead of ${this.config[k]}`).join(', ') || `model "${String(saved.model)}"`;
      throw new CheckpointError(`${source} was trained with other settings (${what}); resume with the same --num_classes, --num_shot, --hidden_size and --meta_batch_size`);
    }
    this.steps = meta.step;
    this.training.optimizer.restore(meta.step);
    this.rng = Rng.fromState(meta.rng);
  }

  destroy(): void {
    this.evaluation.step.destroy();
    this.training.step.destroy();
    this.ring.destroy();
  }
}

/** The evaluation's sums on the GPU: [loss, correct], its own state (the training step keeps `metrics`). */
function evalSums(g: Graph, m: FewshotGraph): Tensor {
  const sums = g.state('eval.sums', [2]);
  accumulateMetric(g, m.loss, sums, 0);
  accumulateMetric(g, m.correct, sums, 1);
  return sums;
}

/**
 * The Omniglot set a checkpoint records: its fingerprint is of the preprocessed pixels training
 * sampled, so the embedded set, the zips and the folders of the same drawings give the same one.
 */
export function omniglotOrigin(set: OmniglotSet): () => Promise<CheckpointData> {
  let memo: Promise<CheckpointData> | undefined;
  const what = `${set.characters} characters × ${set.drawings} drawings, ${set.side}×${set.side} ${set.filter}`;
  return () => (memo ??= fingerprint([{ name: `pixels (${what})`, bytes: set.pixels }]).then((f) => ({ name: 'omniglot', source: what, fingerprint: f })));
}
