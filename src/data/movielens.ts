// MovieLens ratings and titles: bytes in, typed arrays out. Browser-safe (no fs, no Node
// modules); movielens-node.ts finds the bytes on disk or downloads them.
//
// Three ratings formats, told apart by their first line (the name only appears in messages, so
// the official splits ua.base, u1.test… and renamed copies read as well):
//   ml-100k  u.data       user \t item \t rating \t timestamp       no header, whole stars 1–5
//   ml-1m    ratings.dat  user::item::rating::timestamp             no header, whole stars 1–5
//   csv      ratings.csv  header userId,movieId,rating,timestamp   half stars 0.5–5
// Ids are kept as they are: an embedding table gets maxId+1 rows and row 0 is never used.
import CRC32 from 'crc-32';
import { gunzipSync } from 'fflate';
import { DataError, lineError } from './errors.ts';
import { isZip, readZipEntry, zipEntries, zipFiles } from './zip.ts';

export type RatingsFormat = 'ml-100k' | 'ml-1m' | 'csv';

export interface Ratings {
  /** One entry per rating, in file order. */
  users: Uint32Array;
  items: Uint32Array;
  ratings: Float32Array;
  /** Unix seconds. */
  timestamps: Float64Array;
  count: number;
  maxUser: number;
  maxItem: number;
  format: RatingsFormat;
}

/** Largest id accepted: tables get one row per id, and every id stays exact in a float32. */
export const MAX_ID = 2 ** 24 - 1;

export const RATINGS_FILE_NAMES = ['u.data', 'ratings.dat', 'ratings.csv'] as const;
/** The titles file that sits beside each ratings format in the official releases. */
export const TITLES_FILE_NAME: Record<RatingsFormat, string> = { 'ml-100k': 'u.item', 'ml-1m': 'movies.dat', csv: 'movies.csv' };

const CSV_RATINGS_HEADER = 'userId,movieId,rating,timestamp';
const CSV_MOVIES_HEADER = 'movieId,title,genres';

const TAB = 9;
const LF = 10;
const CR = 13;
const COMMA = 44;
const COLON = 58;
const DOT = 46;

interface FormatSpec {
  /** Separator bytes between fields. */
  sep: readonly number[];
  sepName: string;
  minRating: number;
  /** Ratings are multiples of 1/step: whole stars (1) or half stars (2). */
  steps: number;
  columns: readonly string[];
}

const FORMATS: Record<RatingsFormat, FormatSpec> = {
  'ml-100k': { sep: [TAB], sepName: 'tab', minRating: 1, steps: 1, columns: ['user id', 'item id', 'rating', 'timestamp'] },
  'ml-1m': { sep: [COLON, COLON], sepName: "'::'", minRating: 1, steps: 1, columns: ['user id', 'movie id', 'rating', 'timestamp'] },
  csv: { sep: [COMMA], sepName: 'comma', minRating: 0.5, steps: 2, columns: ['userId', 'movieId', 'rating', 'timestamp'] },
};

