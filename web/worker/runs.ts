// A run as the worker drives it, the same for every experiment: its trainer (from the
// descriptor) through the shared training loop, with pause, resume and stop at evaluations
// (where the run can wait without changing its results), progress from the GPU's own completion
// of each step, one message per evaluation, and the experiment's inspect views.
import { SurvivingTrainer, type DeviceHolder } from '../../src/experiments/device-loss.ts';
import { metricsOf, type AnyExperiment, type Inspector, type Trainer } from '../../src/experiments/types.ts';
import type { Gpu } from '../../src/gpu/context.ts';
import { pipelineCounts } from '../../src/kernels/kernel.ts';
import type { FileBytes, FromWorker, RunMode, RunSpec } from '../protocol.ts';
import { RunControl, StopRun, throttle } from './control.ts';

export type Post = (msg: FromWorker, transfer?: Transferable[]) => void;

/** A problem with the user's checkpoint file, reported against that input. */
export class CheckpointInputError extends Error {
  override name = 'CheckpointInputError';
}

const PROGRESS_MS = 100;
const COMPILE_REPORT_MS = 200;
const TRAIN_PIECES = 10;

export class ExperimentRun {
  readonly control = new RunControl();
  private readonly inspectors = new Map<string, Inspector>();

  private constructor(
    readonly runId: number,
    private readonly devices: DeviceHolder,
    private readonly ex: AnyExperiment,
    private readonly spec: RunSpec,
    /** The run's trainer, on another device after a loss. */
    private readonly surviving: SurvivingTrainer,
    private readonly data: unknown,
    private readonly post: Post,
    /** Called after each step submitted: fault injection (src/experiments/fault.ts). */
    private readonly fault?: (gpu: Gpu) => void,
  ) {}

  static async create(devices: DeviceHolder, runId: number, ex: AnyExperiment, spec: RunSpec, data: unknown, checkpoint: FileBytes | undefined, post: Post, fault?: (gpu: Gpu) => void): Promise<ExperimentRun> {
    const gpu = devices.gpu;
    // Compiling takes seconds on a software adapter: say how far it is, counted from this run's first pipeline.
    const before = pipelineCounts(gpu);
    const report = (): void => {
      const now = pipelineCounts(gpu);
      post({ type: 'compile', runId, ready: now.ready - before.ready, asked: now.asked - before.asked });
    };
    const timer = setInterval(report, COMPILE_REPORT_MS);
    let trainer: Trainer;
    try {
      trainer = await ex.create(gpu, data, spec.config);
    } finally {
      clearInterval(timer);
    }
    report();
    try {
      if (checkpoint) {
        try {
          trainer.restore(checkpoint.bytes, checkpoint.name);
        } catch (err) {
          throw new CheckpointInputError(err instanceof Error ? err.message : String(err));
        }
      }
      const surviving = new SurvivingTrainer({ ex, config: spec.config, devices, create: (g) => ex.create(g, data, spec.config) }, trainer, checkpoint?.bytes);
      return new ExperimentRun(runId, devices, ex, spec, surviving, data, post, fault);
    } catch (err) {
      trainer.destroy();
      throw err;
    }
  }

  /** Trains (or evaluates) to the end, a stop, or an error. */
  private get trainer(): Trainer {
    return this.surviving.trainer;
  }

