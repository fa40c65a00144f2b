// MovieLens from disk: the real files in ../shared/data (read in place, never copied into the
// repo), folders, zips, the cache, and the download path with an injected fetch (no internet here).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../src/data/errors.ts';
import { parseItemTitles, parseRatings } from '../src/data/movielens.ts';
import { ML100K_UDATA_SHA256, ML100K_URL, movieLensCacheFolder, resolveMovieLens } from '../src/data/movielens-node.ts';

// shared/ sits beside the repository, here and in CI.
const DATA = join(import.meta.dirname, '..', '..', 'shared', 'data');
const ML100K = join(DATA, 'ml-100k');
const ML100K_ZIP = join(ML100K, 'ml-100k-all-files.zip');
const ML1M = join(DATA, 'ml-1m');

let tmp = '';
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'shadertrain-movielens-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    return err as Error;
  }
  throw new Error('expected a DataError');
}

function starCounts(ratings: Float32Array): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of ratings) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

function bestOf(n: number, f: () => void): number {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    f();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/** A fetch that serves these bytes and records each call; never the network. */
function serving(body: Uint8Array, status = 200): typeof fetch & { calls: string[] } {
  const calls: string[] = [];
  const f = async (input: string | URL | Request): Promise<Response> => {
    calls.push(String(input));
    return new Response(new Uint8Array(body), { status });
  };
  return Object.assign(f as typeof fetch, { calls });
}

function listFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : [];
}

describe('MovieLens files in shared/data', () => {
  it('reads u.data: the counts SOURCES.md gives', () => {
    const bytes = new Uint8Array(readFileSync(join(ML100K, 'u.data')));
    const r = parseRatings(bytes, 'u.data');
    expect(r.format).toBe('ml-100k');
    expect([r.count, r.maxUser, r.maxItem]).toEqual([100_000, 943, 1682]);
    expect(starCounts(r.ratings)).toEqual({ 1: 6110, 2: 11370, 3: 27145, 4: 34174, 5: 21201 });
    expect(new Set(r.users).size).toBe(943);
    const ms = bestOf(3, () => parseRatings(bytes, 'u.data'));
    console.log(`parse u.data (100,000 ratings): ${ms.toFixed(1)} ms`);
  });

  it('reads u.item and movies.dat as latin-1', () => {
    const item = parseItemTitles(new Uint8Array(readFileSync(join(ML100K, 'u.item'))), 'u.item');
    expect(item.size).toBe(1682);
    expect(item.get(1)).toBe('Toy Story (1995)');
    expect(item.get(543)).toBe('Misérables, Les (1995)');
    const movies = parseItemTitles(new Uint8Array(readFileSync(join(ML1M, 'movies.dat'))), 'movies.dat');
    expect(movies.size).toBe(3883);
    expect(movies.get(73)).toBe('Misérables, Les (1995)');
  });

  it('reads the partial 1M ratings.dat, gunzipped to a temporary file and straight from the .gz', async () => {
    const gz = new Uint8Array(readFileSync(join(ML1M, 'ratings_users_1-2999.partial.dat.gz')));
    const dat = gunzipSync(gz);
    const folder = join(tmp, 'ml-1m');
    const file = join(folder, 'ratings.dat');
    mkdirSync(folder, { recursive: true });
    writeFileSync(file, dat);
    expect(createHash('sha256').update(dat).digest('hex')).toBe('1273c4edfe3c0ff9e3a0a0d55819faeb947da0ad7df3927333b51ebefbeedc3d');

    const got = await resolveMovieLens({ data: folder });
    expect(got.source).toBe(file);
    expect(got.titles).toBeUndefined(); // no movies.dat beside it
    const r = got.ratings;
    expect(r.format).toBe('ml-1m');
    expect([r.count, r.maxUser]).toEqual([487_650, 2999]);
    expect(new Set(r.items).size).toBe(3615);
    expect(starCounts(r.ratings)).toEqual({ 1: 27472, 2: 53838, 3: 127216, 4: 170579, 5: 108545 });
    const ms = bestOf(3, () => parseRatings(dat, 'ratings.dat'));
    console.log(`parse partial 1M ratings.dat (487,650 ratings): ${ms.toFixed(1)} ms`);

    // The .gz as it is, in its own folder: movies.dat beside it gives titles.
    const fromGz = await resolveMovieLens({ data: join(ML1M, 'ratings_users_1-2999.partial.dat.gz') });
    expect(fromGz.ratings.count).toBe(487_650);
    expect(Array.from(fromGz.ratings.timestamps.subarray(0, 1000))).toEqual(Array.from(r.timestamps.subarray(0, 1000)));
    expect(fromGz.titles?.size).toBe(3883);
  });

  it('reads a folder with u.data and u.item, a lone split file, and the real zip', async () => {
    const folder = await resolveMovieLens({ data: ML100K });
    expect(folder.source).toBe(join(ML100K, 'u.data'));
    expect(folder.ratings.count).toBe(100_000);
    expect(folder.titles?.size).toBe(1682);
    // The fingerprint checkpoints record is the ratings file's SHA-256 (sha256sum u.data).
    expect(folder.fingerprint).toEqual({ sha256: ML100K_UDATA_SHA256, of: ['u.data'] });

    const split = await resolveMovieLens({ data: join(ML100K, 'ua.test') });
    expect(split.ratings.count).toBe(9430);
    expect(split.titles?.get(1)).toBe('Toy Story (1995)');

    const zip = await resolveMovieLens({ data: ML100K_ZIP });
    expect(zip.source).toBe(`${ML100K_ZIP}: ml-100k/u.data`);
    expect(Array.from(zip.ratings.items)).toEqual(Array.from(folder.ratings.items));
    expect(Array.from(zip.ratings.timestamps)).toEqual(Array.from(folder.ratings.timestamps));
    expect(zip.titles?.get(543)).toBe('Misérables, Les (1995)');
  });
});

