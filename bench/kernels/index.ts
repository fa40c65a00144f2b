// Every kernel family's bench cases. Each family lives in its own file beside this one.
import type { BenchCase } from '../harness.ts';
import { embeddingCases } from './embedding.ts';
import { lossesCases } from './losses.ts';
import { lstmCases } from './lstm.ts';
import { matmulCases } from './matmul.ts';
import { optimCases } from './optim.ts';
import { reduceCases } from './reduce.ts';

export function kernelCases(): BenchCase[] {
  return [...embeddingCases(), ...optimCases(), ...lstmCases(), ...lossesCases(), ...reduceCases(), ...matmulCases()];
}
