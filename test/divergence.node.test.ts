// A run that diverges stops within 128 steps (the metric sums are looked at every 64, inside an
// epoch too; src/experiments/watch.ts), in one sentence naming the step, the metric by its tag, the parameters no longer finite in the user's terms and
// advice that fits the cause; absurd loss weights are refused before any GPU work; and nothing is
// written over the last good checkpoint.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_TIMEOUT, ownLines } from './support/cli-fewshot.ts';

const ML100K = '../shared/data/ml-100k/u.data';
let dir = '';

function cli(args: string[]): { status: number | null; stdout: string; lines: string[] } {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', timeout: CLI_TIMEOUT });
  return { status: r.status, stdout: r.stdout, lines: ownLines(r.stderr) };
}

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
  dir = mkdtempSync(join(tmpdir(), 'shadertrain-diverge-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('divergence', () => {
  it('recommender --lr 10: an exploding MSE stops the run by step 128 of epoch 1 (of 372), blaming the raised --lr; no checkpoint is written', () => {
    const checkpoint = join(dir, 'lr10.safetensors');
    const r = cli(['recommender', '--data', ML100K, '--epochs', '3', '--lr', '10', '--logdir', join(dir, 'lr10'), '--checkpoint', checkpoint]);
    expect(r.status).toBe(1);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^shadertrain: training diverged by step 128 of epoch 1: training\/MSE reached [\d.]+e\+\d+, beyond the 10000 no working model reaches; lower --lr \(10; the default is 0\.001\)$/);
    expect(r.stdout).not.toMatch(/^done/m);
    expect(existsSync(checkpoint)).toBe(false);
  }, CLI_TIMEOUT);

  it('recommender --lr 1e9: NaN, with every parameter no longer finite named as the user knows it', () => {
    const r = cli(['recommender', '--data', ML100K, '--epochs', '2', '--lr', '1e9', '--logdir', join(dir, 'lr1e9')]);
    expect(r.status).toBe(1);
    expect(r.lines).toEqual([
      'shadertrain: training diverged by step 128 of epoch 1: training/Factorization Loss became NaN; user embeddings, item embeddings, item biases and the rating MLP are no longer finite; lower --lr (1000000000; the default is 0.001)',
    ]);
  }, CLI_TIMEOUT);

  it('a loss weight near the largest 32-bit float is blamed, not the learning rate', () => {
    const r = cli(['recommender', '--data', ML100K, '--epochs', '2', '--regression_weight', '3e38', '--logdir', join(dir, 'w')]);
    expect(r.status).toBe(1);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^shadertrain: training diverged by step 128 of epoch 1: .*; the loss weight --regression_weight 3e\+38 scales a loss toward the largest 32-bit float; use weights near 1 \(the default is 0\.5\)$/);
    const m = cli(['multitask', '--dataset', 'mmoe-synthetic', '--rows', '2000', '--epochs', '2', '--task_weights', '3e38,1', '--logdir', join(dir, 'mt')]);
    expect(m.status).toBe(1);
    expect(m.lines).toEqual([
      expect.stringMatching(/^shadertrain: training diverged by epoch 1: train\/\w+ loss became (NaN|Infinity); .*the loss weight --task_weights 3e\+38,1 scales a loss toward the largest 32-bit float; use weights near 1$/),
    ]);
  }, 2 * CLI_TIMEOUT);

  it('numbers beyond 32-bit floats are refused before any GPU work, naming the flag', () => {
    const big = cli(['recommender', '--data', ML100K, '--regression_weight', '1e300', '--logdir', join(dir, 'big')]);
    expect(big.status).toBe(1);
    expect(big.lines).toEqual(["shadertrain: --regression_weight 1e300 is beyond the GPU's 32-bit floats (their largest is 3.4e38); use a value many orders of magnitude smaller"]);
    const tiny = cli(['fewshot', '--lr', '1e-300', '--logdir', join(dir, 'tiny')]);
    expect(tiny.status).toBe(1);
    expect(tiny.lines).toEqual(["shadertrain: --lr 1e-300 is 0 in the GPU's 32-bit floats (their smallest above 0 is 1.4e-45); use a larger value"]);
    expect(existsSync(join(dir, 'big'))).toBe(false);
    expect(existsSync(join(dir, 'tiny'))).toBe(false);
  }, CLI_TIMEOUT);
});