describe('resolveMovieLens with --data', () => {
  it('says when the path is missing', async () => {
    const missing = join(tmp, 'no-such-folder');
    const err = await rejection(resolveMovieLens({ data: missing }));
    expect(err.message).toBe(`${missing} does not exist: pass a folder with u.data, ratings.dat or ratings.csv, one of those files, or a MovieLens zip.`);
  });

  it('names the file and line of a bad rating, and uses a user file as given (no checksum)', async () => {
    const folder = join(tmp, 'mine');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'u.data'), '1\t2\t3\t4\n2\t3\t4\t5\n');
    const ok = await resolveMovieLens({ data: folder });
    expect(ok.ratings.count).toBe(2);
    expect(ok.titles).toBeUndefined();
    writeFileSync(join(folder, 'u.data'), '1\t2\t3\t4\n2\t3\tfour\t5\n');
    const err = await rejection(resolveMovieLens({ data: folder }));
    expect(err.message).toBe(`${join(folder, 'u.data')} line 2: rating "four" is not a number`);
  });

  it('points into a parent folder and refuses two ratings files at once', async () => {
    const parent = join(tmp, 'parent');
    const inner = join(parent, 'ml-100k');
    mkdirSync(inner, { recursive: true });
    writeFileSync(join(inner, 'u.data'), '1\t2\t3\t4\n');
    const err = await rejection(resolveMovieLens({ data: parent }));
    expect(err.message).toMatch(/holds no MovieLens ratings file \(u\.data, ratings\.dat, ratings\.csv\); it has .*ml-100k: pass that\.$/);
    writeFileSync(join(inner, 'ratings.csv'), 'userId,movieId,rating,timestamp\n1,2,3,4\n');
    expect((await rejection(resolveMovieLens({ data: inner }))).message).toMatch(/holds several ratings files \(u\.data, ratings\.csv\)/);
  });
});

