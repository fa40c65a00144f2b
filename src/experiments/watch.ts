// Divergence found within a hundred-odd steps, not at the next evaluation: every WATCH_EVERY steps
// a trainer copies its metric sums for reading (a few floats; the sums live on the GPU, where a
// NaN of any step stays), and looks at the copy made WATCH_EVERY steps before, which the GPU has
// most likely passed: the queue never drains for it. The training loop says what diverged means
// (src/experiments/divergence.ts). Browser-safe.

/** Steps between two looks at the metric sums (a run is stopped within two of these). */
export const WATCH_EVERY = 64;

/** Given to Trainer.train: the training metrics so far (per-step means, as TrainResult.values) are looked at every `every` steps. */
export interface Watch {
  every: number;
  /** True ends the train() call there. */
  diverged(values: Record<string, number>): boolean;
}

/** A trainer's side of a Watch: `after(steps)` once `steps` steps of a train() call are submitted. */
export class Lookout {
  private pending: Promise<Record<string, number>> | null = null;

  constructor(
    private readonly watch: Watch | undefined,
    /** The training metrics of the call's first `steps` steps, as train() reports them. */
    private readonly peek: (steps: number) => Promise<Record<string, number>>,
  ) {}

  /** Whether after(steps) has anything to do: the training loops await only then. */
  due(steps: number): boolean {
    return this.watch !== undefined && steps % this.watch.every === 0;
  }

  /** True when training must stop: the look taken `every` steps ago saw it diverge. */
  async after(steps: number): Promise<boolean> {
    if (!this.watch || !this.due(steps)) return false;
    const earlier = this.pending;
    this.pending = this.peek(steps);
    // Handled here too: training may end (a lost device) before this look is awaited.
    this.pending.catch(() => undefined);
    return earlier !== null && this.watch.diverged(await earlier);
  }

  /** Waits for the look still out (its staging buffer goes back to the ring); call once training stops, however it stops. */
  async close(): Promise<void> {
    const p = this.pending;
    this.pending = null;
    if (p) await p.catch(() => undefined);
  }
}
