// GPU timing for bench/ and the engine: timestamp queries around one compute pass where
// the device has them, otherwise wall time from submit to onSubmittedWorkDone.
import type { Gpu } from './context.ts';
import type { BufferScope } from './buffers.ts';

export type TimingMode = 'timestamp' | 'wall';

export interface TimingStats {
  mode: TimingMode;
  median_ms: number;
  min_ms: number;
  samples: number[];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export class GpuTimer {
  readonly mode: TimingMode;
  private readonly scope: BufferScope;
  private readonly querySet: GPUQuerySet | null = null;
  private readonly resolve: GPUBuffer | null = null;
  private readonly staging: GPUBuffer | null = null;

  constructor(private readonly gpu: Gpu, mode?: TimingMode) {
    this.scope = gpu.buffers.scope();
    const can = gpu.device.features.has('timestamp-query');
    this.mode = mode ?? (can ? 'timestamp' : 'wall');
    if (this.mode === 'timestamp') {
      if (!can) throw new Error('timestamp timing asked for, but the device has no timestamp-query feature');
      this.querySet = gpu.device.createQuerySet({ type: 'timestamp', count: 2 });
      this.resolve = this.scope.create('timer-resolve', 16, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC);
      this.staging = this.scope.create('timer-staging', 16, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    }
  }

  /** Runs `record` inside one compute pass, submits it, and returns the pass's time in ms. */
  async time(record: (pass: GPUComputePassEncoder) => void): Promise<number> {
    const { device } = this.gpu;
    const encoder = device.createCommandEncoder({ label: 'timed' });
    const timestampWrites = this.querySet
      ? { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 }
      : undefined;
    const pass = encoder.beginComputePass({ label: 'timed', timestampWrites });
    record(pass);
    pass.end();
    if (this.querySet && this.resolve && this.staging) {
      encoder.resolveQuerySet(this.querySet, 0, 2, this.resolve, 0);
      encoder.copyBufferToBuffer(this.resolve, 0, this.staging, 0, 16);
      device.queue.submit([encoder.finish()]);
      await this.gpu.guard(this.staging.mapAsync(GPUMapMode.READ));
      const [t0, t1] = new BigUint64Array(this.staging.getMappedRange());
      this.staging.unmap();
      this.gpu.check();
      return Number(t1 - t0) / 1e6;
    }
    const t0 = performance.now();
    device.queue.submit([encoder.finish()]);
    await this.gpu.idle();
    return performance.now() - t0;
  }

  /** `warmup` untimed runs, then the median of `reps` timed runs. */
  async stats(record: (pass: GPUComputePassEncoder) => void, reps = 20, warmup = 3): Promise<TimingStats> {
    for (let i = 0; i < warmup; i++) await this.time(record);
    const samples: number[] = [];
    for (let i = 0; i < reps; i++) samples.push(await this.time(record));
    return { mode: this.mode, median_ms: median(samples), min_ms: Math.min(...samples), samples };
  }

  destroy(): void {
    this.querySet?.destroy();
    this.scope.destroy();
  }
}
