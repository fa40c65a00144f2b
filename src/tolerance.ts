// The one tolerance check that tests and the bench share: how far a GPU result may be from its
// float64 reference, and a sentence naming the worst element when it is farther.

/** |actual - expected| <= atol + rtol * |expected| for every element. */
export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
}

/** A Tolerance, or an explicit allowance per element (error bounds derived from the inputs). */
export type Allowance = Tolerance | ArrayLike<number>;

export interface Mismatch {
  readonly index: number;
  readonly actual: number;
  readonly expected: number;
  readonly allowed: number;
}

const allowedAt = (allow: Allowance, expected: number, i: number): number =>
  'atol' in allow ? allow.atol + allow.rtol * Math.abs(expected) : (allow as ArrayLike<number>)[i];

/** The element farthest beyond its allowance (a NaN at once), or null when every element is within. */
export function worstMismatch(actual: ArrayLike<number>, expected: ArrayLike<number>, allow: Allowance): Mismatch | null {
  let worst: Mismatch | null = null;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const allowed = allowedAt(allow, expected[i], i);
    const excess = Math.abs(actual[i] - expected[i]) - allowed;
    if (excess <= 0) continue;
    if (worst === null || !(excess <= worstExcess)) {
      worst = { index: i, actual: actual[i], expected: expected[i], allowed };
      worstExcess = excess;
      if (Number.isNaN(excess)) break;
    }
  }
  return worst;
}

/** null when `actual` matches `expected` within `allow`, else one sentence about `what`. */
export function checkClose(actual: ArrayLike<number>, expected: ArrayLike<number>, allow: Allowance, what = 'result'): string | null {
  if (actual.length !== expected.length) return `${what}: length ${actual.length}, expected ${expected.length}`;
  const m = worstMismatch(actual, expected, allow);
  if (!m) return null;
  const within = 'atol' in allow ? `atol ${allow.atol}, rtol ${allow.rtol}` : `allowed ${m.allowed.toExponential(2)}`;
  return `${what}: element ${m.index} is ${m.actual}, expected ${m.expected} (${within})`;
}
