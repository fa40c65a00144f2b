// What a run keeps and how it is asked: best.safetensors by the experiment's main metric or
// --keep_best's, the summary's best and final figures, --early_stop; one flag vocabulary (--lr
// everywhere, the course's spellings as aliases) and "did you mean" for a mistyped flag.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { editDistance, nearest } from '../cli/flags.ts';
import { decodeSafetensors } from '../src/log/safetensors.ts';
import { Rng } from '../src/random.ts';

let dir = '';
let data = '';

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The weights and moments of a checkpoint (its metadata names the config, which differs by --epochs). */
function tensors(path: string): Record<string, number[]> {
  const d = decodeSafetensors(new Uint8Array(readFileSync(path)), path);
  return Object.fromEntries(Object.entries(d.tensors).map(([k, t]) => [k, Array.from(t.data)]));
}

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
  dir = mkdtempSync(join(tmpdir(), 'shadertrain-best-'));
  const rng = new Rng(1);
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < 600) {
    const [u, i] = [1 + rng.int(30), 1 + rng.int(40)];
    if (seen.has(`${u},${i}`)) continue;
    seen.add(`${u},${i}`);
    out.push(`${u}\t${i}\t${1 + ((u + 2 * i) % 5)}\t${880000000 + out.length}`);
  }
  data = join(dir, 'u.data');
  writeFileSync(data, out.join('\n') + '\n');
});

const SMALL = ['--batch_size', '64', '--embedding_dim', '8', '--layer_sizes', '24,16', '--factorization_weight', '0.5', '--regression_weight', '0.5'];

interface Out {
  epochs: { epoch: number; mrr: number; testMse: number }[];
  best: { metric: string; epoch: number; value: number; file: string; stopped_early_at: number | null };
}

describe('--keep_best and --early_stop', () => {
  it('keeps the best evaluation by the main metric (the recommender: test MSE) in best.safetensors', () => {
    const logdir = join(dir, 'main');
    const r = cli(['recommender', '--data', data, ...SMALL, '--epochs', '4', '--logdir', logdir, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Out;
    const mse = out.epochs.map((e) => e.testMse);
    const at = out.epochs[mse.indexOf(Math.min(...mse))].epoch;
    expect(out.best).toEqual({ metric: 'eval/MSE', epoch: at, value: Math.min(...mse), file: join(logdir, 'best.safetensors'), stopped_early_at: null });
    expect(existsSync(join(logdir, 'best.safetensors'))).toBe(true);
  });

  it('follows --keep_best, stops after --early_stop evaluations without a better one, and its best is the checkpoint of that epoch', () => {
    const logdir = join(dir, 'mrr');
    const r = cli(['recommender', '--data', data, ...SMALL, '--epochs', '12', '--logdir', logdir, '--keep_best', 'eval/Mean Reciprocal Rank', '--early_stop', '2']);
    expect(r.status, r.stderr).toBe(0);
    const jsonl = readFileSync(join(logdir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tag: string; step: number; value: number });
    const mrr = jsonl.filter((l) => l.tag === 'eval/Mean Reciprocal Rank');
    const top = Math.max(...mrr.map((l) => l.value));
    const bestAt = mrr.find((l) => l.value === top)?.step as number;
    // Measured here: MRR turns at epoch 3 of 12, so the run stops two epochs later.
    expect(mrr.length).toBeLessThan(12);
    expect(mrr[mrr.length - 1].step).toBe(bestAt + 2);
    expect(r.stderr).toContain(`best eval/Mean Reciprocal Rank ${Number(top.toPrecision(4))} at epoch ${bestAt} (final `);
    expect(r.stderr).toMatch(new RegExp(`stopped early at epoch ${bestAt + 2}, eval/Mean Reciprocal Rank not better for 2 evaluations`));
    // The kept weights are those of a run trained for exactly bestAt epochs.
    const ckpt = join(dir, 'exact.safetensors');
    const exact = cli(['recommender', '--data', data, ...SMALL, '--epochs', String(bestAt), '--logdir', join(dir, 'exact'), '--checkpoint', ckpt]);
    expect(exact.status, exact.stderr).toBe(0);
    expect(tensors(join(logdir, 'best.safetensors'))).toEqual(tensors(ckpt));
    // Beside --checkpoint, the best goes to NAME.best.safetensors.
    expect(existsSync(join(dir, 'exact.best.safetensors'))).toBe(true);
  });

  it('refuses an unknown metric or patience before any work, naming the flag', () => {
    const a = cli(['recommender', '--data', data, '--keep_best', 'accuracy', '--logdir', join(dir, 'no1')]);
    expect(a.status).toBe(1);
    expect(a.stderr).toMatch(/--keep_best must name one of this run's metrics \(training\/Factorization Loss, .*eval\/MSE\), not "accuracy"/);
    const b = cli(['recommender', '--data', data, '--early_stop', '0', '--logdir', join(dir, 'no2')]);
    expect(b.status).toBe(1);
    expect(b.stderr).toMatch(/--early_stop must be a whole number of evaluations from 1, not "0"/);
    expect(existsSync(join(dir, 'no1')) || existsSync(join(dir, 'no2'))).toBe(false);
  });
});

describe('one flag vocabulary', () => {
  it('takes --lr and --batch_size for few-shot, keeps the course spellings, and refuses both at once', () => {
    const help = cli(['fewshot', '--help']).stdout;
    expect(help).toMatch(/--lr X \(or --learning_rate\)/);
    expect(help).toMatch(/--meta_batch_size B \(or --batch_size\)/);
    for (const flags of [['--lr', '0'], ['--learning_rate', '0']]) {
      const r = cli(['fewshot', ...flags]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/--lr must be a number > 0, not "0"/);
    }
    expect(cli(['fewshot', '--lr', '0.1', '--learning-rate', '0.2']).stderr).toMatch(/--lr and --learning_rate are the same flag; give it once/);
    expect(cli(['fewshot', '--batch_size', '0']).stderr).toMatch(/--meta_batch_size must be an integer from 1 up, not "0"/);
  });

  it('says which flag a mistyped one meant', () => {
    expect(cli(['recommender', '--epoch', '3']).stderr).toMatch(/Unknown option '--epoch'; did you mean --epochs\? \(see --help\)/);
    expect(cli(['fewshot', '--learningrate', '1']).stderr).toMatch(/did you mean --learning_rate\?/);
    expect(cli(['recommender', '--zzz', '1']).stderr).toMatch(/Unknown option '--zzz'; see --help/);
    expect(editDistance('epoch', 'epochs')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(nearest('factorisation_weight', ['factorization_weight', 'regression_weight'])).toBe('factorization_weight');
    expect(nearest('zzz', ['epochs', 'lr'])).toBeUndefined();
  });
});
