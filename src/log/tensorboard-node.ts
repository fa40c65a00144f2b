// TensorBoard event files on disk, named and laid out as PyTorch's SummaryWriter does, so
// `tensorboard --logdir runs` compares shadertrain runs with PyTorch ones. Appends are
// synchronous: a few records per epoch, and a crash loses at most the record being written.
import { closeSync, fsyncSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EventFileEncoder, nowSeconds } from './tensorboard.ts';

// One counter per process, as SummaryWriter's global uid: two writers opened in the same
// second in one process still get different files.
let fileCounter = 0;

/** events.out.tfevents.<unix seconds, 10 digits>.<hostname>.<pid>.<n> */
export function eventFileName(wallTime: number, n: number, host = hostname(), pid = process.pid): string {
  return `events.out.tfevents.${String(Math.floor(wallTime)).padStart(10, '0')}.${host}.${pid}.${n}`;
}

export interface TensorBoardWriterOptions {
  /** Seconds since the epoch for wall_time; defaults to the system clock. */
  clock?: () => number;
}

/**
 * Writes scalars to one event file in `logdir`. Nothing touches the disk until the first
 * scalar: then the logdir is created (with its parents) and the file opened, so a run that
 * fails its input checks leaves nothing behind.
 */
export class TensorBoardWriter {
  private readonly encoder: EventFileEncoder;
  private readonly clock: () => number;
  private fd: number | null = null;
  private closed = false;
  /** The event file, once the first scalar has created it. */
  path: string | null = null;
  /** The first directory mkdir created for the logdir, if any (for RunLog.abort). */
  createdDir: string | undefined;

  constructor(
    readonly logdir: string,
    options: TensorBoardWriterOptions = {},
  ) {
    this.clock = options.clock ?? nowSeconds;
    this.encoder = new EventFileEncoder(this.clock);
  }

  private open(wallTime: number): number {
    if (this.fd !== null) return this.fd;
    this.createdDir = mkdirSync(this.logdir, { recursive: true });
    const path = join(this.logdir, eventFileName(wallTime, fileCounter++));
    // 'wx': never append to someone else's file.
    this.fd = openSync(path, 'wx');
    this.path = path;
    return this.fd;
  }

  private append(bytes: Uint8Array): void {
    const fd = this.fd;
    if (fd === null) throw new Error('TensorBoardWriter: not open');
    let at = 0;
    while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
  }

  /** add_scalar(tag, value, step): one Event record. */
  scalar(tag: string, value: number, step: number, wallTime = this.clock()): void {
    this.checkOpen();
    // Encode first: a bad step throws before the file exists.
    const bytes = this.encoder.scalar(tag, value, step, wallTime);
    this.open(wallTime);
    this.append(bytes);
  }

  /** A plugin's summary (an encoded Summary.Value, as the HParams ones) in one Event. */
  summary(value: Uint8Array, step: number, wallTime = this.clock()): void {
    this.checkOpen();
    const bytes = this.encoder.summary(value, step, wallTime);
    this.open(wallTime);
    this.append(bytes);
  }

  /** Several tags at one step, one Event each. */
  scalars(step: number, values: Record<string, number>, wallTime = this.clock()): void {
    this.checkOpen();
    const bytes = this.encoder.scalars(step, values, wallTime);
    if (bytes.length === 0) return;
    this.open(wallTime);
    this.append(bytes);
  }

  /** Writes are unbuffered; flush asks the OS to put them on disk. */
  flush(): void {
    if (this.fd !== null) fsyncSync(this.fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }

  /** Closes and deletes the event file this writer created, if it created one. */
  discard(): void {
    this.close();
    if (this.path !== null) unlinkSync(this.path);
    this.path = null;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`TensorBoardWriter for ${this.logdir} is closed`);
  }
}