describe('resolveMovieLens without --data: the cache and the download', () => {
  const zipBytes = new Uint8Array(readFileSync(ML100K_ZIP));
  const offline = /could not download MovieLens 100K from https:\/\/files\.grouplens\.org\/datasets\/movielens\/ml-100k\.zip \(.*\): pass --data PATH, a folder with u\.data .* or the file itself\.$/;

  it('downloads once, checks u.data, logs where it went, then reads the cache', async () => {
    const cacheDir = join(tmp, 'cache-ok');
    const fetchZip = serving(zipBytes);
    const lines: string[] = [];
    const got = await resolveMovieLens({ cacheDir, fetch: fetchZip, log: (l) => lines.push(l) });
    const folder = movieLensCacheFolder(cacheDir);
    expect(folder).toBe(join(cacheDir, 'movielens', 'ml-100k'));
    expect(fetchZip.calls).toEqual([ML100K_URL]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^downloaded MovieLens 100K to ${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(listFiles(folder)).toEqual(['README', 'u.data', 'u.item']);
    expect(createHash('sha256').update(readFileSync(join(folder, 'u.data'))).digest('hex')).toBe(ML100K_UDATA_SHA256);
    expect(got.source).toBe(join(folder, 'u.data'));
    expect(got.ratings.count).toBe(100_000);
    expect(got.titles?.size).toBe(1682);

    // Second time: from the cache, no fetch, no log.
    const never = (async () => {
      throw new Error('fetch must not be called');
    }) as typeof fetch;
    const again = await resolveMovieLens({ cacheDir, fetch: never, log: (l) => lines.push(l) });
    expect(again.ratings.count).toBe(100_000);
    expect(lines).toHaveLength(1);
  });

  it('offline: one sentence that says how to pass --data, and nothing written', async () => {
    const cacheDir = join(tmp, 'cache-offline');
    const failing = (async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND files.grouplens.org'), { code: 'ENOTFOUND' }) });
    }) as typeof fetch;
    const err = await rejection(resolveMovieLens({ cacheDir, fetch: failing }));
    expect(err.message).toMatch(offline);
    expect(err.message).toContain('(fetch failed: ENOTFOUND)');
    expect(listFiles(cacheDir)).toEqual([]);

    const notFound = await rejection(resolveMovieLens({ cacheDir, fetch: serving(new Uint8Array(0), 404) }));
    expect(notFound.message).toMatch(offline);
    expect(notFound.message).toContain('(HTTP 404)');
  });

  it('a damaged zip is an error that says so, and leaves nothing behind', async () => {
    const cacheDir = join(tmp, 'cache-damaged');
    // Flip bytes inside the compressed u.data (its local header name is followed by its data).
    const damaged = zipBytes.slice();
    const at = Buffer.from(damaged).indexOf('ml-100k/u.data') + 'ml-100k/u.data'.length + 200_000;
    for (let i = 0; i < 16; i++) damaged[at + i] ^= 0x5a;
    const err = await rejection(resolveMovieLens({ cacheDir, fetch: serving(damaged) }));
    expect(err.message).toMatch(/^ml-100k\.zip downloaded from https:\/\/files\.grouplens\.org\/\S+: ml-100k\/u\.data is damaged/);
    expect(err.message).toMatch(/nothing was saved: try again, or pass --data PATH/);
    expect(listFiles(cacheDir)).toEqual([]);

    const cut = await rejection(resolveMovieLens({ cacheDir, fetch: serving(zipBytes.subarray(0, 1000)) }));
    expect(cut.message).toMatch(/is not a valid zip archive .*nothing was saved/);
    expect(listFiles(cacheDir)).toEqual([]);
  });

  it('a well-formed zip whose u.data has another SHA-256 is refused, and the user\'s files stay', async () => {
    const cacheDir = join(tmp, 'cache-wrong');
    const folder = movieLensCacheFolder(cacheDir);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'u.item'), 'mine');
    const other = zipSync({ 'ml-100k/u.data': new TextEncoder().encode('1\t2\t3\t4\n'), 'ml-100k/u.item': new TextEncoder().encode('2|x|\n') });
    const err = await rejection(resolveMovieLens({ cacheDir, fetch: serving(other) }));
    expect(err.message).toMatch(/u\.data in ml-100k\.zip downloaded from .* has SHA-256 [0-9a-f]{64}, not the expected 06416e59/);
    expect(err.message).toMatch(/nothing was saved: pass --data PATH/);
    expect(listFiles(folder)).toEqual(['u.item']);
    expect(readFileSync(join(folder, 'u.item'), 'utf8')).toBe('mine');

    const empty = zipSync({ 'ml-100k/README': new TextEncoder().encode('x') });
    expect((await rejection(resolveMovieLens({ cacheDir, fetch: serving(empty) }))).message).toMatch(/holds no ml-100k\/u\.data; nothing was saved/);
  });
});
