// `shadertrain export --format pytorch`: checkpoints of short runs of every experiment, exported
// through the command a user types, load into the PyTorch module a user would write
// (test/support/torch_reference.py, load_state_dict strict) and give shadertrain's outputs on the
// same batch within 1e-5. That part needs PyTorch (Debian's python3-torch: dev-only) and says
// how to enable it where it is missing; the layouts and the command's errors are checked always.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../src/graph/checkpoint.ts';
import { decodeSafetensors, encodeSafetensors } from '../src/log/safetensors.ts';
import { Rng } from '../src/random.ts';
import { useGpu } from './support/gpu.ts';
import { fewshotCase, multitaskCase, recommenderCase, type TorchCase } from './support/torch-cases.ts';

const PYTHON = '/usr/bin/python3';
const TIMEOUT = 240_000;
const ML100K = join('..', 'shared', 'data', 'ml-100k', 'ua.test');
const TORCH = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!TORCH) console.warn(`export-pytorch: the PyTorch comparisons are skipped: ${PYTHON} cannot import torch. Enable them with apt-get install python3-torch (Debian), a dev-only tool.`);

const gpu = useGpu();
let dir = '';

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', timeout: TIMEOUT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A short run's checkpoint, exported: [checkpoint, export]. */
function trainAndExport(name: string, args: string[]): [string, string] {
  const ckpt = join(dir, `${name}.safetensors`);
  const r = cli([...args, '--checkpoint', ckpt, '--logdir', join(dir, name)]);
  if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
  const e = cli(['export', '--checkpoint', ckpt, '--format', 'pytorch']);
  expect(e.status, e.stderr).toBe(0);
  const out = join(dir, `${name}.pytorch.safetensors`);
  expect(e.stdout).toContain(`wrote ${out}`);
  return [ckpt, out];
}

function compareInTorch(name: string, file: string, c: TorchCase): void {
  const path = join(dir, `${name}.case.json`);
  writeFileSync(path, JSON.stringify({ ...c, file, tolerance: 1e-5 }));
  const r = spawnSync(PYTHON, ['test/support/torch_reference.py', path], { encoding: 'utf8', timeout: TIMEOUT });
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  const res = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { ok: boolean; max_abs_diff: Record<string, number> };
  console.log(`export-pytorch ${name}: max |torch - shadertrain| ${JSON.stringify(res.max_abs_diff)}`);
  expect(res.ok).toBe(true);
}

const csv = (): string => {
  const rng = new Rng(5);
  const lines = ['size,weight,color,shape,clicked,bought'];
  for (let r = 0; r < 400; r++) {
    const size = rng.normal() * 3 + 10;
    const color = ['red', 'green', 'blue'][rng.int(3)];
    const clicked = size > 10 !== (color === 'red') ? 1 : 0;
    lines.push(`${size.toFixed(2)},${(rng.normal() + 2).toFixed(2)},${color},${['disc', 'square'][rng.int(2)]},${clicked},${clicked && rng.uniform() < 0.5 ? 1 : 0}`);
  }
  return `${lines.join('\n')}\n`;
};