// ---- compressed inputs ------------------------------------------------------------------

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** A gzip file's content, its CRC and length checked (fflate checks neither). */
export function gunzipChecked(bytes: Uint8Array, fileName: string): Uint8Array {
  let out: Uint8Array;
  try {
    if (bytes.length < 18) throw new Error('too short');
    out = gunzipSync(bytes);
  } catch (err) {
    throw new DataError(`${fileName} is not a valid gzip file (${errorText(err)}).`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const crc = view.getUint32(bytes.length - 8, true);
  const size = view.getUint32(bytes.length - 4, true);
  if (size !== out.length % 2 ** 32 || (CRC32.buf(out) >>> 0) !== crc) {
    throw new DataError(`${fileName} is damaged: its content does not match the gzip checksum.`);
  }
  return out;
}

// ---- ratings ----------------------------------------------------------------------------

/**
 * Ratings in file order. Throws a DataError naming the file and the 1-based line of the first
 * problem. A gzip file is read through; a zip is searched for its ratings file.
 */
export function parseRatings(bytes: Uint8Array, fileName: string): Ratings {
  if (isZip(bytes)) return readRatingsFromZip(bytes, fileName);
  if (isGzip(bytes)) bytes = gunzipChecked(bytes, fileName);
  const start = bomLength(bytes);
  const first = headLine(bytes, start);
  if (first.length === 0) {
    if (onlyBlankLinesFrom(bytes, start)) throw lineError(fileName, 1, 'no ratings: the file is empty');
    throw lineError(fileName, 1, 'blank line (blank lines may only come at the end of the file)');
  }
  const format = detectRatingsFormat(first, fileName);
  const bodyStart = format === 'csv' ? Math.min(lineEnd(bytes, start) + 1, bytes.length) : start;
  return parseRatingLines(bytes, bodyStart, format === 'csv' ? 2 : 1, format, fileName);
}

function detectRatingsFormat(first: string, fileName: string): RatingsFormat {
  if (first.includes('\t')) return 'ml-100k';
  if (first.includes('::')) return 'ml-1m';
  if (first.includes(',')) {
    if (first === CSV_RATINGS_HEADER) return 'csv';
    throw lineError(fileName, 1, `expected the header ${CSV_RATINGS_HEADER} of a ratings.csv, found ${show(first)}`);
  }
  throw lineError(
    fileName,
    1,
    `${show(first)} is not a MovieLens ratings line: expected user<tab>item<tab>rating<tab>timestamp (100K u.data), ` +
      `user::item::rating::timestamp (1M ratings.dat), or the header ${CSV_RATINGS_HEADER} (ratings.csv)`,
  );
}

// Set by the scanners below: where the number they read ended.
let scanEnd = 0;

/** Digits only; NaN when there are none. */
function scanInt(b: Uint8Array, p: number, stop: number): number {
  const from = p;
  let v = 0;
  while (p < stop) {
    const d = b[p] - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    p++;
  }
  scanEnd = p;
  return p === from ? NaN : v;
}

/** digits[.digits]; NaN when malformed. */
function scanDecimal(b: Uint8Array, p: number, stop: number): number {
  let v = scanInt(b, p, stop);
  p = scanEnd;
  if (p < stop && b[p] === DOT) {
    const from = ++p;
    let f = 0;
    let scale = 1;
    while (p < stop) {
      const d = b[p] - 48;
      if (d < 0 || d > 9) break;
      f = f * 10 + d;
      scale *= 10;
      p++;
    }
    v = p === from ? NaN : v + f / scale;
    scanEnd = p;
  }
  return v;
}

/**
 * The fast path reads each line in place, with no strings; any line it does not like goes to
 * diagnoseRatingLine, which splits it into strings and says what is wrong.
 */
function parseRatingLines(bytes: Uint8Array, start: number, firstLine: number, format: RatingsFormat, fileName: string): Ratings {
  const spec = FORMATS[format];
  const sep0 = spec.sep[0];
  const sepLen = spec.sep.length;
  const sep1 = spec.sep[sepLen - 1];
  const n = bytes.length;
  let capacity = 1;
  for (let p = bytes.indexOf(LF, start); p >= 0; p = bytes.indexOf(LF, p + 1)) capacity++;
  const users = new Uint32Array(capacity);
  const items = new Uint32Array(capacity);
  const ratings = new Float32Array(capacity);
  const timestamps = new Float64Array(capacity);
  let count = 0;
  let maxUser = 0;
  let maxItem = 0;
  let line = firstLine;
  const isSep = (p: number, stop: number): boolean => p + sepLen <= stop && bytes[p] === sep0 && bytes[p + sepLen - 1] === sep1;

  for (let pos = start; pos < n; line++) {
    const end = lineEnd(bytes, pos);
    const stop = lineStop(bytes, pos, end);
    if (stop === pos) {
      if (onlyBlankLinesFrom(bytes, pos)) break;
      throw lineError(fileName, line, 'blank line (blank lines may only come at the end of the file)');
    }
    const user = scanInt(bytes, pos, stop);
    let p = scanEnd;
    let ok = isSep(p, stop);
    const item = ok ? scanInt(bytes, p + sepLen, stop) : NaN;
    p = scanEnd;
    ok = ok && isSep(p, stop);
    const rating = ok ? scanDecimal(bytes, p + sepLen, stop) : NaN;
    p = scanEnd;
    ok = ok && isSep(p, stop);
    const time = ok ? scanInt(bytes, p + sepLen, stop) : NaN;
    ok =
      ok &&
      scanEnd === stop &&
      user >= 1 &&
      user <= MAX_ID &&
      item >= 1 &&
      item <= MAX_ID &&
      rating >= spec.minRating &&
      rating <= 5 &&
      Number.isInteger(rating * spec.steps) &&
      time <= Number.MAX_SAFE_INTEGER;
    if (!ok) diagnoseRatingLine(latin1(bytes, pos, stop), line, format, fileName);
    users[count] = user;
    items[count] = item;
    ratings[count] = rating;
    timestamps[count] = time;
    count++;
    if (user > maxUser) maxUser = user;
    if (item > maxItem) maxItem = item;
    pos = end + 1;
  }
  if (count === 0) {
    throw lineError(fileName, line, format === 'csv' ? 'no ratings after the header' : 'no ratings: the file is empty');
  }
  const trim = <T extends Uint32Array | Float32Array | Float64Array>(a: T): T => (count === capacity ? a : (a.slice(0, count) as T));
  return {
    users: trim(users),
    items: trim(items),
    ratings: trim(ratings),
    timestamps: trim(timestamps),
    count,
    maxUser,
    maxItem,
    format,
  };
}

/** Says what is wrong with a line the fast path rejected. Always throws. */
function diagnoseRatingLine(text: string, line: number, format: RatingsFormat, fileName: string): never {
  const spec = FORMATS[format];
  const fields = text.split(format === 'ml-1m' ? '::' : format === 'csv' ? ',' : '\t');
  if (fields.length !== 4) {
    throw lineError(
      fileName,
      line,
      `expected 4 ${spec.sepName}-separated fields (${spec.columns.join(', ')}), found ${fields.length} in ${show(text)}`,
    );
  }
  for (let i = 0; i < 4; i++) {
    const f = fields[i];
    const name = spec.columns[i];
    if (!/^-?\d+(\.\d+)?$/.test(f)) throw lineError(fileName, line, `${name} ${show(f)} is not a number`);
    const v = Number(f);
    if (i === 2) {
      if (!(v >= spec.minRating && v <= 5)) {
        throw lineError(fileName, line, `rating ${f} is outside ${spec.minRating}–5`);
      }
      if (!Number.isInteger(v * spec.steps)) {
        throw lineError(fileName, line, `rating ${f} is not a ${spec.steps === 1 ? 'whole' : 'half'} number of stars`);
      }
      continue;
    }
    if (!/^-?\d+$/.test(f)) throw lineError(fileName, line, `${name} ${f} is not a whole number`);
    if (i === 3) {
      if (v < 0) throw lineError(fileName, line, `timestamp ${f} is negative`);
      if (v > Number.MAX_SAFE_INTEGER) throw lineError(fileName, line, `timestamp ${f} is too large`);
      continue;
    }
    if (v < 1) throw lineError(fileName, line, `${name} ${f} is below 1 (ids start at 1)`);
    if (v > MAX_ID) {
      throw lineError(fileName, line, `${name} ${f} is above ${MAX_ID}, the largest id this loader takes (tables get one row per id)`);
    }
  }
  throw lineError(fileName, line, `cannot read ${show(text)}`);
}

// ---- titles -----------------------------------------------------------------------------

/**
 * Item titles by id from u.item (`id|title|…`, latin-1), movies.dat (`id::title::genres`,
 * latin-1) or movies.csv (header movieId,title,genres; UTF-8, quoted titles).
 */
export function parseItemTitles(bytes: Uint8Array, fileName: string): Map<number, string> {
  if (isGzip(bytes)) bytes = gunzipChecked(bytes, fileName);
  const bom = bomLength(bytes);
  const first = headLine(bytes, bom);
  if (first.length === 0) {
    throw lineError(fileName, 1, onlyBlankLinesFrom(bytes, bom) ? 'no titles: the file is empty' : 'blank line (blank lines may only come at the end of the file)');
  }
  if (first === CSV_MOVIES_HEADER) return titlesFromCsv(utf8(bytes.subarray(bom), fileName), fileName);
  const colons = first.indexOf('::');
  const bar = first.indexOf('|');
  if (colons < 0 && bar < 0 && first.includes(',')) {
    throw lineError(fileName, 1, `expected the header ${CSV_MOVIES_HEADER} of a movies.csv, found ${show(first)}`);
  }
  if (colons < 0 && bar < 0) {
    throw lineError(
      fileName,
      1,
      `${show(first)} is not a MovieLens titles line: expected id|title|… (100K u.item), id::title::genres (1M movies.dat) or the header ${CSV_MOVIES_HEADER} (movies.csv)`,
    );
  }
  // movies.dat's genres are '|'-joined after the last '::'; u.item's titles come after a '|'.
  const dat = colons >= 0 && (bar < 0 || colons < bar);
  const titles = new Map<number, string>();
  const firstLine = new Map<number, number>();
  const lines = latin1(bytes, bom, bytes.length).split('\n');
  let line = 0;
  for (let raw of lines) {
    line++;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (raw.length === 0) {
      if (lines.slice(line).every((l) => l === '' || l === '\r')) break;
      throw lineError(fileName, line, 'blank line (blank lines may only come at the end of the file)');
    }
    let idText: string;
    let title: string;
    if (dat) {
      const a = raw.indexOf('::');
      const b = raw.lastIndexOf('::');
      if (a < 0 || a === b) throw lineError(fileName, line, `expected id::title::genres, found ${show(raw)}`);
      idText = raw.slice(0, a);
      title = raw.slice(a + 2, b);
    } else {
      const fields = raw.split('|');
      if (fields.length < 2) throw lineError(fileName, line, `expected id|title|…, found ${show(raw)}`);
      idText = fields[0];
      title = fields[1];
    }
    addTitle(titles, firstLine, idText, title, line, fileName);
  }
  if (titles.size === 0) throw lineError(fileName, 1, 'no titles');
  return titles;
}

function titlesFromCsv(text: string, fileName: string): Map<number, string> {
  const titles = new Map<number, string>();
  const firstLine = new Map<number, number>();
  let header = true;
  for (const { fields, line } of csvRecords(text, fileName)) {
    if (header) {
      header = false;
      continue;
    }
    if (fields.length !== 3) {
      throw lineError(fileName, line, `expected 3 fields (movieId, title, genres), found ${fields.length}`);
    }
    addTitle(titles, firstLine, fields[0], fields[1], line, fileName);
  }
  if (titles.size === 0) throw lineError(fileName, 2, 'no titles after the header');
  return titles;
}

function addTitle(titles: Map<number, string>, firstLine: Map<number, number>, idText: string, title: string, line: number, fileName: string): void {
  if (!/^\d+$/.test(idText)) throw lineError(fileName, line, `id ${show(idText)} is not a whole number`);
  const id = Number(idText);
  if (id < 1) throw lineError(fileName, line, `id ${idText} is below 1 (ids start at 1)`);
  if (id > MAX_ID) throw lineError(fileName, line, `id ${idText} is above ${MAX_ID}, the largest id this loader takes`);
  const seen = firstLine.get(id);
  if (seen !== undefined) throw lineError(fileName, line, `id ${id} appears again (first on line ${seen})`);
  firstLine.set(id, line);
  titles.set(id, title);
}

/**
 * RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks. `line` is
 * the 1-based line a record starts on.
 */
export function* csvRecords(text: string, fileName: string): Generator<{ fields: string[]; line: number }> {
  const n = text.length;
  let line = 1;
  let p = 0;
  while (p < n) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[p] === '"') {
        const open = line;
        p++;
        for (;;) {
          const q = text.indexOf('"', p);
          if (q < 0) throw lineError(fileName, open, 'a quoted field is never closed');
          const part = text.slice(p, q);
          for (let i = part.indexOf('\n'); i >= 0; i = part.indexOf('\n', i + 1)) line++;
          field += part;
          p = q + 1;
          if (text[p] === '"') {
            field += '"';
            p++;
          } else break;
        }
        if (p < n && text[p] !== ',' && text[p] !== '\n' && !(text[p] === '\r' && text[p + 1] === '\n')) {
          throw lineError(fileName, line, `unexpected ${show(text[p])} after a closing quote`);
        }
      } else {
        let q = p;
        while (q < n && text[q] !== ',' && text[q] !== '\n') q++;
        field = text.slice(p, q);
        if (field.endsWith('\r') && (q === n || text[q] === '\n')) field = field.slice(0, -1);
        if (field.includes('"')) throw lineError(fileName, line, `a quote inside the unquoted field ${show(field)}`);
        p = q;
      }
      fields.push(field);
      if (text[p] === ',') {
        p++;
        continue;
      }
      if (text[p] === '\r') p++;
      break;
    }
    p++; // past '\n' (or the end)
    line++;
    if (fields.length === 1 && fields[0] === '') {
      if (text.slice(p).trim() === '') return;
      throw lineError(fileName, start, 'blank line (blank lines may only come at the end of the file)');
    }
    yield { fields, line: start };
  }
}

