// Omniglot from the file system: the embedded set, the shared npz archives, the official small
// zips (as zips and extracted to a folder), the cache, and bad paths and files.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { unzipSync, zipSync } from 'fflate';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DataError } from '../src/data/errors.ts';
import { inkFraction } from '../src/data/omniglot.ts';
import { EMBEDDED_OMNIGLOT, embeddedOmniglotPath, loadEmbeddedOmniglot, loadOmniglot, omniglotCacheDir, packageRoot } from '../src/data/omniglot-node.ts';
import type { OmniglotSet } from '../src/data/omniglot-set.ts';

const root = packageRoot();
const SHARED = process.env.OMNIGLOT_SHARED ?? join(root, '..', 'shared', 'data', 'omniglot');
const scratch = mkdtempSync(join(tmpdir(), 'omniglot-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let cacheN = 0;
beforeEach(() => {
  // A fresh cache folder per test: hits and misses are each test's own.
  process.env.SHADERTRAIN_CACHE = join(scratch, `cache-${++cacheN}`);
});

let embeddedMemo: OmniglotSet | undefined;
async function embedded(): Promise<OmniglotSet> {
  embeddedMemo ??= await loadEmbeddedOmniglot();
  return embeddedMemo;
}

/** Every character of `part` equals the embedded set's character of the same name. */
function expectSameAsEmbedded(part: OmniglotSet, full: OmniglotSet): void {
  const per = full.drawings * full.side * full.side;
  part.names.forEach((name, i) => {
    const j = full.names.indexOf(name);
    expect(j, name).toBeGreaterThanOrEqual(0);
    const a = part.pixels.subarray(i * per, (i + 1) * per);
    const b = full.pixels.subarray(j * per, (j + 1) * per);
    expect(a.findIndex((v, p) => v !== b[p]), name).toBe(-1);
  });
}

/** The entries of an official zip, optionally only those of some alphabets (to keep tests fast). */
function zipEntries(zipPath: string, alphabets?: string[]): Record<string, Uint8Array> {
  return unzipSync(new Uint8Array(readFileSync(zipPath)), { filter: (f) => !alphabets || alphabets.some((a) => f.name.includes(`/${a}/`)) });
}

function extract(zipPath: string, to: string, alphabets?: string[]): void {
  const files = zipEntries(zipPath, alphabets);
  for (const [name, bytes] of Object.entries(files)) {
    if (name.endsWith('/')) continue;
    mkdirSync(dirname(join(to, name)), { recursive: true });
    writeFileSync(join(to, name), bytes);
  }
}

describe('embedded set', () => {
  it('holds all 1623 characters in the order of characters.tsv, binary, ~8% ink, ', async () => {
    const t0 = performance.now();
    const set = await loadOmniglot();
    const ms = performance.now() - t0;
    console.log(`embedded set: ${statSync(embeddedOmniglotPath()).size} bytes, loaded in ${ms.toFixed(0)} ms, ink ${(100 * inkFraction(set)).toFixed(2)}%`);
    expect([set.characters, set.drawings, set.side, set.filter, set.binary]).toEqual([1623, 20, 28, 'nearest', true]);
    expect(set.pixels.length).toBe(1623 * 20 * 784);
    const tsv = readFileSync(join(SHARED, 'characters.tsv'), 'utf8').trim().split('\n').slice(1);
    expect(set.names).toEqual(tsv.map((line) => line.split('\t').slice(3).join('/')));
    const ink = inkFraction(set);
    expect(ink).toBeGreaterThan(0.07);
    expect(ink).toBeLessThan(0.1);
    expect(statSync(embeddedOmniglotPath()).size).toBeLessThan(1.5e6);
    expect(existsSync(join(dirname(embeddedOmniglotPath()), 'LICENSE'))).toBe(true);
  });

  it('is found from a bundle in dist/ as well as from src/', async () => {
    const out = join(root, 'dist', `omniglot-probe-${process.pid}.mjs`);
    await build({
      stdin: {
        contents: "import { loadEmbeddedOmniglot } from './src/data/omniglot-node.ts';\nconst s = await loadEmbeddedOmniglot();\nconsole.log(s.characters + ' ' + s.names[708]);",
        resolveDir: root,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: out,
      external: ['webgpu'], // as in scripts/build.mjs: the native addon stays in node_modules
      logLevel: 'error',
    });
    try {
      expect(execFileSync(process.execPath, [out], { cwd: tmpdir(), encoding: 'utf8' }).trim()).toBe('1623 Alphabet_of_the_Magi/character01');
    } finally {
      rmSync(out, { force: true });
    }
  });

  it('cannot give antialiased filters without a source, and says so', async () => {
    await expect(loadOmniglot({ filter: 'area' })).rejects.toThrow(/^The embedded Omniglot set is the 28×28 nearest-neighbour one; the area filter needs the 105×105 source images: pass --data/);
    await expect(loadOmniglot({ filter: 'bicubic' as 'area' })).rejects.toThrow(/^Unknown resize filter "bicubic"; use nearest, area or lanczos\.$/);
  });
});

describe('sources', () => {
  it('decoding the npz archives gives exactly the embedded set (the one full-set test)', async () => {
    const t0 = performance.now();
    const set = await loadOmniglot({ data: SHARED });
    const t1 = performance.now();
    const again = await loadOmniglot({ data: SHARED });
    const t2 = performance.now();
    console.log(`npz: preprocessed in ${(t1 - t0).toFixed(0)} ms, from the cache in ${(t2 - t1).toFixed(0)} ms`);
    const full = await embedded();
    expect(set.names).toEqual(full.names);
    expect(set.pixels.findIndex((v, i) => v !== full.pixels[i])).toBe(-1);
    expect(again.pixels.findIndex((v, i) => v !== full.pixels[i])).toBe(-1);
    // The cache is one file, written whole (no temporary left behind).
    const files = readdirSync(omniglotCacheDir());
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^omniglot-[0-9a-f]{32}\.bin$/);
  });

  it('reads an official zip and the same drawings extracted to a folder, identical to the npz', async () => {
    const full = await embedded();
    const zipSet = await loadOmniglot({ data: join(SHARED, 'images_background_small1.zip') });
    expect(zipSet.characters).toBe(136);
    expect(new Set(zipSet.names.map((n) => n.split('/')[0]))).toEqual(new Set(['Balinese', 'Early_Aramaic', 'Greek', 'Korean', 'Latin']));
    expectSameAsEmbedded(zipSet, full);

    const dir = join(scratch, 'tree');
    extract(join(SHARED, 'images_background_small2.zip'), dir);
    const treeSet = await loadOmniglot({ data: dir });
    expect(treeSet.characters).toBe(156);
    expect([...treeSet.names].sort((a, b) => full.names.indexOf(a) - full.names.indexOf(b))).toEqual(treeSet.names);
    expectSameAsEmbedded(treeSet, full);
  });

  it('reads a folder of images_*.zip files together, and caches per filter', async () => {
    // Parts of the two small zips: Greek (24 characters) is in both, with the same drawings.
    const dir = join(scratch, 'zips');
    mkdirSync(dir);
    writeFileSync(join(dir, 'images_background_small1.zip'), zipSync(zipEntries(join(SHARED, 'images_background_small1.zip'), ['Greek', 'Latin']), { level: 0 }));
    writeFileSync(join(dir, 'images_background_small2.zip'), zipSync(zipEntries(join(SHARED, 'images_background_small2.zip'), ['Greek', 'Tagalog']), { level: 0 }));
    writeFileSync(join(dir, 'notes.zip'), zipSync({ 'a.txt': new Uint8Array(1) })); // not images_*: not read
    const lines: string[] = [];
    const log = (l: string): void => void lines.push(l);
    const both = await loadOmniglot({ data: dir, log });
    expect(both.characters).toBe(24 + 26 + 17);
    expectSameAsEmbedded(both, await embedded());
    expect(lines).toHaveLength(1);
    const area = await loadOmniglot({ data: dir, filter: 'area', log });
    expect([area.filter, area.binary, area.characters]).toEqual(['area', false, 67]);
    expect(lines).toHaveLength(2);
    // Both come from the cache now; touching a zip makes its set stale.
    const t0 = performance.now();
    const cached = await loadOmniglot({ data: dir, filter: 'area', log });
    console.log(`67 characters (area) from the cache in ${(performance.now() - t0).toFixed(0)} ms`);
    expect(lines).toHaveLength(2);
    expect(cached.pixels.findIndex((v, i) => v !== area.pixels[i])).toBe(-1);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, 'images_background_small2.zip'), later, later);
    await loadOmniglot({ data: dir, log });
    expect(lines).toHaveLength(3);
    // A damaged cache file is ignored and rewritten.
    const cacheFiles = readdirSync(omniglotCacheDir());
    expect(cacheFiles.every((f) => /^omniglot-[0-9a-f]{32}\.bin$/.test(f))).toBe(true);
    for (const f of cacheFiles) truncateSync(join(omniglotCacheDir(), f), 100);
    const rebuilt = await loadOmniglot({ data: dir, filter: 'area', log });
    expect(lines).toHaveLength(4);
    expect(rebuilt.pixels.findIndex((v, i) => v !== area.pixels[i])).toBe(-1);
  });
});

