// How long a run will take, said before it is under way: from its own first steps, timed on the
// adapter it runs on (they are real steps of the run, not extra ones), and from its first
// evaluation where it has one. Browser-safe.

/** A run's expected wall time, from its measured first steps. */
export interface Estimate {
  /** Steps the whole run trains, and the evaluations it takes (the one before training included). */
  steps: number;
  evaluations: number;
  /** Measured: wall time per training step over the warm-up, and of one evaluation (0 if none yet). */
  msPerStep: number;
  evalMs: number;
  /** The whole run, warm-up and first evaluation included. */
  seconds: number;
}

export function estimate(steps: number, evaluations: number, msPerStep: number, evalMs: number): Estimate {
  return { steps, evaluations, msPerStep, evalMs, seconds: (steps * msPerStep + evaluations * evalMs) / 1000 };
}

/** "1 epoch", "25,000 steps". */
export function count(n: number, unit: string): string {
  return `${n.toLocaleString('en-US')} ${unit}${n === 1 ? '' : 's'}`;
}

/** A duration as an estimate reads: "about 40 s", "about 62 min", "about 3.5 h". */
export function roughly(seconds: number): string {
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 90 * 60) return `about ${Math.round(seconds / 60)} min`;
  return `about ${(seconds / 3600).toFixed(1)} h`;
}

/** A round number of steps (1, 2 or 5 times a power of ten) that takes about `seconds` at `msPerStep`. */
export function stepsFor(seconds: number, msPerStep: number): number {
  const n = (seconds * 1000) / msPerStep;
  const p = 10 ** Math.floor(Math.log10(Math.max(1, n)));
  return [5, 2, 1].map((m) => m * p).find((x) => x <= n) ?? 1;
}

/**
 * The line before a run: "about 62 min for 25,000 steps on google swiftshader (software); try
 * --steps 2000 for a quick look" (the hint only for runs over ten minutes).
 */
export function estimateLine(e: Estimate, adapter: string, lengthFlag: string, unit: string, minSteps: number): string {
  const quick = stepsFor(300, e.msPerStep);
  const hint = e.seconds > 600 && quick < e.steps ? `; try --${lengthFlag} ${Math.max(minSteps, quick)} for a quick look` : '';
  return `${roughly(e.seconds)} for ${count(e.steps, unit)} on ${adapter}${hint}`;
}