// ---- MovieLens zips ---------------------------------------------------------------------

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export interface MovieLensZip {
  ratings: Ratings;
  /** Path of the ratings file inside the zip. */
  ratingsPath: string;
  /** From the titles file beside it, when the zip has one. */
  titles?: Map<number, string>;
}

/** A MovieLens zip's ratings (u.data, ratings.dat or ratings.csv) and the titles beside them. */
export function readMovieLensZip(bytes: Uint8Array, zipName: string): MovieLensZip {
  const entries = zipFiles(zipEntries(bytes, zipName));
  const found = entries.filter((e) => (RATINGS_FILE_NAMES as readonly string[]).includes(baseName(e.name)));
  if (found.length === 0) {
    throw new DataError(`${zipName} holds no MovieLens ratings file (${RATINGS_FILE_NAMES.join(', ')}).`);
  }
  if (found.length > 1) {
    throw new DataError(`${zipName} holds several ratings files (${found.map((e) => e.name).join(', ')}): unzip it and pass the one you mean.`);
  }
  const entry = found[0];
  const ratingsPath = entry.name;
  const ratings = parseRatings(readZipEntry(bytes, entry, zipName), `${zipName}: ${ratingsPath}`);
  const titlesPath = ratingsPath.slice(0, ratingsPath.length - baseName(ratingsPath).length) + TITLES_FILE_NAME[ratings.format];
  const titlesEntry = entries.find((e) => e.name === titlesPath);
  if (!titlesEntry) return { ratings, ratingsPath };
  const titles = parseItemTitles(readZipEntry(bytes, titlesEntry, zipName), `${zipName}: ${titlesPath}`);
  return { ratings, ratingsPath, titles };
}

