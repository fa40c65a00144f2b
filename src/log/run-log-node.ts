// One run's scalars, in one logdir, twice: a TensorBoard event file (compare runs in
// TensorBoard as with PyTorch's SummaryWriter) and metrics.jsonl (load with pandas; the layout
// is described in jsonl-node.ts).
//
// No partial log is left behind: nothing is created until the first scalar (the CLI checks all
// its input before training starts), and abort() removes what this RunLog created.
import { mkdirSync, rmdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { textValue } from './text-summary.ts';
import { sessionEndValue, sessionStartValue, STATUS, type HParamValue } from './hparams.ts';
import { cutJsonl, JsonlWriter } from './jsonl-node.ts';
import { TensorBoardWriter } from './tensorboard-node.ts';
import { nowSeconds } from './tensorboard.ts';

export interface RunLogOptions {
  /** Seconds since the epoch; both files get the same wall time for a scalar. */
  clock?: () => number;
  /** The run's id, in every metrics.jsonl line. */
  run?: string;
}

export class RunLog {
  private readonly clock: () => number;
  private readonly tb: TensorBoardWriter;
  private readonly jsonl: JsonlWriter;
  private opened = false;
  private closed = false;
  /** The outermost directory the first scalar had to create, if the logdir did not exist. */
  private createdDir: string | undefined;

  constructor(
    readonly logdir: string,
    options: RunLogOptions = {},
  ) {
    this.clock = options.clock ?? nowSeconds;
    this.tb = new TensorBoardWriter(logdir, { clock: this.clock });
    this.jsonl = new JsonlWriter(logdir, { clock: this.clock, run: options.run });
  }

  /** The files written so far (none before the first scalar). */
  get files(): string[] {
    if (!this.opened) return [];
    return [this.tb.path, this.jsonl.path].filter((p): p is string => p !== null);
  }

  private open(): void {
    if (this.closed) throw new Error(`RunLog for ${this.logdir} is closed`);
    if (this.opened) return;
    this.createdDir = mkdirSync(this.logdir, { recursive: true });
    this.opened = true;
  }

  scalar(tag: string, value: number, step: number): void {
    this.scalars(step, { [tag]: value });
  }

  /** Several tags at one step, e.g. `log.scalars(epoch, { 'test/mse': 0.93, 'test/mrr': 0.41 })`. */
  scalars(step: number, values: Record<string, number>): void {
    checkScalars(step, values);
    this.open();
    const wallTime = this.clock();
    this.tb.scalars(step, values, wallTime);
    this.jsonl.scalars(step, values, wallTime);
  }

  /** The run's hyperparameters for TensorBoard's HParams table (event file only), as it starts. */
  hparamsStart(hparams: Record<string, HParamValue>, group = ''): void {
    this.open();
    const wallTime = this.clock();
    this.tb.summary(sessionStartValue(hparams, wallTime, group), 0, wallTime);
  }

  /** Markdown for TensorBoard's TEXT tab under `tag` (event file only), as add_text writes it. */
  text(tag: string, markdown: string, step = 0): void {
    this.open();
    const wallTime = this.clock();
    this.tb.summary(textValue(tag, markdown), step, wallTime);
  }

  /** How the run ended, for the HParams table. */
  hparamsEnd(ok: boolean): void {
    this.open();
    const wallTime = this.clock();
    this.tb.summary(sessionEndValue(ok ? STATUS.success : STATUS.failure, wallTime), 0, wallTime);
  }

  /** A resumed run continues after `lastStep`: what a stopped run logged later is dropped from metrics.jsonl. Returns the lines dropped. */
  resumeAfter(lastStep: number): number {
    return cutJsonl(this.jsonl.path, lastStep);
  }

  flush(): void {
    this.tb.flush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.tb.close();
    this.jsonl.close();
  }

  /**
   * Removes what this RunLog wrote (its event file, its metrics.jsonl or the lines it appended
   * to one) and the directories it created for the logdir, where they are empty.
   */
  abort(): void {
    this.closed = true;
    this.tb.discard();
    this.jsonl.discard();
    if (this.createdDir === undefined) return;
    const top = resolve(this.createdDir);
    for (let dir = resolve(this.logdir); ; dir = dirname(dir)) {
      try {
        rmdirSync(dir);
      } catch (err) {
        // Someone else put files there: theirs to keep.
        if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') return;
        throw err;
      }
      if (dir === top || dir === dirname(dir)) break;
    }
    this.createdDir = undefined;
  }
}

/** Fails before anything is written, so a bad call never leaves one file ahead of the other. */
function checkScalars(step: number, values: Record<string, number>): void {
  if (!Number.isSafeInteger(step)) throw new RangeError(`run log: step must be an integer, got ${step}`);
  for (const [tag, value] of Object.entries(values)) {
    if (tag === '') throw new RangeError('run log: a scalar needs a non-empty tag');
    if (typeof value !== 'number') throw new TypeError(`run log: scalar "${tag}" must be a number, got ${typeof value}`);
  }
}
