// The two experiments as the worker runs them: the trainers of src/models, driven with pause,
// resume and stop at the points where the run can wait without changing its results (between
// epochs; at evaluations), progress from the GPU's own completion of each step, and one
// message per epoch or evaluation.
import type { OmniglotSet } from '../../src/data/omniglot-set.ts';
import type { Gpu } from '../../src/gpu/context.ts';
import { FewshotTrainer } from '../../src/models/fewshot/train.ts';
import { RecommenderTrainer } from '../../src/models/recommender/trainer.ts';
import type { RatingRows } from '../../src/models/recommender/split.ts';
import type { EpisodeView, FewshotRunSpec, FileBytes, FromWorker, RatedItem, RecommenderRunSpec, RunMode, TopItem } from '../protocol.ts';
import { FEWSHOT_TAGS, RECOMMENDER_TAGS } from '../tags.ts';
import { RunControl, StopRun, throttle } from './control.ts';
import { EpisodeViewer } from './fewshot-inspect.ts';
import { userView, usersWithTestRatings } from './recommender-inspect.ts';

export type Post = (msg: FromWorker, transfer?: Transferable[]) => void;

/** A problem with the user's checkpoint file, reported against that input. */
export class CheckpointInputError extends Error {
  override name = 'CheckpointInputError';
}

export interface ActiveRun {
  readonly runId: number;
  readonly control: RunControl;
  /** Trains (or evaluates) to the end, a stop, or an error. */
  run(mode: RunMode): Promise<void>;
  checkpoint(): Promise<FileBytes>;
  topItems?(user: number): Promise<{ top: TopItem[]; rated: RatedItem[]; users: number }>;
  episode?(seed: number): Promise<EpisodeView>;
  destroy(): void;
}

const PROGRESS_MS = 100;

export class RecommenderRun implements ActiveRun {
  readonly control = new RunControl();

  private constructor(
    readonly runId: number,
    private readonly gpu: Gpu,
    private readonly spec: RecommenderRunSpec,
    private readonly trainer: RecommenderTrainer,
    private readonly data: RatingRows,
    private readonly titles: Map<number, string> | null,
    private readonly post: Post,
  ) {}

  static async create(gpu: Gpu, runId: number, spec: RecommenderRunSpec, data: RatingRows, titles: Map<number, string> | null, checkpoint: FileBytes | undefined, post: Post): Promise<RecommenderRun> {
    const trainer = await RecommenderTrainer.create(gpu, data, spec.config);
    try {
      if (checkpoint) {
        try {
          trainer.restore(checkpoint.bytes, checkpoint.name);
        } catch (err) {
          throw new CheckpointInputError(err instanceof Error ? err.message : String(err));
        }
      }
      return new RecommenderRun(runId, gpu, spec, trainer, data, titles, post);
    } catch (err) {
      trainer.destroy();
      throw err;
    }
  }

  async run(mode: RunMode): Promise<void> {
    const { trainer, post, runId, control } = this;
    const { epochs } = this.spec.config;
    const S = trainer.stepsPerEpoch;
    post({ type: 'run-info', runId, stepsPerEpoch: S, startEpoch: trainer.epoch, train: trainer.split.train.length, test: trainer.split.test.length });
    if (mode === 'evaluate') {
      const ev = await trainer.evaluate();
      post({ type: 'evaluated', runId, at: trainer.epoch, values: { [RECOMMENDER_TAGS.mrr]: ev.mrr, [RECOMMENDER_TAGS.testMse]: ev.testMse } });
      return;
    }
    if (trainer.epoch >= epochs) {
      throw new CheckpointInputError(`the checkpoint has already trained ${trainer.epoch} epochs; ask for more epochs`);
    }
    const total = (epochs - trainer.epoch) * S;
    let base = 0;
    const queue = this.gpu.device.queue;
    const progress = throttle(PROGRESS_MS, (done: number, msPerStep: number | null) => post({ type: 'progress', runId, done, total, msPerStep }));
    progress(true, 0, null);
    post({ type: 'state', runId, state: 'running' });
    while (trainer.epoch < epochs) {
      let waited = false;
      await control.gate(() => {
        waited = true;
        post({ type: 'state', runId, state: 'paused', detail: `after epoch ${trainer.epoch}` });
      });
      if (waited) post({ type: 'state', runId, state: 'running' });
      const t0 = performance.now();
      const at = base;
      // Each step's completion on the GPU, not its submission (the host queues a whole epoch at once).
      const m = await trainer.epochWithEval((done, of) => {
        void queue.onSubmittedWorkDone().then(() => progress(done === of, at + done, (performance.now() - t0) / done));
      });
      base += S;
      post({ type: 'epoch', runId, metrics: m, msPerStep: m.trainMs / S });
    }
  }

