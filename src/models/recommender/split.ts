// The course's split: shuffle every rating with the seeded generator, the first
// int((1 - test_fraction) · N) rows train, the rest test.
import type { CheckpointData } from '../../graph/checkpoint.ts';
import type { Rng } from '../../random.ts';

/** What the recommender reads from any MovieLens format: parallel arrays in file order. */
export interface RatingRows {
  users: Uint32Array;
  items: Uint32Array;
  ratings: Float32Array;
  count: number;
}

/** The recommender's data: the ratings and, where the data has them, the movie titles. */
export interface RecommenderData {
  rows: RatingRows;
  titles: Map<number, string> | null;
  /** The ratings file's name, where it came from and its fingerprint, for the checkpoints (absent: they record none). */
  origin?: CheckpointData;
}

export interface Split {
  /** Row numbers of the ratings, in shuffled order. */
  train: Uint32Array;
  test: Uint32Array;
}

export function splitRows(count: number, testFraction: number, rng: Rng): Split {
  const order = rng.shuffle(Uint32Array.from({ length: count }, (_, i) => i));
  const cut = Math.floor((1 - testFraction) * count);
  return { train: order.subarray(0, cut), test: order.subarray(cut) };
}

/** Table sizes: ids are used as they are, so row 0 exists and stays unused. */
export function tableSizes(r: RatingRows): { users: number; items: number } {
  let users = 0;
  let items = 0;
  for (let i = 0; i < r.count; i++) {
    if (r.users[i] > users) users = r.users[i];
    if (r.items[i] > items) items = r.items[i];
  }
  return { users: users + 1, items: items + 1 };
}
