// Comparisons that say where and by how much results differ.
import { expect } from 'vitest';
import { checkClose, type Allowance } from '../../src/tolerance.ts';

/** Fails with the worst element named when `actual` is not within `allow` of `expected` (src/tolerance.ts). */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, allow: Allowance, what = 'result'): void {
  const problem = checkClose(actual, expected, allow, what);
  if (problem) expect.fail(problem);
}

/** The same float32 bits everywhere (NaNs included). */
export function expectSameBits(a: Float32Array, b: Float32Array, what = 'result'): void {
  expect(a.length, `${what}: length`).toBe(b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) {
    if (ua[i] !== ub[i]) expect.fail(`${what}: element ${i} differs in its bits: ${a[i]} vs ${b[i]}`);
  }
}
