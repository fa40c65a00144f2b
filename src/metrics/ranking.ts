// Ranking metrics computed on the host from the ranks the GPU returns.

/** Mean over users of the mean reciprocal rank of that user's held-out items. */
export function meanReciprocalRank(users: ArrayLike<number>, ranks: ArrayLike<number>): number {
  const sum = new Map<number, { rr: number; n: number }>();
  for (let t = 0; t < users.length; t++) {
    const e = sum.get(users[t]) ?? { rr: 0, n: 0 };
    e.rr += 1 / ranks[t];
    e.n += 1;
    sum.set(users[t], e);
  }
  let total = 0;
  for (const e of sum.values()) total += e.rr / e.n;
  return sum.size ? total / sum.size : NaN;
}
