// Made-up ratings for the recommender's tests: 20 users × 30 items, ids from 1 as in MovieLens,
// each (user, item) once, with ratings that follow hidden tastes. Browser-safe.
import { Rng } from '../../src/random.ts';

export interface SyntheticRatings {
  users: Uint32Array;
  items: Uint32Array;
  ratings: Float32Array;
  count: number;
}

export function syntheticRatings(count: number): SyntheticRatings {
  const rng = new Rng(11);
  const seen = new Set<number>();
  const users = new Uint32Array(count);
  const items = new Uint32Array(count);
  const ratings = new Float32Array(count);
  for (let k = 0; k < count; ) {
    const u = 1 + rng.int(20);
    const i = 1 + rng.int(30);
    if (seen.has(u * 100 + i)) continue;
    seen.add(u * 100 + i);
    users[k] = u;
    items[k] = i;
    ratings[k] = 1 + ((u * 7 + i * 3) % 5);
    k++;
  }
  return { users, items, ratings, count };
}
