// MovieLens in Node: a user's folder, file or zip (used as given), or else MovieLens 100K in the
// cache, downloaded once from GroupLens and checked against its known SHA-256.
import { fingerprint, type DataFingerprint } from './fingerprint.ts';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { cacheDir as rootCacheDir } from '../cache-node.ts';
import { DataError } from './errors.ts';
import { writeFileAtomic } from './files-node.ts';
import {
  type Ratings,
  type RatingsFormat,
  RATINGS_FILE_NAMES,
  TITLES_FILE_NAME,
  parseItemTitles,
  parseRatings,
  readMovieLensZip,
} from './movielens.ts';
import { isZip, readZipEntry, zipEntries } from './zip.ts';

export const ML100K_URL = 'https://files.grouplens.org/datasets/movielens/ml-100k.zip';
/** SHA-256 of the official ml-100k/u.data (100,000 ratings). */
export const ML100K_UDATA_SHA256 = '06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490';

export interface MovieLensOptions {
  /** A folder holding u.data, ratings.dat or ratings.csv; or one such file; or a MovieLens zip. */
  data?: string;
  /** The cache root (default $SHADERTRAIN_CACHE, else ~/.cache/shadertrain); 100K goes to movielens/ml-100k in it. */
  cacheDir?: string;
  log?: (line: string) => void;
  fetch?: typeof fetch;
}

export interface MovieLensData {
  ratings: Ratings;
  /** Where the ratings came from: a path, or "zip: path inside". */
  source: string;
  titles?: Map<number, string>;
  /** Of the ratings file's bytes (the zip's, for a zip): the titles do not change what is trained. */
  fingerprint: DataFingerprint;
}

const HOW_TO_PASS = 'pass --data PATH, a folder with u.data (such as an unpacked ml-100k.zip) or the file itself';

/** The folder the downloaded MovieLens 100K lives in, under the engine's cache root. */
export function movieLensCacheFolder(cacheDir?: string): string {
  return join(cacheDir ?? rootCacheDir(), 'movielens', 'ml-100k');
}

/** The ratings (and titles, where there are any) the user pointed at, or MovieLens 100K from the cache. */
export async function resolveMovieLens(options: MovieLensOptions = {}): Promise<MovieLensData> {
  if (options.data !== undefined) return readMovieLensPath(options.data);
  const folder = movieLensCacheFolder(options.cacheDir);
  if (!(await exists(join(folder, 'u.data')))) {
    await downloadMovieLens100K(folder, options.fetch ?? fetch);
    options.log?.(`downloaded MovieLens 100K to ${folder} (GroupLens terms, research use only: see README there)`);
  }
  return readFolder(folder);
}

/** A folder, a ratings file (plain or gzip) or a zip, used as given. */
export async function readMovieLensPath(path: string): Promise<MovieLensData> {
  const full = resolve(path);
  let info;
  try {
    info = await stat(full);
  } catch (err) {
    if (code(err) === 'ENOENT') {
      throw new DataError(`${path} does not exist: pass a folder with u.data, ratings.dat or ratings.csv, one of those files, or a MovieLens zip.`);
    }
    throw new DataError(`cannot read ${path} (${code(err) ?? String(err)}).`);
  }
  if (info.isDirectory()) return readFolder(full);
  const bytes = await readBytes(full);
  if (isZip(bytes)) {
    const zip = readMovieLensZip(bytes, full);
    return { ratings: zip.ratings, source: `${full}: ${zip.ratingsPath}`, titles: zip.titles, fingerprint: await fingerprint([{ name: full, bytes }]) };
  }
  const ratings = parseRatings(bytes, full);
  // The titles file of the same release, when it sits beside this one (u.item beside ua.base…).
  const titles = await readTitlesIfPresent(dirname(full), ratings.format);
  return { ratings, source: full, titles, fingerprint: await fingerprint([{ name: full, bytes }]) };
}

