// `shadertrain predict` as a user meets it: a small multi-task run's checkpoint predicts rows
// given as a CSV file, JSON Lines, standard input and --row, all the same numbers (printed so
// that they read back as the same float32); bad input is one sentence naming the flag, file,
// row or column, and exits non-zero with nothing on stdout.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../src/log/safetensors.ts';
import { Rng } from '../src/random.ts';

const TIMEOUT = 120_000;
let dir = '';
let ckpt = '';

function cli(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', timeout: TIMEOUT, input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ROWS = [
  { size: '9.5', color: 'red', shape: 'disc' },
  { size: '12.25', color: 'blue', shape: 'square' },
  { size: '7', color: 'green', shape: 'disc' },
];

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
  dir = mkdtempSync(join(tmpdir(), 'shadertrain-predict-'));
  const rng = new Rng(3);
  const lines = ['size,color,shape,clicked'];
  for (let r = 0; r < 300; r++) {
    const size = rng.normal() * 3 + 10;
    const color = ['red', 'green', 'blue'][rng.int(3)];
    lines.push(`${size.toFixed(2)},${color},${['disc', 'square'][rng.int(2)]},${size > 10 !== (color === 'red') ? 1 : 0}`);
  }
  writeFileSync(join(dir, 'train.csv'), `${lines.join('\n')}\n`);
  ckpt = join(dir, 'run.safetensors');
  const r = cli(['multitask', '--dataset', 'csv', '--data', join(dir, 'train.csv'), '--labels', 'clicked', '--model', 'shared-bottom', '--epochs', '1', '--batch_size', '64', '--checkpoint', ckpt, '--logdir', join(dir, 'log')]);
  if (r.status !== 0) throw new Error(`training exited ${r.status}: ${r.stderr}`);
}, TIMEOUT);

describe('shadertrain predict', () => {
  it('predicts CSV, JSON Lines, standard input and --row alike', () => {
    const csvPath = join(dir, 'rows.csv');
    writeFileSync(csvPath, `size,color,shape\n${ROWS.map((r) => `${r.size},${r.color},${r.shape}`).join('\n')}\n`);
    const jsonPath = join(dir, 'rows.jsonl');
    writeFileSync(jsonPath, `${ROWS.map((r) => JSON.stringify({ ...r, size: Number(r.size) })).join('\n')}\n`);
    const csv = cli(['predict', '--checkpoint', ckpt, '--input', csvPath]);
    expect(csv.status, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('clicked_probability,clicked_decision');
    expect(lines).toHaveLength(1 + ROWS.length);
    const probs = lines.slice(1).map((l) => Number(l.split(',')[0]));
    for (const [i, l] of lines.slice(1).entries()) {
      expect(Math.fround(probs[i])).toBe(probs[i]); // a float32 value, printed exactly
      expect(l.split(',')[1]).toBe(probs[i] >= 0.5 ? '1' : '0');
    }
    const json = cli(['predict', '--checkpoint', ckpt, '--input', jsonPath, '--json']);
    expect(json.status, json.stderr).toBe(0);
    expect(json.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { clicked_probability: number }).clicked_probability)).toEqual(probs);
    const stdin = cli(['predict', '--checkpoint', ckpt, '--input', '-'], readFileSync(csvPath, 'utf8'));
    expect(stdin.stdout).toBe(csv.stdout);
    const row = cli(['predict', '--checkpoint', ckpt, '--row', `size=${ROWS[1].size},color=${ROWS[1].color},shape=${ROWS[1].shape}`, '--threshold', '0.99']);
    expect(row.status, row.stderr).toBe(0);
    expect(row.stdout).toBe(`clicked_probability,clicked_decision\n${probs[1]},${probs[1] >= 0.99 ? 1 : 0}\n`);
  });

  it('notes an unseen categorical value on stderr and still predicts', () => {
    const r = cli(['predict', '--checkpoint', ckpt, '--row', 'size=10,color=mauve,shape=disc']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('--row: column color: "mauve" was not seen in training and maps to the unknown row.');
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('says in one sentence what is wrong, naming the flag, file, row or column', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'size,color,shape\n1,red,disc\nbig,red,disc\n');
    const cases: [string[], RegExp][] = [
      [['predict'], /^shadertrain: predict needs --checkpoint FILE/],
      [['predict', '--checkpoint', join(dir, 'none.safetensors')], /^shadertrain: --checkpoint .*none\.safetensors: no such file\n$/],
      [['predict', '--checkpoint', ckpt], /^shadertrain: predict needs rows: give --input FILE/],
      [['predict', '--checkpoint', ckpt, '--input', bad], /^shadertrain: .*bad\.csv row 2 \(line 3\): column size "big" is not a number; give a number\.\n$/],
      [['predict', '--checkpoint', ckpt, '--row', 'size=1,color=red'], /^shadertrain: --row: column shape is missing; every row needs size, color, shape\.\n$/],
      [['predict', '--checkpoint', ckpt, '--row', 'size=1,color=red,shape=disc,age=3'], /^shadertrain: --row: column age is not one the model reads/],
      [['predict', '--checkpoint', ckpt, '--row', 'size=1,color=red,shape=disc', '--threshold', '2'], /^shadertrain: --threshold must be a number between 0 and 1, not "2"/],
      [['predict', '--checkpoint', ckpt, '--user', '3'], /^shadertrain: Unknown option '--user'/],
    ];
    for (const [args, want] of cases) {
      const r = cli(args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.replace(/^Warning: Vulkan[^\n]*\n(?: - [^\n]*\n|    at [^\n]*\n)*\n?/, '')).toMatch(want);
    }
  });

  it('says what an old checkpoint, or one of an experiment it does not know, lacks', () => {
    const { tensors, metadata } = decodeSafetensors(readFileSync(ckpt), ckpt);
    const { experiment: _e, data: _d, schema: _s, ...old } = metadata;
    const oldPath = join(dir, 'old.safetensors');
    writeFileSync(oldPath, encodeSafetensors(tensors, old));
    let r = cli(['predict', '--checkpoint', oldPath, '--row', 'size=1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/shadertrain: .*old\.safetensors is a multitask checkpoint from before checkpoints described themselves \(it has no experiment, data or schema metadata\); resume it with --resume and --checkpoint for one more epoch/);
    const otherPath = join(dir, 'other.safetensors');
    writeFileSync(otherPath, encodeSafetensors(tensors, { ...metadata, experiment: 'tabnet' }));
    r = cli(['predict', '--checkpoint', otherPath]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/other\.safetensors is a checkpoint of experiment "tabnet", which this shadertrain does not have/);
  });

  it('lists every experiment\'s predict flags in --help', () => {
    const r = cli(['predict', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/multitask checkpoints:[\s\S]*--input FILE[\s\S]*--row[\s\S]*--threshold P/);
  });
});
