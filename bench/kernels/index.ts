// Every kernel family's bench cases. Each family lives in its own file beside this one.
import type { BenchCase } from '../harness.ts';
import { embeddingCases } from './embedding.ts';

export function kernelCases(): BenchCase[] {
  return [...embeddingCases()];
}
