// Pause, resume and stop as the training loops see them: a loop calls `gate()` at the points
// where it may wait (between epochs, at evaluations), and it resolves when the run may go on.
export class StopRun extends Error {
  override name = 'StopRun';
}

export class RunControl {
  private paused = false;
  private stopped = false;
  private wake: (() => void) | null = null;

  get isPaused(): boolean {
    return this.paused;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.release();
  }

  stop(): void {
    this.stopped = true;
    this.release();
  }

  /**
   * Waits while paused (calling `onPause` once when the wait starts); throws StopRun when the
   * run was stopped, before or during the wait.
   */
  async gate(onPause?: () => void): Promise<void> {
    if (this.paused && !this.stopped) {
      onPause?.();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    if (this.stopped) throw new StopRun('stopped');
  }

  private release(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

/** Calls `fn` at most every `ms` milliseconds, and always for the last call when `force` is set. */
export function throttle<A extends unknown[]>(ms: number, fn: (...args: A) => void): (force: boolean, ...args: A) => void {
  let last = -Infinity;
  return (force, ...args) => {
    const now = performance.now();
    if (!force && now - last < ms) return;
    last = now;
    fn(...args);
  };
}
