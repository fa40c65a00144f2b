// The float64 reference for shaders/uncertainty-weighting.wgsl.

/**
 * Kendall et al.'s weighting as most implementations write it: per task t, the term
 * exp(-s_t) · L_t + s_t of the total, d total / d s_t = 1 - exp(-s_t) · L_t, and
 * d total / d L_t = exp(-s_t), from the task losses L_t (sums) and log-variances s_t.
 */
export function uncertaintyRef(taskLosses: ArrayLike<number>, logVars: ArrayLike<number>): { terms: Float64Array; gradLogVars: Float64Array; factors: Float64Array } {
  const T = logVars.length;
  const factors = Float64Array.from({ length: T }, (_, t) => Math.exp(-logVars[t]));
  return {
    terms: Float64Array.from({ length: T }, (_, t) => factors[t] * taskLosses[t] + logVars[t]),
    gradLogVars: Float64Array.from({ length: T }, (_, t) => 1 - factors[t] * taskLosses[t]),
    factors,
  };
}
