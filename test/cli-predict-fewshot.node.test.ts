// `shadertrain predict` on a few-shot checkpoint as a user meets it: a tiny 2-way 1-shot run on
// the embedded Omniglot set, then real drawings classified: a support folder of two characters'
// official 105×105 PNGs (from ../shared/data's images_background_small1.zip), queries as those
// PNGs and as 28×28 PNGs of the embedded set's same drawings (training's preprocessing of the
// originals, so the same numbers), CSV and JSON Lines; bad input is one sentence naming the
// flag and file, exit 1, nothing on stdout.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { omniglotPngPlace } from '../src/data/omniglot.ts';
import { loadEmbeddedOmniglot } from '../src/data/omniglot-node.ts';
import { decodeSafetensors, encodeSafetensors } from '../src/log/safetensors.ts';
import { CLI_TIMEOUT, TINY } from './support/cli-fewshot.ts';

const ZIP = join('..', 'shared', 'data', 'omniglot', 'images_background_small1.zip');
/** Two characters of the official tree, as "Alphabet/characterNN". */
const CHARACTERS = ['Balinese/character01', 'Latin/character05'];
let dir = '';
let ckpt = '';

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', timeout: CLI_TIMEOUT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** stderr without Dawn's SwiftShader warning: the lines shadertrain wrote. */
const said = (stderr: string): string => stderr.replace(/^Warning: Vulkan[^\n]*\n(?: - [^\n]*\n|    at [^\n]*\n)*\n?/, '');

beforeAll(async () => {
  if (!existsSync(ZIP)) throw new Error(`${ZIP} is missing: this test reads real Omniglot drawings from ../shared/data`);
  execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
  dir = mkdtempSync(join(tmpdir(), 'shadertrain-predict-fs-'));
  ckpt = join(dir, 'fs.safetensors');
  const r = cli(['fewshot', ...TINY, '--steps', '5', '--checkpoint', ckpt, '--logdir', join(dir, 'log')]);
  if (r.status !== 0) throw new Error(`training exited ${r.status}: ${r.stderr}`);
  // Each character's drawings in file-name order, as training takes them: drawing 0 is the
  // support, drawing 1 the query, as the original PNG and as the embedded set's 28×28 pixels.
  const set = await loadEmbeddedOmniglot();
  const zip = unzipSync(new Uint8Array(readFileSync(ZIP)), { filter: (f) => CHARACTERS.some((c) => f.name.includes(`/${c}/`)) });
  for (const [c, name] of CHARACTERS.entries()) {
    const files = Object.keys(zip).filter((p) => p.endsWith('.png') && p.includes(`/${name}/`)).sort();
    expect(files).toHaveLength(20);
    const index = omniglotPngPlace(files[0])?.index as number;
    const folder = name.replace('/', '-');
    mkdirSync(join(dir, 'support', folder), { recursive: true });
    mkdirSync(join(dir, 'query'), { recursive: true });
    writeFileSync(join(dir, 'support', folder, 'drawing.png'), zip[files[0]]);
    writeFileSync(join(dir, 'query', `${c}-original.png`), zip[files[1]]);
    const ink = set.pixels.subarray((index * set.drawings + 1) * 784, (index * set.drawings + 2) * 784);
    writeFileSync(join(dir, 'query', `${c}-small.png`), encodePng({ width: 28, height: 28, data: ink.map((v) => 255 - v), depth: 8, channels: 1 }));
  }
}, CLI_TIMEOUT);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('shadertrain predict, few-shot', () => {
  it("classifies real drawings among the support folder's classes, CSV and JSON Lines alike", () => {
    const csv = cli(['predict', '--checkpoint', ckpt, '--support', join(dir, 'support'), '--query', join(dir, 'query')]);
    expect(csv.status, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    const classes = CHARACTERS.map((n) => n.replace('/', '-'));
    expect(lines[0]).toBe(`query,class,${classes.map((c) => `${c}_probability`).join(',')}`);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.map((r) => r[0])).toEqual(['0-original.png', '0-small.png', '1-original.png', '1-small.png']);
    for (const r of rows) {
      const p = r.slice(2).map(Number);
      for (const v of p) expect(Math.fround(v)).toBe(v);
      expect(Math.abs(p[0] + p[1] - 1)).toBeLessThan(1e-6);
      expect(r[1]).toBe(classes[p[1] > p[0] ? 1 : 0]);
    }
    // A 105×105 original and the embedded set's 28×28 drawing of it: the same preprocessing, the same numbers.
    expect(rows[0].slice(1)).toEqual(rows[1].slice(1));
    expect(rows[2].slice(1)).toEqual(rows[3].slice(1));
    const json = cli(['predict', '--checkpoint', ckpt, '--support', join(dir, 'support'), '--query', `${join(dir, 'query', '1-small.png')},${join(dir, 'query', '0-small.png')}`, '--json']);
    expect(json.status, json.stderr).toBe(0);
    expect(json.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual(
      [rows[3], rows[1]].map((r, i) => ({ query: join(dir, 'query', `${1 - i}-small.png`), class: r[1], [`${classes[0]}_probability`]: Number(r[2]), [`${classes[1]}_probability`]: Number(r[3]) })),
    );
  });

  it('says in one sentence what is wrong, naming the flag and file', () => {
    const three = join(dir, 'three');
    for (const c of ['a', 'b', 'c']) {
      mkdirSync(join(three, c), { recursive: true });
      writeFileSync(join(three, c, 'x.png'), readFileSync(join(dir, 'query', '0-small.png')));
    }
    writeFileSync(join(dir, 'notes.txt'), 'not an image\n');
    const support = join(dir, 'support');
    const cases: [string[], RegExp][] = [
      [['--support', join(dir, 'none'), '--query', support], /^shadertrain: --support .*none: no such file or folder\n$/],
      [['--support', three, '--query', join(dir, 'query')], /^shadertrain: --support has 3 class folders \(a, b, c\); the model was trained 2-way: give 2 sub-folders, one per class\.\n$/],
      [['--support', support, '--query', join(dir, 'notes.txt')], /^shadertrain: --query .*notes\.txt is not a PNG image; give PNG images only \(a drawing, dark ink on a light background\)\.\n$/],
      [['--support', support], /^shadertrain: predict needs --query FILES: the PNG images to classify \(files, comma-separated, or a folder\)\.\n$/],
    ];
    for (const [args, want] of cases) {
      const r = cli(['predict', '--checkpoint', ckpt, ...args]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(said(r.stderr)).toMatch(want);
    }
    // A checkpoint from before few-shot checkpoints described their images.
    const { tensors, metadata } = decodeSafetensors(readFileSync(ckpt), ckpt);
    const { schema: _s, ...old } = metadata;
    const oldPath = join(dir, 'old.safetensors');
    writeFileSync(oldPath, encodeSafetensors(tensors, old));
    const r = cli(['predict', '--checkpoint', oldPath, '--support', support, '--query', join(dir, 'query')]);
    expect(r.status).toBe(1);
    expect(said(r.stderr)).toMatch(/^shadertrain: .*old\.safetensors has no image schema \(the side, resize filter and binary flag of its training images; .*\); resume it with --resume and --checkpoint for one more step/);
  });

  it('shows the few-shot flags in --help', () => {
    const r = cli(['predict', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/fewshot checkpoints:\n  Classifies new drawings[\s\S]*--support DIR[\s\S]*--query FILES/);
  });
});
