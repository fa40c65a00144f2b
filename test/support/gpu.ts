// One GPU context per test file, destroyed after the file (Dawn keeps Node alive otherwise).
import { afterAll, beforeAll } from 'vitest';
import { Gpu } from '../../src/gpu/context.ts';
import { StagingRing } from '../../src/gpu/readback.ts';

export interface TestGpu {
  readonly gpu: Gpu;
  readonly ring: StagingRing;
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
  return {
    get gpu(): Gpu {
      if (!gpu) throw new Error('the GPU is not ready: useGpu() must be called at the top of the test file');
      return gpu;
    },
    get ring(): StagingRing {
      if (!ring) throw new Error('the GPU is not ready: useGpu() must be called at the top of the test file');
      return ring;
    },
  };
}
