// A lost GPU device (a driver reset, an unplugged eGPU, a browser reclaiming the GPU) survived:
// the run keeps an in-memory snapshot of the trainer at each evaluation, and when the device is
// lost it opens another, builds the trainer again on it, restores the snapshot and trains on.
// Training is deterministic, so the run ends in the bytes an undisturbed run ends in. Used by the
// CLI and the page's worker alike. Browser-safe.
import type { Gpu } from '../gpu/context.ts';
import { DeviceLostError } from '../gpu/platform.ts';
import { trainLoop, type LoopOptions } from './loop.ts';
import type { AnyExperiment, Evaluation, RunResult, Trainer } from './types.ts';

/** Losses a run survives; one more ends it (a device that keeps failing is not going to recover). */
export const DEVICE_LOSS_TRIES = 3;

/** The device a run trains on, replaced when lost: `open` makes another as the first was made. */
export class DeviceHolder {
  constructor(
    private current: Gpu,
    private readonly open: () => Promise<Gpu>,
  ) {}

  get gpu(): Gpu {
    return this.current;
  }

  /**
   * This device's loss, where `err` came of it (else null). Once a device is lost any call may
   * fail first (a readback, a mapping), so the device itself is asked: waiting for its queue
   * settles it.
   */
  async lossIn(err: unknown): Promise<DeviceLostError | null> {
    if (err instanceof DeviceLostError) return err;
    if (this.current.isDestroyed) return null;
    try {
      await this.current.idle();
      return null;
    } catch (e) {
      return e instanceof DeviceLostError ? e : null;
    }
  }

  /** Frees what is left of the lost device and opens another. */
  async replace(): Promise<Gpu> {
    this.current.destroy();
    this.current = await this.open();
    return this.current;
  }

  destroy(): void {
    this.current.destroy();
  }
}

/** A device lost and survived: what the caller rewinds (logs, best, progress) to `from`. */
export interface DeviceLoss {
  /** The loss's reason and the driver's words: "destroyed: device was destroyed". */
  why: string;
  /** Which loss of the run this is, from 1. */
  count: number;
  /** Units trained when the loss was noticed (the last evaluation's, or more). */
  lostAt: number;
  /** Units of the snapshot the run goes on from (the run's start when none was taken yet). */
  from: number;
  /** The evaluations up to `from`, kept; every later one is taken again. */
  kept: Evaluation[];
}

export class DeviceLossError extends Error {
  override name = 'DeviceLossError';
}

/** What a surviving run is given to train with, once. */
export interface SurviveOptions {
  ex: AnyExperiment;
  config: object;
  devices: DeviceHolder;
  /** A new trainer of the run's settings and data on another device. */
  create(gpu: Gpu): Promise<Trainer>;
  tries?: number;
}

/** The loop's options, `onEvaluation` also handed the snapshot's bytes (a checkpoint, to write). */
export type SurvivingLoop = Omit<LoopOptions, 'onEvaluation' | 'resumed'> & {
  onEvaluation(e: Evaluation, checkpoint: Uint8Array): void | Promise<void>;
  /** After a loss, on the new device with the snapshot restored, before training goes on. */
  onLoss(loss: DeviceLoss): void | Promise<void>;
};

interface Snapshot {
  at: number;
  /** Undefined at the start of a fresh run: a new trainer is that state (it is seeded). */
  bytes?: Uint8Array;
  /** The evaluations up to `at`. */
  evaluations: Evaluation[];
}

/**
 * A run's trainer, through device losses: it owns each trainer it holds (`destroy()` frees the
 * current one). The first is the caller's, restored from `resumedFrom` where the run resumes.
 */
export class SurvivingTrainer {
  private current: Trainer | undefined;
  private snapshot: Snapshot;
  private losses = 0;

  constructor(
    private readonly o: SurviveOptions,
    first: Trainer,
    resumedFrom?: Uint8Array,
  ) {
    this.current = first;
    this.snapshot = { at: first.done, bytes: resumedFrom, evaluations: [] };
  }

  /** The trainer now (after a loss, the one on the new device). */
  get trainer(): Trainer {
    if (!this.current) throw new Error('the run has no trainer: its device was lost and no other could be opened');
    return this.current;
  }

  /** `trainLoop`, going on after each device loss from the last snapshot; the result covers the whole run. */
  async train(loop: SurvivingLoop): Promise<RunResult<object>> {
    const { ex, config, devices } = this.o;
    const start = this.snapshot.at;
    const t0 = performance.now();
    for (;;) {
      const from = this.snapshot;
      const trainer = this.trainer;
      const evaluations = [...from.evaluations];
      try {
        const part = await trainLoop(ex, trainer, config, {
          ...loop,
          resumed: from.bytes !== undefined,
          // The estimate is made once, on the run's first steps.
          warmup: this.losses === 0 ? loop.warmup : undefined,
          onEvaluation: async (e) => {
            const bytes = await trainer.checkpoint();
            await loop.onEvaluation(e, bytes);
            evaluations.push(e);
            this.snapshot = { at: e.at, bytes, evaluations: [...evaluations] };
          },
        });
        // Without a loss the loop's result is the run's (its speed counts a round cut short by Ctrl-C too).
        if (this.losses === 0) return part;
        return { ...part, start, evaluations, msPerStep: msPerStep(evaluations), seconds: (performance.now() - t0) / 1000 };
      } catch (err) {
        const loss = await devices.lossIn(err);
        if (!loss) throw err;
        await this.recover(loss, trainer.done, loop);
      }
    }
  }

  /** A new device and trainer at the last snapshot; tries again while the new device is lost too. */
  private async recover(loss: DeviceLostError, lostAt: number, loop: SurvivingLoop): Promise<void> {
    const { ex, devices, tries = DEVICE_LOSS_TRIES } = this.o;
    for (let why = loss.why; ; ) {
      this.losses++;
      this.destroy();
      if (this.losses > tries) {
        throw new DeviceLossError(`the GPU device was lost ${this.losses} times in this run, the last by ${ex.unit} ${lostAt} (${why}); lower the batch size or update the GPU driver`);
      }
      try {
        const gpu = await devices.replace();
        const trainer = await this.o.create(gpu);
        this.current = trainer;
        const { at, bytes, evaluations } = this.snapshot;
        if (bytes) trainer.restore(bytes, `the snapshot at ${ex.unit} ${at}`);
        await loop.onLoss({ why, count: this.losses, lostAt, from: at, kept: evaluations });
        return;
      } catch (err) {
        const again = await devices.lossIn(err);
        if (!again) throw err;
        why = again.why;
      }
    }
  }

  destroy(): void {
    this.current?.destroy();
    this.current = undefined;
  }
}

/** The run's mean training time per step, over its rounds (as trainLoop counts it). */
function msPerStep(evaluations: readonly Evaluation[]): number {
  let ms = 0;
  let steps = 0;
  for (const e of evaluations) {
    ms += e.trainMs;
    steps += e.steps;
  }
  return steps > 0 ? ms / steps : NaN;
}
