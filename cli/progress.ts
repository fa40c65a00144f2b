// Training progress on stderr: stdout stays for results (and holds only JSON with --json).
//
// On a terminal: a live line, `epoch 3/200 [████░░░░] 120/400 | epoch 2: loss 0.512 mse 0.93 | ETA 4m10s`,
// redrawn by cli-progress, with one lasting line per finished epoch above it; it fits the
// terminal's width (the bar narrows, then the fields that do not fit are left out, never cut).
// The fields are those of the last evaluation: trainers read their losses from the GPU once per
// evaluation round (a read per step would stall the queue), so the live line shows the previous
// round's mean loss, named as such. Anywhere else (CI logs, pipes, files): only the lasting
// lines, plain text, never an escape code.
//
// Generic over what an "epoch" is: the recommender passes epochs of steps; few-shot training
// passes rounds of 100 steps with an evaluation after each, labelled as it likes.
import cliProgress from 'cli-progress';

export type ProgressFields = Record<string, number | string>;

/** What Progress writes to: process.stderr, or anything with write() and maybe isTTY/columns. */
export interface ProgressStream extends NodeJS.WritableStream {
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Outer units in the run (epochs, or evaluation rounds). */
  epochs: number;
  /** Outer units done before this run (a resumed run's epochs), so that its first is shown as first + 1. */
  first?: number;
  stepsPerEpoch: number;
  /** Name of the outer unit, shown as `<label> 3/200` (default "epoch"). */
  label?: string;
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Write nothing at all. */
  silent?: boolean;
  /** Draw the live bar; default: whether the stream is a terminal. */
  tty?: boolean;
  /** Milliseconds clock for the elapsed time and the ETA (default Date.now). */
  now?: () => number;
}

/** A number for a status line: 3 significant digits, no exponent for everyday values. */
export function formatField(v: number | string): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v) || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return String(Number(v.toPrecision(3)));
}