  async run(mode: RunMode): Promise<void> {
    const { trainer, post, runId, control, ex } = this;
    const config = this.spec.config;
    const length = ex.length(config);
    const start = trainer.done;
    post({ type: 'run-info', runId, unit: ex.unit, start, length, stepsPerUnit: trainer.stepsIn(1), facts: trainer.facts() });
    if (mode === 'evaluate') {
      const ev = await trainer.evaluate();
      const values = Object.fromEntries(metricsOf(ex, config).filter((m) => m.test).map((m) => [m.tag, ev.values[m.key]]));
      post({ type: 'evaluated', runId, at: start, values });
      return;
    }
    if (start >= length) throw new CheckpointInputError(`the checkpoint has already trained ${start} ${ex.unit}s; ask for more ${ex.unit}s`);
    const total = trainer.stepsIn(length - start);
    const progress = throttle(PROGRESS_MS, (done: number, msPerStep: number | null) => post({ type: 'progress', runId, done, total, msPerStep }));
    progress(true, 0, null);
    post({ type: 'state', runId, state: 'running' });
    // Steps and time at the last evaluation: the live ms/step is over the training since.
    let since = { t: performance.now(), done: 0 };
    // The loop counts steps from where it last went on: after a device loss, the snapshot's.
    let offset = 0;
    const result = await this.surviving.train({
      // The training loss between evaluations: ten pieces per evaluation interval (per step when it is 10 or fewer).
      chunk: Math.max(1, Math.ceil(ex.evalEvery(config) / TRAIN_PIECES)),
      onTrained: (at, values) => post({ type: 'trained', runId, at, values }),
      // Each step's completion on the GPU, not its submission (the host may queue a whole epoch at once).
      onStep: (step) => {
        const from = since;
        const done = offset + step;
        this.fault?.(this.devices.gpu);
        // A lost device's queue may never report: the loss itself is handled by the run.
        void this.devices.gpu.device.queue.onSubmittedWorkDone().then(() => progress(done === total, done, (performance.now() - from.t) / Math.max(1, done - from.done)), () => undefined);
      },
      onEvaluation: async (e) => {
        const done = since.done + e.steps;
        if (e.steps > 0) progress(true, done, e.trainMs / e.steps);
        post({ type: 'evaluation', runId, evaluation: e });
        // The run waits here only: the generator is where a checkpoint resumes exactly.
        if (e.at < length) {
          let waited = false;
          await control.gate(() => {
            waited = true;
            post({ type: 'state', runId, state: 'paused', detail: `${ex.unit === 'epoch' ? 'after' : 'at'} ${ex.unit} ${e.at}` });
          });
          if (waited) post({ type: 'state', runId, state: 'running' });
        }
        since = { t: performance.now(), done };
      },
      onLoss: (loss) => {
        // The views were opened on the lost device.
        this.closeViews();
        offset = loss.kept.reduce((n, e) => n + e.steps, 0);
        since = { t: performance.now(), done: offset };
        const from = loss.from === start ? 'the start' : `${ex.unit} ${loss.from}`;
        post({ type: 'device-lost', runId, from: loss.from, message: `the GPU device was lost by ${ex.unit} ${loss.lostAt} (${loss.why}); training went on from ${from} on a new device, which changes no result` });
      },
    });
    // The pictures the CLI leaves in its log folder (ROC and PR curves of the final test
    // predictions, where the experiment makes them), from the same code, once at the end.
    const files = (await ex.artifacts?.(trainer, result)) ?? {};
    const svgs = Object.fromEntries(Object.entries(files).filter(([name]) => name.endsWith('.svg')));
    if (Object.keys(svgs).length) post({ type: 'artifacts', runId, files: svgs });
  }

  async checkpoint(): Promise<FileBytes> {
    const name = `${this.ex.name}-${this.ex.runName(this.spec.config)}-${this.ex.unit}${this.trainer.done}.safetensors`;
    return { name, bytes: await this.trainer.checkpoint() };
  }

  /** One of the experiment's views of the model, opened the first time it is asked for. */
  async inspect(view: string, input: number): Promise<unknown> {
    let inspector = this.inspectors.get(view);
    if (!inspector) {
      const v = this.ex.inspect.find((x) => x.name === view);
      if (!v) throw new Error(`the current run (${this.ex.name}) has no "${view}" view`);
      inspector = await v.open(this.devices.gpu, this.trainer, this.data);
      this.inspectors.set(view, inspector);
    }
    return inspector.show(input);
  }

  private closeViews(): void {
    for (const i of this.inspectors.values()) i.close();
    this.inspectors.clear();
  }

  destroy(): void {
    this.closeViews();
    this.surviving.destroy();
  }
}

export { StopRun };
