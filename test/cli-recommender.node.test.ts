// `shadertrain recommender` as a user meets it: bad files and flags get one sentence naming the
// file and line or the flag, exit non-zero, and leave no log or checkpoint; a small run logs,
// checkpoints and resumes.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../src/random.ts';

const TIMEOUT = 120_000;
let dir = '';

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', 'recommender', ...args], { encoding: 'utf8', timeout: TIMEOUT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Made-up ratings in the u.data layout (never MovieLens itself). */
function ratingsFile(name: string, lines: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

function synthetic(n: number): string[] {
  const rng = new Rng(1);
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < n) {
    const u = 1 + rng.int(30);
    const i = 1 + rng.int(40);
    if (seen.has(`${u},${i}`)) continue;
    seen.add(`${u},${i}`);
    out.push(`${u}\t${i}\t${1 + ((u + 2 * i) % 5)}\t${880000000 + out.length}`);
  }
  return out;
}

/** The one-line error and everything the run must not leave behind. */
function expectRefused(args: string[], message: RegExp): void {
  const logdir = join(dir, `logs-${Math.random().toString(36).slice(2)}`);
  const ckpt = join(dir, `ck-${Math.random().toString(36).slice(2)}.safetensors`);
  const r = cli([...args, '--logdir', logdir, '--checkpoint', ckpt, '--epochs', '1']);
  expect(r.status, r.stderr).not.toBe(0);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('shadertrain:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/);
  expect(existsSync(logdir)).toBe(false);
  expect(existsSync(ckpt)).toBe(false);
}

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
  dir = mkdtempSync(join(tmpdir(), 'shadertrain-rec-'));
});

describe('shadertrain recommender: bad input', () => {
  const good = synthetic(20);
  const cases: [string, string[], RegExp][] = [
    ['a line with three fields', [...good.slice(0, 5), '3\t4\t5', ...good.slice(5)], /u\.data line 6: expected 4 .*fields.*found 3/],
    ['a field that is not a number', [...good.slice(0, 2), '7\tabc\t3\t881250949'], /u\.data line 3: .*"abc"/],
    ['a rating outside 1–5', [...good.slice(0, 9), '7\t8\t6\t881250949'], /u\.data line 10: .*rating.*6/],
    ['an id below 1', ['0\t8\t3\t881250949'], /u\.data line 1: .*user.*0/i],
    ['an empty file', [], /u\.data.*(empty|no ratings)/i],
  ];
  for (const [what, lines, message] of cases) {
    it(what, () => {
      const sub = mkdtempSync(join(dir, 'case-'));
      writeFileSync(join(sub, 'u.data'), lines.length ? lines.join('\n') + '\n' : '');
      expectRefused(['--data', join(sub, 'u.data')], message);
    });
  }

  it('a missing path', () => expectRefused(['--data', join(dir, 'nowhere')], /nowhere does not exist/));
  it('a negative weight', () => expectRefused(['--data', ratingsFile('ok1.data', good), '--factorization_weight', '-1'], /--factorization_weight must be a number >= 0, not "-1"/));
  it('a weight that is not a number', () => expectRefused(['--data', ratingsFile('ok2.data', good), '--regression-weight', 'heavy'], /--regression_weight must be a number >= 0, not "heavy"/));
  it('a batch size of 0', () => expectRefused(['--data', ratingsFile('ok3.data', good), '--batch_size', '0'], /--batch_size must be an integer from 1 up, not "0"/));
  it('an unknown flag', () => expectRefused(['--data', ratingsFile('ok4.data', good), '--factorisation_weight', '1'], /Unknown option '--factorisation_weight'/));
});

describe('shadertrain recommender: a small run', () => {
  it('logs TensorBoard tags and JSONL, prints JSON, checkpoints and resumes', () => {
    const data = ratingsFile('u.data', synthetic(600));
    const logdir = join(dir, 'run');
    const ckpt = join(dir, 'run.safetensors');
    const common = ['--data', data, '--batch_size', '64', '--embedding_dim', '8', '--layer_sizes', '24,16', '--test_fraction', '0.1', '--seed', '3'];
    const r = cli([...common, '--epochs', '2', '--logdir', logdir, '--checkpoint', ckpt, '--json', '--no_shared_embeddings']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { epochs: { epoch: number; mrr: number; testMse: number }[]; ms_per_step: number; adapter: { vendor: string } };
    expect(out.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(out.epochs[1].mrr).toBeGreaterThan(0);
    const files = readdirSync(logdir);
    expect(files.some((f) => f.startsWith('events.out.tfevents.'))).toBe(true);
    const jsonl = readFileSync(join(logdir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tag: string; step: number });
    expect(new Set(jsonl.map((l) => l.tag))).toEqual(new Set(['training/Factorization Loss', 'training/MSE', 'training/Joint Loss', 'eval/Mean Reciprocal Rank', 'eval/MSE']));
    const events = readFileSync(join(logdir, files.find((f) => f.startsWith('events'))!));
    expect(events.includes(Buffer.from('eval/Mean Reciprocal Rank'))).toBe(true);

    const resumed = cli([...common, '--epochs', '3', '--logdir', logdir, '--resume', ckpt, '--json', '--no_shared_embeddings']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect((JSON.parse(resumed.stdout) as typeof out).epochs.map((e) => e.epoch)).toEqual([3]);

    const mismatch = cli([...common, '--epochs', '3', '--resume', ckpt, '--logdir', join(dir, 'mismatch')]);
    expect(mismatch.status).toBe(1);
    expect(mismatch.stderr).toMatch(/--resume \S*run\.safetensors was trained with --no_shared_embeddings, not no --no_shared_embeddings; give the same flag, or --force to continue with these\n/);
    expect(existsSync(join(dir, 'mismatch'))).toBe(false);
    // --force cannot make tables of another shape load: the trainer names the setting.
    const forced = cli([...common, '--epochs', '3', '--resume', ckpt, '--force', '--logdir', join(dir, 'forced')]);
    expect(forced.status).toBe(1);
    expect(forced.stderr).toMatch(/run\.safetensors was trained with other settings \(sharedEmbeddings: false\)/);
  });
});
