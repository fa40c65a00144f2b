// Fill a tensor with a constant (zeroing inside a compute pass).
import source from '../../shaders/fill.wgsl';
import type { Gpu } from '../gpu/context.ts';
import { checkInteger, elementsPerThread, f32Bits, gridPerThread } from './kernel.ts';
import type { EntrySpec } from './spec.ts';

const WG = 64;

/** out[0..n) = value. */
export function fill(gpu: Gpu, n: number, value = 0): EntrySpec<'out'> {
  checkInteger('fill', 'n', n, 1);
  const per = elementsPerThread(gpu);
  return {
    kernel: 'fill',
    source,
    entry: 'fill',
    constants: { WG, PER: per },
    params: { p: [n, f32Bits(value), 0, 0] },
    sizes: { out: n * 4 },
    shape: `[${n}]`,
    grid: gridPerThread(gpu, n, WG, per),
  };
}
