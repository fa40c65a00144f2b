// Scalars as JSON Lines, for pandas and jq. The "long" layout TensorBoard itself exports, one
// line per scalar, in the order written:
//   {"step":3,"tag":"test/mse","value":0.93,"wall_time":1700000000.25,"run":"20261205-114500-3f9a1c"}
// ("run" names the run that wrote the line, so runs that share a logdir stay apart.)
// Load with
//   df = pandas.read_json("metrics.jsonl", lines=True)
//   wide = df.pivot_table(index="step", columns="tag", values="value", aggfunc="last")
// One line per scalar (not one per step) because tags come at different rates (a loss every
// step, an evaluation every 100) and nothing has to be held back: every line is complete once
// written. JSON has no NaN or Infinity: those values are written as null (pandas reads NaN);
// the TensorBoard file keeps them exactly.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, truncateSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { nowSeconds } from './tensorboard.ts';

export const JSONL_FILE = 'metrics.jsonl';

export interface ScalarLine {
  step: number;
  tag: string;
  value: number | null;
  wall_time: number;
  run?: string;
}

export function scalarLine(tag: string, value: number, step: number, wallTime: number, run?: string): string {
  if (!Number.isSafeInteger(step)) throw new RangeError(`JSONL scalar "${tag}": step must be an integer, got ${step}`);
  const line: ScalarLine = { step, tag, value: Number.isFinite(value) ? value : null, wall_time: wallTime, ...(run === undefined ? {} : { run }) };
  return JSON.stringify(line) + '\n';
}

/**
 * Before a resumed run appends: drops the lines after `lastStep` (logged after the checkpoint it
 * resumes from, by the run that was stopped) and a cut last line (a kill or a full disk mid-write),
 * so that no step appears twice and every line parses. Returns how many lines were dropped.
 */
export function cutJsonl(path: string, lastStep: number): number {
  if (!existsSync(path)) return 0;
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const tail = lines.pop() ?? ''; // after the last newline: empty, or a cut line
  let keep = 0;
  let bytes = 0;
  for (const line of lines) {
    let step: unknown;
    try {
      step = (JSON.parse(line) as ScalarLine).step;
    } catch {
      break; // a damaged line: it and what follows are dropped
    }
    if (typeof step !== 'number' || step > lastStep) break;
    keep++;
    bytes += Buffer.byteLength(line, 'utf8') + 1;
  }
  const dropped = lines.length - keep + (tail ? 1 : 0);
  if (dropped > 0) truncateSync(path, bytes);
  return dropped;
}

export interface JsonlWriterOptions {
  /** File name inside the logdir (default metrics.jsonl). */
  file?: string;
  clock?: () => number;
  /** The run's id, written in every line. */
  run?: string;
}

/**
 * Appends scalar lines to `<logdir>/metrics.jsonl`. Like TensorBoardWriter, it touches the disk
 * only at the first scalar. An existing file is appended to (a resumed run continues its log);
 * `discard()` takes back exactly what this writer added.
 */
export class JsonlWriter {
  private readonly clock: () => number;
  private readonly run: string | undefined;
  private fd: number | null = null;
  private closed = false;
  /** Whether this writer created the file; else the size it had before the first append. */
  private created = false;
  private startSize = 0;
  /** Whether this writer has opened (created or appended to) the file. */
  private touched = false;
  readonly path: string;
  createdDir: string | undefined;

  constructor(
    readonly logdir: string,
    options: JsonlWriterOptions = {},
  ) {
    this.clock = options.clock ?? nowSeconds;
    this.run = options.run;
    this.path = join(logdir, options.file ?? JSONL_FILE);
  }

  private open(): number {
    if (this.fd !== null) return this.fd;
    this.createdDir = mkdirSync(this.logdir, { recursive: true });
    // Append mode in both cases: every write lands at the end, so runs sharing the file never
    // overwrite each other's lines (each line is one write).
    try {
      this.fd = openSync(this.path, 'ax');
      this.created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      this.fd = openSync(this.path, 'a');
      this.startSize = fstatSync(this.fd).size;
    }
    this.touched = true;
    return this.fd;
  }

  private write(text: string): void {
    if (this.closed) throw new Error(`JsonlWriter for ${this.path} is closed`);
    const bytes = new TextEncoder().encode(text);
    const fd = this.open();
    let at = 0;
    while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
  }

  scalar(tag: string, value: number, step: number, wallTime = this.clock()): void {
    this.write(scalarLine(tag, value, step, wallTime, this.run));
  }

  scalars(step: number, values: Record<string, number>, wallTime = this.clock()): void {
    const text = Object.entries(values)
      .map(([tag, value]) => scalarLine(tag, value, step, wallTime, this.run))
      .join('');
    if (text) this.write(text);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Closes and removes what this writer wrote: the file it created, or its appended lines. */
  discard(): void {
    this.close();
    if (!this.touched) return;
    this.touched = false;
    if (this.created) unlinkSync(this.path);
    else truncateSync(this.path, this.startSize);
  }
}
