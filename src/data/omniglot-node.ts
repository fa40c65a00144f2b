// Omniglot in Node: finds the user's files (or the embedded set), preprocesses them with
// omniglot.ts, and caches the result so the next start skips the work.
//
// `data` may be:
//  - nothing: the embedded 28×28 nearest-neighbour set (assets/omniglot/omniglot28.bin);
//  - a folder, read in this order of preference: images_background.npz / images_evaluation.npz;
//    else images_background.zip / images_evaluation.zip; else any other images_*.zip (the
//    small1/small2 subsets); else the PNG tree below it (ALPHABET/characterNN/*.png at any
//    depth, e.g. images_background/ and images_evaluation/ side by side);
//  - one .zip or .npz file.
// The cache lives in $SHADERTRAIN_CACHE, else $XDG_CACHE_HOME/shadertrain, else
// ~/.cache/shadertrain (src/cache-node.ts, shared with the autotuner), one file per source and
// filter, keyed by the absolute paths, sizes and modification times of every file read and the filter.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from '../cache-node.ts';
import { DataError } from './errors.ts';
import { writeFileAtomic } from './files-node.ts';
import {
  assembleOmniglot,
  decodePackedOmniglot,
  encodePackedOmniglot,
  omniglotPngPlace,
  preprocessDrawingFiles,
  preprocessOmniglotArchive,
  type OmniglotCharacter,
} from './omniglot.ts';
import { OMNIGLOT_SIDE, type OmniglotSet, type ResizeFilter } from './omniglot-set.ts';

/** The embedded set, relative to the package root. */
export const EMBEDDED_OMNIGLOT = 'assets/omniglot/omniglot28.bin';

/** Bump when preprocessing changes, so old caches are not read. */
const CACHE_VERSION = 1;

const FILTERS: readonly ResizeFilter[] = ['nearest', 'area', 'lanczos'];

export interface LoadOmniglotOptions {
  /** A folder, zip or npz (see the top of this file); omitted: the embedded set. */
  data?: string;
  /** How 105×105 becomes 28×28; default 'nearest' (the course's set). */
  filter?: ResizeFilter;
  /** Read and write the preprocessed cache (default true). */
  cache?: boolean;
  /** Told what is happening when the work takes a while (the first preprocessing). */
  log?: (line: string) => void;
}

let rootMemo: string | undefined;

/**
 * The shadertrain package root: the nearest folder above this module with shadertrain's
 * package.json. Works from src/data under vitest/tsx and from the esbuild bundle in dist/.
 */
export function packageRoot(): string {
  if (rootMemo) return rootMemo;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'shadertrain') return (rootMemo = dir);
      } catch {
        // Not ours or not JSON: keep walking up.
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find shadertrain's package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export function embeddedOmniglotPath(): string {
  return join(packageRoot(), EMBEDDED_OMNIGLOT);
}

/** The embedded 28×28 nearest-neighbour set (all 1623 characters), shipped in the repository. */
export async function loadEmbeddedOmniglot(): Promise<OmniglotSet> {
  const path = embeddedOmniglotPath();
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch {
    throw new DataError(`The embedded Omniglot set ${path} is missing; rebuild it with \`npx tsx scripts/pack-omniglot.ts\` or pass --data.`);
  }
  return decodePackedOmniglot(bytes, path);
}

/** The folder for preprocessed caches (the root every cache shares). */
export function omniglotCacheDir(): string {
  return cacheDir();
}

interface FileStamp {
  path: string;
  size: number;
  mtimeMs: number;
}

type Source = { kind: 'archive'; file: FileStamp } | { kind: 'tree'; root: string; files: FileStamp[] };

const NPZ = ['images_background.npz', 'images_evaluation.npz'];
const ZIPS = ['images_background.zip', 'images_evaluation.zip'];

async function stamp(path: string): Promise<FileStamp> {
  const s = await stat(path);
  return { path, size: s.size, mtimeMs: s.mtimeMs };
}

/**
 * Every PNG under `root` that sits at …/Alphabet/characterNN/*.png, with its size and mtime.
 * Synchronous on purpose: 1,700 folders and 32,460 files cost ~0.3 s this way against
 * seconds through promises, and this runs on every start, cache hit or not.
 */