  async checkpoint(): Promise<FileBytes> {
    const c = this.spec.config;
    const name = `recommender-${c.sharedEmbeddings ? 'shared' : 'separate'}_fw${c.factorizationWeight}_rw${c.regressionWeight}_seed${c.seed}-epoch${this.trainer.epoch}.safetensors`;
    return { name, bytes: await this.trainer.checkpoint() };
  }

  async topItems(user: number): Promise<{ top: TopItem[]; rated: RatedItem[]; users: number }> {
    const t = this.trainer;
    if (!(Number.isInteger(user) && user >= 0 && user < t.tables.users)) {
      throw new RangeError(`user ${user} is not in the data: user ids go up to ${t.tables.users - 1}`);
    }
    const view = userView(user, this.spec.config, await t.weights(), this.data, t.split, this.titles);
    return { ...view, users: usersWithTestRatings(this.data, t.split).length };
  }

  destroy(): void {
    this.trainer.destroy();
  }
}

export class FewshotRun implements ActiveRun {
  readonly control = new RunControl();
  private viewer: EpisodeViewer | null = null;

  private constructor(
    readonly runId: number,
    private readonly gpu: Gpu,
    private readonly spec: FewshotRunSpec,
    private readonly trainer: FewshotTrainer,
    private readonly set: OmniglotSet,
    private readonly post: Post,
  ) {}

  static async create(gpu: Gpu, runId: number, spec: FewshotRunSpec, set: OmniglotSet, checkpoint: FileBytes | undefined, post: Post): Promise<FewshotRun> {
    const trainer = await FewshotTrainer.create(gpu, set, spec.config);
    try {
      if (checkpoint) {
        try {
          trainer.restore(checkpoint.bytes, checkpoint.name);
        } catch (err) {
          throw new CheckpointInputError(err instanceof Error ? err.message : String(err));
        }
      }
      return new FewshotRun(runId, gpu, spec, trainer, set, post);
    } catch (err) {
      trainer.destroy();
      throw err;
    }
  }

  async run(mode: RunMode): Promise<void> {
    const { trainer, post, runId, control, spec } = this;
    post({ type: 'run-info', runId, startStep: trainer.step, train: trainer.split.train.length, test: trainer.split.test.length });
    if (mode === 'evaluate') {
      const ev = await trainer.evaluate();
      post({ type: 'evaluated', runId, at: trainer.step, values: { [FEWSHOT_TAGS.testLoss]: ev.loss, [FEWSHOT_TAGS.testAccuracy]: ev.accuracy } });
      return;
    }
    const start = trainer.step;
    if (start >= spec.steps) throw new CheckpointInputError(`the checkpoint has already trained ${start} steps; ask for more steps`);
    const total = spec.steps - start;
    const progress = throttle(PROGRESS_MS, (done: number, msPerStep: number | null) => post({ type: 'progress', runId, done, total, msPerStep }));
    progress(true, 0, null);
    post({ type: 'state', runId, state: 'running' });
    let since = performance.now();
    let sinceStep = start;
    await trainer.run(spec.steps, {
      evalEvery: spec.evalEvery,
      onStep: (step) => progress(step === spec.steps, step - start, (performance.now() - since) / Math.max(1, step - sinceStep)),
      onEval: async (e) => {
        if (e.step > start) progress(true, e.step - start, e.msPerStep);
        post({ type: 'eval', runId, metrics: e });
        // The run waits here only: the generator is where a checkpoint resumes exactly.
        if (e.step < spec.steps) {
          let waited = false;
          await control.gate(() => {
            waited = true;
            post({ type: 'state', runId, state: 'paused', detail: `at step ${e.step}` });
          });
          if (waited) post({ type: 'state', runId, state: 'running' });
        }
        since = performance.now();
        sinceStep = e.step;
      },
    });
  }

  async checkpoint(): Promise<FileBytes> {
    const c = this.spec.config;
    return { name: `fewshot-N${c.numClasses}_K${c.numShot}_seed${c.seed}-step${this.trainer.step}.safetensors`, bytes: await this.trainer.checkpoint() };
  }

  async episode(seed: number): Promise<EpisodeView> {
    this.viewer ??= await EpisodeViewer.create(this.gpu, this.set, this.trainer.split, this.spec.config, this.trainer.path);
    return this.viewer.show(await this.trainer.checkpoint(), seed);
  }

  destroy(): void {
    this.viewer?.destroy();
    this.trainer.destroy();
  }
}

export { StopRun };