export function formatFields(fields: ProgressFields): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k} ${formatField(v)}`)
    .join(' ');
}

/** A time span for humans: 42s, 3m05s, 1h02m. */
export function formatSpan(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function checkCount(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`progress: ${name} must be a positive integer, got ${v}`);
}

export class Progress {
  private readonly epochs: number;
  private readonly first: number;
  private readonly stepsPerEpoch: number;
  private readonly label: string;
  private readonly stream: ProgressStream;
  private readonly silent: boolean;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly start: number;
  private bar: cliProgress.SingleBar | null = null;
  private epoch = 0; // finished epochs
  private stepInEpoch = 0;
  private stepsDone = 0;
  private epochStart: number;
  private fields: ProgressFields = {};
  /** What the fields are of ("epoch 2"), shown before them. */
  private fieldsOf = '';
  private barSize = 24;
  private stopped = false;

  constructor(options: ProgressOptions) {
    checkCount('epochs', options.epochs);
    checkCount('stepsPerEpoch', options.stepsPerEpoch);
    this.epochs = options.epochs;
    this.first = options.first ?? 0;
    this.stepsPerEpoch = options.stepsPerEpoch;
    this.label = options.label ?? 'epoch';
    this.stream = options.stream ?? process.stderr;
    this.silent = options.silent ?? false;
    this.tty = !this.silent && (options.tty ?? this.stream.isTTY === true);
    this.now = options.now ?? Date.now;
    this.start = this.now();
    this.epochStart = this.start;
  }

  /** Seconds left in the whole run, from the mean time per step so far (NaN before a step). */
  etaSeconds(): number {
    if (this.stepsDone === 0) return NaN;
    const perStep = (this.now() - this.start) / 1000 / this.stepsDone;
    return perStep * Math.max(0, this.epochs * this.stepsPerEpoch - this.stepsDone);
  }

  private head(): string {
    return `${this.label} ${this.first + Math.min(this.epoch + 1, this.epochs)}/${this.first + this.epochs}`;
  }

  /** The terminal's width, less a column so that the cursor never wraps. */
  private width(): number {
    return (this.stream.columns ?? 80) - 1;
  }

  /** The fixed part of the live line: head, brackets and the counts. */
  private fixedWidth(): number {
    return this.head().length + ' [] '.length + 2 * String(this.stepsPerEpoch).length + 1;
  }

  /** The fields that fit beside the bar, and the ETA (left out last). */
  private tail(): string {
    const eta = ` | ETA ${formatSpan(this.etaSeconds())}`;
    let room = this.width() - this.fixedWidth() - this.barSize - eta.length;
    let text = '';
    for (const [k, v] of Object.entries(this.fields)) {
      const part = `${text ? ' ' : ` | ${this.fieldsOf ? `${this.fieldsOf}: ` : ''}`}${k} ${formatField(v)}`;
      if (part.length > room) break;
      text += part;
      room -= part.length;
    }
    return room >= 0 ? text + eta : text;
  }

  /** Sets the fields shown (e.g. { loss: 0.512 }) and what they are of ("epoch 2"), until the next call. */
  show(fields: ProgressFields, of: string): void {
    this.fields = fields;
    this.fieldsOf = of;
  }

  /** One step done; `fields` (e.g. { loss: 0.512 }) join or replace the ones shown. */
  step(fields: ProgressFields = {}, steps = 1): void {
    if (this.stopped) return;
    this.stepInEpoch += steps;
    this.stepsDone += steps;
    this.fields = { ...this.fields, ...fields };
    if (!this.tty) return;
    const value = Math.min(this.stepInEpoch, this.stepsPerEpoch);
    if (!this.bar) {
      // The bar takes what the line leaves after the ETA and about two fields, 8 to 24 columns.
      this.barSize = Math.max(8, Math.min(24, this.width() - this.fixedWidth() - ' | ETA 10m00s'.length - 30));
    }
    const payload = { head: this.head(), tail: this.tail() };
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream,
          format: '{head} [{bar}] {value}/{total}{tail}',
          barsize: this.barSize,
          clearOnComplete: true,
          // Leave the terminal's line wrapping and cursor alone (a crash would leave them
          // changed); cli-progress then cuts the line to the terminal's width instead.
          linewrap: true,
          hideCursor: false,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(this.stepsPerEpoch, value, payload);
    } else {
      this.bar.update(value, payload);
    }
  }

  /** Ends the current epoch with one lasting line: `epoch 3/200 <summary> (12s, ETA 4m10s)`. */
  endEpoch(summary?: string): void {
    if (this.stopped) return;
    const t = this.now();
    const text = summary ?? formatFields(this.fields);
    const line = `${this.head()}${text ? ' ' + text : ''} (${formatSpan((t - this.epochStart) / 1000)}, ETA ${formatSpan(this.etaSeconds())})`;
    this.clearBar();
    this.write(line + '\n');
    this.epoch++;
    this.stepInEpoch = 0;
    this.epochStart = t;
  }

  /** Back to the start of round `epoch` with `stepsDone` steps done in all: the run goes on from there (after a lost device). */
  rewind(epoch: number, stepsDone: number): void {
    this.clearBar();
    this.epoch = epoch;
    this.stepInEpoch = 0;
    this.stepsDone = stepsDone;
    this.epochStart = this.now();
  }

  /** A message of its own line, above the live bar. */
  log(message: string): void {
    if (this.stopped) return;
    const redraw = this.bar !== null;
    this.clearBar();
    this.write(message.endsWith('\n') ? message : message + '\n');
    if (redraw) this.step({}, 0);
  }

  /** Removes the live bar and stops its redraw timer; call it on every way out. */
  stop(): void {
    this.clearBar();
    this.stopped = true;
  }

  private clearBar(): void {
    if (!this.bar) return;
    this.bar.stop();
    this.bar = null;
  }

  private write(text: string): void {
    if (!this.silent) this.stream.write(text);
  }
}