function walkTree(root: string): FileStamp[] {
  const found: FileStamp[] = [];
  const visit = (dir: string, depth: number): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.name === '__MACOSX') continue;
      const p = join(dir, e.name);
      // Follow symbolic links (a tree assembled from links to the real folders).
      const s = e.isSymbolicLink() ? statSync(p, { throwIfNoEntry: false }) : e;
      if (s?.isDirectory()) {
        if (depth < 8) visit(p, depth + 1);
      } else if (s?.isFile() && omniglotPngPlace(p) !== undefined) {
        const st = statSync(p);
        found.push({ path: p, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  };
  visit(root, 0);
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function findSources(data: string): Promise<Source[]> {
  let info;
  try {
    info = await stat(data);
  } catch {
    throw new DataError(`The Omniglot data path ${data} does not exist.`);
  }
  if (info.isFile()) return [{ kind: 'archive', file: await stamp(data) }];
  if (!info.isDirectory()) throw new DataError(`The Omniglot data path ${data} is neither a folder nor a file.`);

  const names = new Set(await readdir(data));
  const pick = async (list: string[]): Promise<Source[]> =>
    Promise.all(list.filter((n) => names.has(n)).map(async (n) => ({ kind: 'archive' as const, file: await stamp(join(data, n)) })));
  for (const list of [NPZ, ZIPS, [...names].filter((n) => /^images_.*\.zip$/i.test(n)).sort()]) {
    const found = await pick(list);
    if (found.length) return found;
  }
  const files = walkTree(data);
  if (files.length) return [{ kind: 'tree', root: data, files }];
  throw new DataError(
    `${data} holds no Omniglot images: expected ALPHABET/characterNN/*.png folders (as in images_background/ and images_evaluation/), ` +
      'images_background.zip / images_evaluation.zip, or images_background.npz / images_evaluation.npz.',
  );
}

function cacheKey(sources: Source[], filter: ResizeFilter): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: CACHE_VERSION, filter, side: OMNIGLOT_SIDE }));
  for (const s of sources) {
    const files = s.kind === 'archive' ? [s.file] : s.files;
    h.update(`\n${s.kind}`);
    for (const f of files) h.update(`\n${f.path}\t${f.size}\t${f.mtimeMs}`);
  }
  return h.digest('hex').slice(0, 32);
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    throw new DataError(`Cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
  }
}

async function preprocess(sources: Source[], filter: ResizeFilter): Promise<OmniglotCharacter[]> {
  const chars: OmniglotCharacter[] = [];
  for (const s of sources) {
    if (s.kind === 'archive') {
      const found = preprocessOmniglotArchive(await readBytes(s.file.path), s.file.path, { filter });
      if (!found.length) throw new DataError(`${s.file.path} holds no Omniglot drawings (ALPHABET/characterNN/*.png entries, or images.npy).`);
      chars.push(...found);
    } else {
      // Read in batches: 32,460 small files at once would exhaust file descriptors.
      const files: { path: string; bytes: Uint8Array }[] = [];
      for (let i = 0; i < s.files.length; i += 256) {
        const batch = s.files.slice(i, i + 256);
        const read = await Promise.all(batch.map(async (f) => ({ path: f.path, bytes: await readBytes(f.path) })));
        files.push(...read);
      }
      chars.push(...preprocessDrawingFiles(files, '', { filter }));
    }
  }
  return chars;
}

/**
 * The preprocessed Omniglot set: the embedded one without `data`, else the user's files,
 * from the cache when nothing changed since the last time.
 */
export async function loadOmniglot(opts: LoadOmniglotOptions = {}): Promise<OmniglotSet> {
  const filter = opts.filter ?? 'nearest';
  if (!FILTERS.includes(filter)) throw new DataError(`Unknown resize filter "${String(filter)}"; use nearest, area or lanczos.`);
  if (opts.data === undefined || opts.data === '') {
    if (filter !== 'nearest') {
      throw new DataError(
        `The embedded Omniglot set is the 28×28 nearest-neighbour one; the ${filter} filter needs the 105×105 source images: pass --data with the ` +
          'images_background/images_evaluation folders or zips, or the images_background.npz/images_evaluation.npz files.',
      );
    }
    return loadEmbeddedOmniglot();
  }
  const data = resolve(opts.data);
  const sources = await findSources(data);
  const useCache = opts.cache ?? true;
  const cachePath = join(omniglotCacheDir(), `omniglot-${cacheKey(sources, filter)}.bin`);
  if (useCache) {
    try {
      const set = decodePackedOmniglot(new Uint8Array(await readFile(cachePath)), cachePath);
      if (set.filter === filter) return set;
    } catch {
      // No cache yet, or a damaged one: preprocess again and overwrite it.
    }
  }
  opts.log?.(`Preprocessing Omniglot from ${data} (${filter}); the result is cached for the next run.`);
  const set = assembleOmniglot(await preprocess(sources, filter), filter);
  if (useCache) {
    try {
      await writeFileAtomic(cachePath, encodePackedOmniglot(set, { compress: false }));
    } catch (err) {
      opts.log?.(`Could not write the Omniglot cache ${cachePath}: ${(err as Error).message}`);
    }
  }
  return set;
}
