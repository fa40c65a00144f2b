// One GPU context per test file, destroyed after the file (Dawn keeps Node alive otherwise).
import { afterAll, beforeAll } from 'vitest';
import type { BufferScope } from '../../src/gpu/buffers.ts';
import { Gpu } from '../../src/gpu/context.ts';
import { CompiledStep, type CompileOptions } from '../../src/graph/compile.ts';
import type { Graph, Tensor, TypedData } from '../../src/graph/graph.ts';
import { StagingRing } from '../../src/gpu/readback.ts';
import { submitDispatches, type Dispatch } from '../../src/kernels/kernel.ts';

export type Build = (scope: BufferScope) => Promise<{ dispatches: Dispatch[]; outputs: [GPUBuffer, number][] }>;

export interface TestGpu {
  readonly gpu: Gpu;
  readonly ring: StagingRing;
  /** Builds dispatches in a fresh scope, runs them, and reads back `count` floats of each output. */
  run(build: Build): Promise<Float32Array[]>;
  /** Compiles `g`, feeds and runs it once, and reads `read` back (f32 tensors the graph keeps or its step leaves intact). */
  runGraph(g: Graph, feed: Record<string, TypedData>, read: readonly Tensor[], opts?: CompileOptions): Promise<Float32Array[]>;
}

export function useGpu(): TestGpu {
  let gpu: Gpu | undefined;
  let ring: StagingRing | undefined;
  beforeAll(async () => {
    gpu = await Gpu.create();
    ring = new StagingRing(gpu);
  });
  afterAll(() => {
    ring?.destroy();
    gpu?.destroy();
  });
  const self: TestGpu = {
    get gpu(): Gpu {
      if (!gpu) throw new Error('the GPU is not ready: useGpu() must be called at the top of the test file');
      return gpu;
    },
    get ring(): StagingRing {
      if (!ring) throw new Error('the GPU is not ready: useGpu() must be called at the top of the test file');
      return ring;
    },
    async run(build) {
      const scope = self.gpu.buffers.scope();
      try {
        const { dispatches, outputs } = await build(scope);
        submitDispatches(self.gpu, dispatches);
        const out: Float32Array[] = [];
        for (const [buf, count] of outputs) out.push(await self.ring.readF32(buf, count));
        return out;
      } finally {
        scope.destroy();
      }
    },
    async runGraph(g, feed, read, opts) {
      const step = await CompiledStep.create(self.gpu, g, opts);
      try {
        step.feed(feed);
        step.run();
        return await Promise.all(read.map(async (x) => (await step.read(self.ring, x)) as Float32Array));
      } finally {
        step.destroy();
      }
    },
  };
  return self;
}