describe('bad input: one sentence naming it', () => {
  it('a path that does not exist, and a folder without images', async () => {
    const missing = join(scratch, 'nope');
    await expect(loadOmniglot({ data: missing })).rejects.toThrow(new DataError(`The Omniglot data path ${missing} does not exist.`));
    const empty = join(scratch, 'empty');
    mkdirSync(join(empty, 'Latin', 'notes'), { recursive: true });
    writeFileSync(join(empty, 'Latin', 'notes', 'a.png'), 'x');
    await expect(loadOmniglot({ data: empty })).rejects.toThrow(new RegExp(`^${empty} holds no Omniglot images: expected ALPHABET/characterNN/\\*\\.png folders`));
    const notOmniglot = join(scratch, 'other.zip');
    writeFileSync(notOmniglot, zipSync({ 'a/b.txt': new Uint8Array(3) }));
    await expect(loadOmniglot({ data: notOmniglot })).rejects.toThrow(`${notOmniglot} holds no Omniglot drawings`);
  });

  it('a corrupt PNG in a folder and in a zip', async () => {
    const dir = join(scratch, 'corrupt-tree');
    extract(join(SHARED, 'images_background_small1.zip'), dir, ['Greek']);
    const png = join(dir, 'images_background_small1', 'Greek', 'character03', readdirSync(join(dir, 'images_background_small1', 'Greek', 'character03'))[4]);
    const bytes = readFileSync(png);
    writeFileSync(png, bytes.subarray(0, bytes.length - 30));
    await expect(loadOmniglot({ data: dir })).rejects.toThrow(new RegExp(`^${png.replace(/[.()]/g, '\\$&')} is not a valid PNG \\(`));

    const files = zipEntries(join(SHARED, 'images_background_small1.zip'), ['Latin']);
    const entry = 'images_background_small1/Latin/character07/0689_11.png';
    expect(files[entry]).toBeDefined();
    files[entry] = files[entry].slice(0, 20);
    const zip = join(scratch, 'bad-png.zip');
    writeFileSync(zip, zipSync(files, { level: 0 }));
    await expect(loadOmniglot({ data: zip })).rejects.toThrow(new RegExp(`^${zip.replace(/\./g, '\\.')}: ${entry.replace(/\./g, '\\.')} is not a valid PNG`));
  });

  it('a truncated zip and a truncated npz', async () => {
    const zip = join(scratch, 'images_background.zip');
    writeFileSync(zip, readFileSync(join(SHARED, 'images_background_small2.zip')).subarray(0, 700_000));
    await expect(loadOmniglot({ data: zip })).rejects.toThrow(new RegExp(`^${zip.replace(/\./g, '\\.')} is not a valid zip archive .*; it may be truncated or damaged\\.$`));
    const dir = join(scratch, 'cut-npz');
    mkdirSync(dir);
    writeFileSync(join(dir, 'images_evaluation.npz'), readFileSync(join(SHARED, 'images_evaluation.npz')).subarray(0, 1_000_000));
    await expect(loadOmniglot({ data: dir })).rejects.toThrow(/images_evaluation\.npz is not a valid zip archive/);
    await expect(loadOmniglot({ data: dir })).rejects.toBeInstanceOf(DataError);
    expect(existsSync(omniglotCacheDir()) ? readdirSync(omniglotCacheDir()) : []).toEqual([]);
  });

  it('an npz whose images.npy has an unexpected dtype or shape', async () => {
    const header = (descr: string, shape: string): Uint8Array => {
      let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
      while ((10 + h.length + 1) % 64) h += ' ';
      h += '\n';
      return Uint8Array.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 255, h.length >> 8, ...Array.from(h, (c) => c.charCodeAt(0))]);
    };
    const withData = (h: Uint8Array, n: number): Uint8Array => {
      const out = new Uint8Array(h.length + n);
      out.set(h);
      return out;
    };
    const f4 = join(scratch, 'f4.npz');
    writeFileSync(f4, zipSync({ 'images.npy': withData(header('<f4', '(659, 20, 2, 2)'), 659 * 20 * 4 * 4) }));
    await expect(loadOmniglot({ data: f4 })).rejects.toThrow(`${f4}: images.npy has dtype '<f4', expected '|b1'.`);
    const shape = join(scratch, 'shape.npz');
    writeFileSync(shape, zipSync({ 'images.npy': withData(header('|b1', '(659, 19, 2, 2)'), 659 * 19 * 4) }));
    await expect(loadOmniglot({ data: shape })).rejects.toThrow(`${shape}: images.npy has shape (659, 19, 2, 2), expected (N, 20, N, N).`);
  });
});

it('ships the license and attribution next to the asset', () => {
  const dir = join(root, dirname(EMBEDDED_OMNIGLOT));
  expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toBe(readFileSync(join(SHARED, 'LICENSE.omniglot'), 'utf8'));
  expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/Lake, B\. M\., Salakhutdinov, R\., and Tenenbaum, J\. B\. \(2015\)/);
});
