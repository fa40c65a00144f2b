// Which characters are for meta-training, validation and meta-testing, as the course split them:
// all characters shuffled by a seeded generator, then the first 1100 for meta-training, the
// next 100 for validation and the remaining 423 for meta-testing. Here the shuffle is
// Rng(seed).shuffle (Fisher-Yates) over the set's characters in its fixed order, so a seed
// names the same split on every machine, in Node and in a browser.
//
// Partial sets (e.g. only the small background zips) are split in the same proportions:
// train = round(n·1100/1623), val = max(1, round(n·100/1623)), test = the rest; a set too small
// to give each part at least one character is an error.
import { Rng } from '../random.ts';
import { DataError } from './errors.ts';
import { OMNIGLOT_CHARACTERS } from './omniglot-set.ts';

export const OMNIGLOT_SPLIT = { train: 1100, val: 100, test: 423 } as const;

/** Indices into the set's characters (its fixed order), in shuffled order within each part. */
export interface CharacterSplit {
  train: number[];
  val: number[];
  test: number[];
}

export interface SplitSizes {
  train: number;
  val: number;
}

/** The course's sizes for a full set, scaled for a partial one. */
export function omniglotSplitSizes(characters: number): SplitSizes {
  if (characters === OMNIGLOT_CHARACTERS) return { train: OMNIGLOT_SPLIT.train, val: OMNIGLOT_SPLIT.val };
  const train = Math.round((characters * OMNIGLOT_SPLIT.train) / OMNIGLOT_CHARACTERS);
  const val = Math.max(1, Math.round((characters * OMNIGLOT_SPLIT.val) / OMNIGLOT_CHARACTERS));
  return { train, val };
}

/**
 * Splits `characters` characters with a seeded shuffle. `sizes` overrides the meta-train and
 * validation counts; meta-test gets the rest.
 */
export function splitOmniglotCharacters(characters: number, seed: number, sizes: SplitSizes = omniglotSplitSizes(characters)): CharacterSplit {
  if (!Number.isInteger(characters) || characters < 0) throw new Error(`splitOmniglotCharacters: bad character count ${characters}`);
  const { train, val } = sizes;
  const test = characters - train - val;
  if (!(Number.isInteger(train) && Number.isInteger(val) && train >= 1 && val >= 1 && test >= 1)) {
    throw new DataError(
      `An Omniglot set of ${characters} characters cannot be split into ${train} meta-train, ${val} validation and ${test} meta-test characters; each part needs at least one.`,
    );
  }
  const order = Array.from({ length: characters }, (_, i) => i);
  new Rng(seed).shuffle(order);
  return { train: order.slice(0, train), val: order.slice(train, train + val), test: order.slice(train + val) };
}