async function readFolder(folder: string): Promise<MovieLensData> {
  const present: string[] = [];
  for (const name of RATINGS_FILE_NAMES) if (await exists(join(folder, name))) present.push(name);
  if (present.length > 1) {
    throw new DataError(`${folder} holds several ratings files (${present.join(', ')}): pass the one you mean.`);
  }
  if (present.length === 0) {
    const inside = await subfoldersWithRatings(folder);
    const hint = inside.length > 0 ? `; it has ${inside.join(', ')}: pass that` : '';
    throw new DataError(`${folder} holds no MovieLens ratings file (${RATINGS_FILE_NAMES.join(', ')})${hint}.`);
  }
  const file = join(folder, present[0]);
  const bytes = await readBytes(file);
  const ratings = parseRatings(bytes, file);
  return { ratings, source: file, titles: await readTitlesIfPresent(folder, ratings.format), fingerprint: await fingerprint([{ name: file, bytes }]) };
}

async function readTitlesIfPresent(folder: string, format: RatingsFormat): Promise<Map<number, string> | undefined> {
  const file = join(folder, TITLES_FILE_NAME[format]);
  if (!(await exists(file))) return undefined;
  return parseItemTitles(await readBytes(file), file);
}

async function subfoldersWithRatings(folder: string): Promise<string[]> {
  const found: string[] = [];
  for (const sub of ['ml-100k', 'ml-1m', 'ml-latest-small', 'ml-latest']) {
    for (const name of RATINGS_FILE_NAMES) {
      if (await exists(join(folder, sub, name))) found.push(join(folder, sub));
    }
  }
  return found;
}

/**
 * Fetches ml-100k.zip and writes README, u.item and u.data into `folder`, u.data last (it marks
 * a complete download), each through a temporary name. Nothing is written unless u.data's
 * SHA-256 is the known one.
 */
export async function downloadMovieLens100K(folder: string, fetchFn: typeof fetch): Promise<void> {
  let zip: Uint8Array;
  try {
    const response = await fetchFn(ML100K_URL);
    if (!response.ok) throw new Error(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    zip = new Uint8Array(await response.arrayBuffer());
  } catch (err) {
    throw new DataError(`could not download MovieLens 100K from ${ML100K_URL} (${reason(err)}): ${HOW_TO_PASS}.`);
  }
  const name = `ml-100k.zip downloaded from ${ML100K_URL}`;
  const files = new Map<string, Uint8Array>();
  try {
    const entries = zipEntries(zip, name);
    for (const want of ['README', 'u.item', 'u.data']) {
      const entry = entries.find((e) => e.name === `ml-100k/${want}` || e.name === want);
      if (entry) files.set(want, readZipEntry(zip, entry, name));
    }
  } catch (err) {
    if (!(err instanceof DataError)) throw err;
    throw new DataError(`${err.message.replace(/\.$/, '')}; nothing was saved: try again, or ${HOW_TO_PASS}.`);
  }
  const udata = files.get('u.data');
  if (!udata) throw new DataError(`${name} holds no ml-100k/u.data; nothing was saved: ${HOW_TO_PASS}.`);
  const sha = createHash('sha256').update(udata).digest('hex');
  if (sha !== ML100K_UDATA_SHA256) {
    throw new DataError(
      `the u.data in ${name} has SHA-256 ${sha}, not the expected ${ML100K_UDATA_SHA256}, so the download is damaged or changed upstream; nothing was saved: ${HOW_TO_PASS}.`,
    );
  }
  for (const [file, bytes] of files) await writeFileAtomic(join(folder, file), bytes);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    throw new DataError(`cannot read ${path} (${code(err) ?? String(err)}).`);
  }
}

function code(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

/** Node's fetch says only "fetch failed"; the cause says why (ENOTFOUND, ECONNREFUSED…). */
function reason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  const why = cause instanceof Error ? (code(cause) ?? cause.message) : undefined;
  return why ? `${err.message}: ${why}` : err.message;
}