/** The ratings inside a MovieLens zip (ml-100k.zip, ml-1m.zip, ml-latest-small.zip, …). */
export function readRatingsFromZip(bytes: Uint8Array, zipName: string): Ratings {
  return readMovieLensZip(bytes, zipName).ratings;
}

// ---- bytes and text ---------------------------------------------------------------------

function lineEnd(bytes: Uint8Array, from: number): number {
  const i = bytes.indexOf(LF, from);
  return i < 0 ? bytes.length : i;
}

/** The end of a line's content: before its '\r' when it ends in CRLF. */
function lineStop(bytes: Uint8Array, start: number, end: number): number {
  return end > start && bytes[end - 1] === CR ? end - 1 : end;
}

/** The first line, enough of it to tell the format (a binary file may have no line breaks). */
function headLine(bytes: Uint8Array, start: number): string {
  return latin1(bytes, start, Math.min(lineStop(bytes, start, lineEnd(bytes, start)), start + 4096));
}

function onlyBlankLinesFrom(bytes: Uint8Array, p: number): boolean {
  for (; p < bytes.length; p++) if (bytes[p] !== LF && bytes[p] !== CR) return false;
  return true;
}

function bomLength(bytes: Uint8Array): number {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
}

/** ISO-8859-1: each byte is the code point (TextDecoder's 'latin1' is windows-1252). */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  const parts: string[] = [];
  for (let p = start; p < end; p += 8192) {
    parts.push(String.fromCharCode.apply(null, bytes.subarray(p, Math.min(end, p + 8192)) as unknown as number[]));
  }
  return parts.join('');
}

function utf8(bytes: Uint8Array, fileName: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(`${fileName} is not valid UTF-8 text.`);
  }
}

/** A field quoted for a message, with tabs and control bytes visible, cut if long. */
function show(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
