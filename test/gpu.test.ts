// The runtime: adapter report, buffer ownership, readback ring, timing, device loss.
import { describe, expect, it } from 'vitest';
import { adapterLine, limitsLines } from '../src/gpu/adapter-report.ts';
import { Gpu, oneSentence } from '../src/gpu/context.ts';
import { StagingRing } from '../src/gpu/readback.ts';
import { GpuTimer } from '../src/gpu/timing.ts';
import { useGpu } from './support/gpu.ts';

const t = useGpu();

describe('gpu runtime', () => {
  it('reports the adapter and its limits', () => {
    const r = t.gpu.report;
    console.log(`adapter: ${adapterLine(r)}${t.gpu.note ? ` — ${t.gpu.note}` : ''}`);
    console.log(limitsLines(r).join('; '));
    expect(r.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(typeof r.software).toBe('boolean');
  });

  it('destroys what a scope owns, children included', () => {
    const scope = t.gpu.buffers.scope();
    const child = scope.scope();
    scope.create('a', 64);
    child.create('b', 64);
    expect(scope.count).toBe(2);
    scope.destroy();
    expect(scope.count).toBe(0);
    expect(() => child.create('c', 4)).toThrow(/already destroyed/);
  });

  it('reads back through a ring smaller than the number of reads in flight', async () => {
    const { gpu } = t;
    const scope = gpu.buffers.scope();
    const ring = new StagingRing(gpu, 2);
    const srcs = Array.from({ length: 7 }, (_, i) => scope.upload(`src${i}`, Float32Array.from({ length: 100 + i }, (_, j) => i * 1000 + j)));
    const got = await Promise.all(srcs.map((s, i) => ring.readF32(s, 100 + i)));
    got.forEach((g, i) => {
      expect(g.length).toBe(100 + i);
      expect(g[0]).toBe(i * 1000);
      expect(g[99 + i]).toBe(i * 1000 + 99 + i);
    });
    ring.destroy();
    scope.destroy();
  });

  it('times a pass with GPU timestamps or wall time', async () => {
    const timer = new GpuTimer(t.gpu);
    const stats = await timer.stats(() => undefined, 5, 1);
    expect(stats.mode).toBe(t.gpu.report.timestamps ? 'timestamp' : 'wall');
    expect(stats.median_ms).toBeGreaterThanOrEqual(0);
    expect(stats.samples).toHaveLength(5);
    timer.destroy();
  });

  it('turns a validation error into one line, with Dawn’s call context dropped', async () => {
    const gpu = await Gpu.create();
    const size = gpu.device.limits.maxBufferSize + 4;
    gpu.device.createBuffer({ size, usage: GPUBufferUsage.STORAGE }); // invalid: reported to the handler, not thrown
    await expect(gpu.idle()).rejects.toThrow(/^WebGPU error: [^\n]+$/);
    expect(oneSentence('Buffer size (8) exceeds the max buffer size limit (4).\n - While calling [Device "x"].CreateBuffer([BufferDescriptor "a"]).\n')).toBe(
      'Buffer size (8) exceeds the max buffer size limit (4).',
    );
    gpu.destroy();
  });

  it('turns device loss into an error instead of a hang', async () => {
    const gpu = await Gpu.create();
    gpu.device.destroy(); // lost from under us, not through gpu.destroy()
    const never = new Promise<void>(() => undefined);
    await expect(gpu.guard(never)).rejects.toThrow(/device was lost/);
    expect(() => gpu.check()).toThrow(/device was lost/);
    gpu.destroy();
  });
});
