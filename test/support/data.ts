// Test data helpers shared by the kernel tests.
import type { Rng } from '../../src/random.ts';

/** Half an ulp, relative: the error of one correctly rounded f32 operation. */
export const U = 2 ** -24;

/** A loop, not Float32Array.from(x, fn): that goes through the iterator protocol, ~1 s per 4M elements. */
export function f32(n: number, f: (i: number) => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
}

export function normals(rng: Rng, n: number): Float32Array {
  return f32(n, () => rng.normal());
}
