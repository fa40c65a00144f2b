// Regression metrics on the host, over a whole evaluation split, summed in float64. A NaN target
// is a missing label (the multi-task table writes NaN where a row has none) and the row is skipped.

/** Mean squared error over the rows with a target; NaN when there are none, or when a prediction for one is NaN. */
export function mse(pred: ArrayLike<number>, target: ArrayLike<number>): number {
  if (pred.length !== target.length) throw new RangeError(`mse: ${pred.length} predictions for ${target.length} targets; pass one prediction per target.`);
  let sum = 0;
  let count = 0;
  for (let i = 0; i < target.length; i++) {
    const y = target[i];
    if (Number.isNaN(y)) continue;
    const d = pred[i] - y;
    sum += d * d;
    count++;
  }
  return count ? sum / count : NaN;
}
