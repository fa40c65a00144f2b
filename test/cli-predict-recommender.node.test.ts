// `shadertrain predict` on a recommender checkpoint as a user meets it: one epoch on real
// MovieLens 100K ratings (ua.test's 9,430, read in place from ../shared/data), then a user's top
// items with titles, pairs as CSV and JSON Lines (the same numbers, each a float32 printed
// exactly), and bad input as one sentence naming the flag, file or line, exit 1, nothing on stdout.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const TIMEOUT = 120_000;
const ML100K = join('..', 'shared', 'data', 'ml-100k');
const RATINGS = join(ML100K, 'ua.test');
const TITLES = join(ML100K, 'u.item');
let dir = '';
let ckpt = '';

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', timeout: TIMEOUT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** stderr without Dawn's SwiftShader warning: the lines shadertrain wrote. */
const said = (stderr: string): string => stderr.replace(/^Warning: Vulkan[^\n]*\n(?: - [^\n]*\n|    at [^\n]*\n)*\n?/, '');

/** u.item's titles by item id (latin-1, '|'-separated). */
function titles(): Map<number, string> {
  const text = new TextDecoder('latin1').decode(readFileSync(TITLES));
  return new Map(text.split('\n').filter((l) => l.includes('|')).map((l) => [Number(l.split('|')[0]), l.split('|')[1]]));
}

beforeAll(() => {
  if (!existsSync(RATINGS)) throw new Error(`${RATINGS} is missing: this test reads real MovieLens from ../shared/data`);
  execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
  dir = mkdtempSync(join(tmpdir(), 'shadertrain-predict-rec-'));
  ckpt = join(dir, 'rec.safetensors');
  const r = cli(['recommender', '--data', RATINGS, '--epochs', '1', '--embedding_dim', '8', '--layer_sizes', '24,8', '--batch_size', '1024', '--checkpoint', ckpt, '--logdir', join(dir, 'log')]);
  if (r.status !== 0) throw new Error(`training exited ${r.status}: ${r.stderr}`);
}, TIMEOUT);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('shadertrain predict, recommender', () => {
  it("lists a user's top items with titles, and predicts pairs as CSV and JSON Lines alike", () => {
    const top = cli(['predict', '--checkpoint', ckpt, '--data', RATINGS, '--titles', TITLES, '--user', '42', '--top', '5']);
    expect(top.status, top.stderr).toBe(0);
    const lines = top.stdout.trim().split('\n');
    expect(lines[0]).toBe('user,rank,item,title,predicted_rating,score');
    expect(lines).toHaveLength(6);
    // A title may hold a comma ("Saint, The (1997)"): the CSV quotes it.
    const rows = lines.slice(1).map((l) => l.match(/^(\d+),(\d+),(\d+),("(?:[^"]|"")*"|[^,]*),([^,]+),([^,]+)$/)?.slice(1) ?? []);
    const names = titles();
    const scores: number[] = [];
    rows.forEach((r, k) => {
      expect(r, lines[k + 1]).toHaveLength(6);
      expect(r.slice(0, 2)).toEqual(['42', String(k + 1)]);
      const title = r[3].startsWith('"') ? r[3].slice(1, -1).replaceAll('""', '"') : r[3];
      expect(title).toBe(names.get(Number(r[2])));
      for (const v of [Number(r[4]), Number(r[5])]) expect(Math.fround(v)).toBe(v);
      scores.push(Number(r[5]));
    });
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    // The same (user, item) pairs through --pairs: the same predicted ratings, CSV and --json.
    const pairsPath = join(dir, 'pairs.csv');
    writeFileSync(pairsPath, `user,item\n${rows.map((r) => `42,${r[2]}`).join('\n')}\n`);
    const csv = cli(['predict', '--checkpoint', ckpt, '--data', RATINGS, '--pairs', pairsPath]);
    expect(csv.status, csv.stderr).toBe(0);
    expect(csv.stdout).toBe(`user,item,predicted_rating\n${rows.map((r) => `42,${r[2]},${r[4]}`).join('\n')}\n`);
    const json = cli(['predict', '--checkpoint', ckpt, '--data', RATINGS, '--titles', TITLES, '--pairs', pairsPath, '--json']);
    expect(json.status, json.stderr).toBe(0);
    expect(json.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual(
      rows.map((r) => ({ user: 42, item: Number(r[2]), title: names.get(Number(r[2])), predicted_rating: Number(r[4]) })),
    );
  });

  it('says in one sentence what is wrong, naming the flag, file or line', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, '1,1\n2,x\n');
    const cases: [string[], RegExp][] = [
      [['--user', '5000'], /^shadertrain: --user 5000 has no ratings in the data the model was trained on; give a user id from 1 to 943 that has some\.\n$/],
      [['--pairs', bad], /^shadertrain: .*bad\.csv line 2: "2,x" is not a pair of ids; give a user id and an item id per line \(a header line may come first\)\.\n$/],
      [['--user', '1', '--data', join(ML100K, 'u1.test')], /^shadertrain: --data .*u1\.test is not the data .*rec\.safetensors was trained on \(its SHA-256 differs from the one the checkpoint recorded for .*ua\.test\); give that ratings file\.\n$/],
      [['--user', '1', '--data', RATINGS, '--pairs', bad], /^shadertrain: --user and --pairs cannot be combined; give one\.\n$/],
      [['--user', '-1', '--data', RATINGS], /^shadertrain: --user must be /],
    ];
    for (const [args, want] of cases) {
      const full = ['predict', '--checkpoint', ckpt, ...(args.includes('--data') ? [] : ['--data', RATINGS]), ...args];
      const r = cli(full);
      expect(r.status, full.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(said(r.stderr)).toMatch(want);
    }
    const r = cli(['predict', '--checkpoint', ckpt, '--user', '1']);
    expect(r.status).toBe(1);
    expect(said(r.stderr)).toMatch(/^shadertrain: predict needs --data PATH, the ratings .*rec\.safetensors was trained on \(it records .*ua\.test\): they give the items each user rated in training\.\n$/);
  });

  it('shows the recommender flags in --help, without a default where there is none', () => {
    const r = cli(['predict', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/recommender checkpoints:[\s\S]*--data PATH[\s\S]*--user ID[\s\S]*--top N[\s\S]*\(default 10\)[\s\S]*--pairs FILE[\s\S]*--titles FILE/);
    expect(r.stdout).not.toContain('undefined');
  });
});