const CSV_ARGS = (): string[] => ['multitask', '--dataset', 'csv', '--data', join(dir, 'rows.csv'), '--labels', 'clicked,bought', '--categorical', 'color,shape', '--continuous', 'size,weight', '--epochs', '1', '--batch_size', '64'];

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
  dir = mkdtempSync(join(tmpdir(), 'shadertrain-export-'));
  writeFileSync(join(dir, 'rows.csv'), csv());
}, TIMEOUT);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('shadertrain export --format pytorch', () => {
  it('writes the few-shot LSTMs as torch.nn.LSTM layer1, layer2: weights transposed, bias_hh zero, no Adam moments', async () => {
    const [ckpt, out] = trainAndExport('fewshot', ['fewshot', '--num_classes', '2', '--num_shot', '1', '--hidden_size', '8', '--meta_batch_size', '4', '--eval_batch_size', '8', '--eval_every', '3', '--steps', '3']);
    const ours = readCheckpoint(readFileSync(ckpt), ckpt).tensors;
    const { tensors, metadata } = decodeSafetensors(readFileSync(out), out);
    expect(metadata.format).toBe('pt');
    expect(metadata.experiment).toBe('fewshot');
    expect(Object.keys(tensors).sort()).toEqual(['layer1', 'layer2'].flatMap((l) => ['bias_hh_l0', 'bias_ih_l0', 'weight_hh_l0', 'weight_ih_l0'].map((n) => `${l}.${n}`)));
    const [I, H4] = ours['lstm1.W_ih'].shape;
    expect(tensors['layer1.weight_ih_l0'].shape).toEqual([H4, I]);
    for (const [r, c] of [[0, 0], [5, 17], [I - 1, H4 - 1]]) expect(tensors['layer1.weight_ih_l0'].data[c * I + r]).toBe(ours['lstm1.W_ih'].data[r * H4 + c]);
    expect(tensors['layer2.bias_ih_l0'].data).toEqual(ours['lstm2.b'].data);
    expect([...tensors['layer2.bias_hh_l0'].data].every((v) => v === 0)).toBe(true);
    if (TORCH) compareInTorch('fewshot', out, await fewshotCase(gpu.gpu, readCheckpoint(readFileSync(ckpt), ckpt), 3, 1));
  }, TIMEOUT);

  it('writes the recommender as homework 0 in torch.nn: Embedding weights, Linear weights [out, in]', async () => {
    if (!existsSync(ML100K)) throw new Error(`${ML100K} is missing: this test reads real MovieLens from ../shared/data`);
    for (const [name, extra] of [['recommender-shared', []], ['recommender-separate', ['--no_shared_embeddings', '--clip_predicted_rating']]] as const) {
      const [ckpt, out] = trainAndExport(name, ['recommender', '--data', ML100K, '--epochs', '1', ...extra]);
      const { tensors } = decodeSafetensors(readFileSync(out), out);
      const prefix = name.endsWith('shared') ? '' : 'factorization.';
      expect(tensors[`${prefix}user_embeddings.weight`].shape).toEqual([944, 32]);
      expect(tensors['mlp.0.weight'].shape).toEqual([64, 96]);
      expect(Object.keys(tensors).some((n) => n.includes('adam'))).toBe(false);
      if (TORCH) compareInTorch(name, out, await recommenderCase(gpu.gpu, readCheckpoint(readFileSync(ckpt), ckpt), 64, 2));
    }
  }, TIMEOUT);

  it('writes each multi-task model with its one-hot layers as nn.Linear over [one-hot fields, continuous columns]', async () => {
    const runs: [string, string[]][] = [
      ['mmoe-uncertainty', [...CSV_ARGS(), '--model', 'mmoe', '--experts', '3', '--expert_units', '4', '--tower_units', '3', '--loss_weighting', 'uncertainty']],
      ['shared-bottom', [...CSV_ARGS(), '--model', 'shared-bottom', '--task_kinds', 'binary,regression']],
      ['single-linear', [...CSV_ARGS(), '--model', 'single', '--bottom_units', '0']],
      ['omoe', [...CSV_ARGS(), '--model', 'omoe', '--experts', '2']],
      ['esmm', ['multitask', '--dataset', 'esmm-synthetic', '--rows', '3000', '--model', 'esmm', '--epochs', '1', '--batch_size', '256', '--embedding_dim', '4']],
      ['aux', ['multitask', '--dataset', 'aux-synthetic', '--model', 'aux', '--epochs', '1']],
    ];
    for (const [name, args] of runs) {
      const [ckpt, out] = trainAndExport(name, args);
      const { tensors } = decodeSafetensors(readFileSync(out), out);
      if (name === 'mmoe-uncertainty') {
        // 3 colors and 2 shapes, each with its unknown row, then 2 continuous columns.
        expect(tensors['experts.weight'].shape).toEqual([12, 4 + 3 + 2]);
        expect(tensors.log_vars.shape).toEqual([2]);
      }
      if (TORCH) compareInTorch(name, out, await multitaskCase(gpu.gpu, readCheckpoint(readFileSync(ckpt), ckpt), 50, 3));
    }
  }, TIMEOUT);

  it('refuses an unknown format, a file that is not a shadertrain checkpoint and an existing --out, each in one sentence', () => {
    const foreign = join(dir, 'foreign.safetensors');
    writeFileSync(foreign, encodeSafetensors({ w: { dtype: 'F32', shape: [1], data: new Float32Array(1) } }, { format: 'pt' }));
    const ckpt = join(dir, 'fewshot.safetensors');
    const cases: [string[], RegExp][] = [
      [['export', '--checkpoint', ckpt, '--format', 'onnx'], /^shadertrain: --format onnx is not a format export writes; use --format pytorch$/],
      [['export', '--checkpoint', foreign], /^shadertrain: .*foreign\.safetensors is not a shadertrain checkpoint \(format "pt"/],
      [['export', '--checkpoint', join(dir, 'rows.csv')], /^shadertrain: .*rows\.csv is not a valid safetensors file/],
      [['export', '--checkpoint', ckpt], /^shadertrain: --out .*fewshot\.pytorch\.safetensors already exists; replace it with --overwrite or choose another --out$/],
      [['export', '--format', 'pytorch'], /^shadertrain: export needs --checkpoint FILE/],
    ];
    for (const [args, want] of cases) {
      const r = cli(args);
      expect(r.status, args.join(' ')).not.toBe(0);
      const own = r.stderr.split('\n').filter((l) => l.startsWith('shadertrain:'));
      expect(own, r.stderr).toHaveLength(1);
      expect(own[0]).toMatch(want);
    }
    expect(cli(['export', '--checkpoint', ckpt, '--overwrite']).status).toBe(0);
    const help = cli(['export', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('shadertrain export --checkpoint fs.safetensors --format pytorch');
  }, TIMEOUT);
});
