// Waiting for the device in Node: dawn.node polls from a setImmediate loop while a promise of
// its is pending; `settle` naps between those polls so the main thread does not spin a core
// that SwiftShader's workers could use (see platform-node.ts).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gpu } from '../src/gpu/context.ts';
import { settle } from '../src/gpu/platform-node.ts';
import { encodeDispatch } from '../src/kernels/kernel.ts';
import { Matmul } from '../src/kernels/matmul.ts';

/** CPU time (ms) of this process's main thread alone, or null off Linux. */
function mainThreadCpuMs(): number | null {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

describe('settle', () => {
  let gpu: Gpu;
  beforeAll(async () => {
    gpu = await Gpu.create();
  });
  afterAll(() => gpu.destroy());

  it('passes values and rejections through', async () => {
    await expect(settle(Promise.resolve(42))).resolves.toBe(42);
    const err = new Error('no');
    await expect(settle(Promise.reject(err))).rejects.toBe(err);
  });

  it('resolves overlapping waits, and later ones still promptly', async () => {
    const waits = Array.from({ length: 20 }, () => gpu.idle());
    await Promise.all(waits);
    // A wait that started while another's nap was queued shares its chain; were chains to pile
    // up, each later wait would sleep once per chain (a first version did: its 200th wait of
    // an empty queue took about 60 ms). Here they take a fraction of a millisecond.
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) await gpu.idle();
    expect((performance.now() - t0) / 200).toBeLessThan(5);
  });

  it('leaves the main thread mostly idle while the device works', async () => {
    if (mainThreadCpuMs() === null) return; // no per-thread CPU times here
    const scope = gpu.buffers.scope();
    try {
      const shape = { m: 256, n: 64, k: 96 };
      const mm = await Matmul.create(gpu, shape, { variant: 'reg4x4' }, scope);
      const d = mm.bind({ a: scope.create('a', 256 * 96 * 4), b: scope.create('b', 96 * 64 * 4), c: scope.create('c', 256 * 64 * 4) });
      // Enough queued work for a wait of several of the clock's 10 ms ticks (on a GPU, many more
      // products than on SwiftShader).
      let wall = 0;
      let cpu = 0;
      for (let n = 300; wall < 50 && n <= 80_000; n *= 4) {
        const enc = gpu.device.createCommandEncoder();
        const pass = enc.beginComputePass();
        for (let i = 0; i < n; i++) encodeDispatch(pass, d);
        pass.end();
        gpu.device.queue.submit([enc.finish()]);
        const wall0 = performance.now();
        const cpu0 = mainThreadCpuMs() as number;
        await gpu.idle();
        wall = performance.now() - wall0;
        cpu = (mainThreadCpuMs() as number) - cpu0;
      }
      if (wall < 50) return; // a device too fast to keep busy this long says nothing here
      // Spinning, the thread is busy nearly all the wait (0.84 of it here); napping, 0.04.
      expect(cpu / wall).toBeLessThan(0.5);
    } finally {
      scope.destroy();
    }
  });
});
