// What recommender prediction reads besides the checkpoint, as the front end hands it over:
// the ratings it was trained on (--data: a ratings file, a MovieLens zip or a folder's files),
// checked against the checkpoint's fingerprint; the titles (--titles); and (user, item) pairs
// (--pairs). Browser-safe.
import { DataError } from '../../data/errors.ts';
import { fingerprint } from '../../data/fingerprint.ts';
import { parseItemTitles, parseRatings, RATINGS_FILE_NAMES, readMovieLensZip, TITLES_FILE_NAME } from '../../data/movielens.ts';
import { isZip } from '../../data/zip.ts';
import type { PredictFile } from '../../experiments/types.ts';
import type { CheckpointFile } from '../../graph/checkpoint.ts';
import type { RatingRows } from './split.ts';

export interface TrainingRatings {
  rows: RatingRows;
  /** The titles file beside the ratings (in the folder or zip), where there is one. */
  titles: Map<number, string> | null;
}

/**
 * The ratings a checkpoint was trained on, from `files` (one file or zip, or a folder's files
 * named by their path inside it), as training's --data reads them. Their fingerprint must be the
 * checkpoint's: the split, and so the items each user rated in training, depend on every byte.
 */
export async function trainingRatings(files: readonly PredictFile[], checkpoint: CheckpointFile, note: (line: string) => void): Promise<TrainingRatings> {
  let ratingsFile: PredictFile;
  let titlesFile: PredictFile | undefined;
  if (files.length === 1) ratingsFile = files[0];
  else {
    // A folder: its ratings file at the top, as training picks it.
    const top = (name: string): PredictFile | undefined => files.find((f) => f.name === name);
    const found = RATINGS_FILE_NAMES.map(top).find((f) => f !== undefined);
    if (!found) throw new DataError(`--data holds no MovieLens ratings file at its top (${RATINGS_FILE_NAMES.join(', ')}); give the ratings file the model was trained on.`);
    ratingsFile = found;
  }
  const recorded = checkpoint.data;
  if (recorded) {
    const got = await fingerprint([ratingsFile]);
    if (got.sha256 !== recorded.fingerprint.sha256) {
      throw new DataError(
        `--data ${ratingsFile.name} is not the data ${checkpoint.source} was trained on (its SHA-256 differs from the one the checkpoint recorded for ${recorded.source}); give that ratings file.`,
      );
    }
  } else note(`${checkpoint.source} records no fingerprint of its ratings; --data ${ratingsFile.name} is taken as the data it was trained on.`);
  if (isZip(ratingsFile.bytes)) {
    const zip = readMovieLensZip(ratingsFile.bytes, ratingsFile.name);
    return { rows: zip.ratings, titles: zip.titles ?? null };
  }
  const rows = parseRatings(ratingsFile.bytes, ratingsFile.name);
  if (files.length > 1) titlesFile = files.find((f) => f.name === TITLES_FILE_NAME[rows.format]);
  return { rows, titles: titlesFile ? parseItemTitles(titlesFile.bytes, titlesFile.name) : null };
}

/** Titles from --titles: u.item ('|'-separated, latin-1), movies.dat ('::'-separated) or movies.csv. */
export function readTitles(file: PredictFile): Map<number, string> {
  return parseItemTitles(file.bytes, file.name);
}

export interface Pairs {
  users: number[];
  items: number[];
  /** The file's line of each pair (errors about an id name it). */
  lines: number[];
}

/**
 * (user, item) pairs, one a line: the first two fields, separated by a comma, tab, spaces or
 * '::' (so u.data, ratings.dat and ratings.csv lines work as they are; further fields are not
 * read). A first line that does not start with a number is a header and is skipped.
 */
export function readPairs(file: PredictFile): Pairs {
  const text = new TextDecoder().decode(file.bytes);
  const users: number[] = [];
  const items: number[] = [];
  const lines: number[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const fields = line.split(/::|[,\t ]+/);
    if (i === 0 && !/^\d/.test(line)) return;
    const id = (s: string | undefined): number => (s !== undefined && /^\d+$/.test(s) ? Number(s) : NaN);
    const [u, q] = [id(fields[0]), id(fields[1])];
    if (!Number.isSafeInteger(u) || !Number.isSafeInteger(q)) {
      throw new DataError(`${file.name} line ${i + 1}: "${line.length > 60 ? `${line.slice(0, 60)}…` : line}" is not a pair of ids; give a user id and an item id per line (a header line may come first).`);
    }
    users.push(u);
    items.push(q);
    lines.push(i + 1);
  });
  if (users.length === 0) throw new DataError(`${file.name} holds no pairs; give a user id and an item id per line.`);
  return { users, items, lines };
}
