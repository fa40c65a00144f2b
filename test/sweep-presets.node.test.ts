// The --experiments presets shipped as sweep specs (sweeps/*.yaml): each runs exactly its
// preset's runs, and hw0 as a sweep writes the same table as `recommender --experiments hw0`
// (on a slice of MovieLens 100K, one epoch).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { DATASETS } from '../cli/datasets.ts';
import { configFromArgs } from '../cli/run-experiment.ts';
import { argsOf } from '../cli/sweep.ts';
import { EXPERIMENTS } from '../src/experiments/registry.ts';
import type { AnyExperiment } from '../src/experiments/types.ts';
import { expand } from '../src/sweep/expand.ts';
import { parseSweep } from '../src/sweep/spec.ts';

const TIMEOUT = 300_000;
const ML100K = join('..', 'shared', 'data', 'ml-100k', 'u.data');
const dir = mkdtempSync(join(tmpdir(), 'shadertrain-sweep-presets-'));
const optionsOf = (ex: AnyExperiment) => [...ex.options, ...(DATASETS[ex.dataset]?.options ?? [])];

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
});

it('ships every preset of every experiment as a sweep spec that runs exactly its runs', () => {
  const shipped = readdirSync('sweeps').filter((f) => f.endsWith('.yaml'));
  const presets = EXPERIMENTS.flatMap((ex) => ex.presets.map((p) => ({ ex, p })));
  expect(shipped.sort()).toEqual(presets.map(({ p }) => `${p.name}.yaml`).sort());
  for (const { ex, p } of presets) {
    const spec = parseSweep(readFileSync(join('sweeps', `${p.name}.yaml`), 'utf8'), p.name, EXPERIMENTS, optionsOf);
    expect(spec.experiment).toBe(ex);
    expect(spec.report).toBe(p.name);
    const base = configFromArgs(ex, argsOf(spec.fixed, optionsOf(ex)));
    const configs = expand(spec).map((c) => configFromArgs(ex, argsOf(c.settings, optionsOf(ex))));
    expect(configs, p.name).toEqual(p.runs(base).map((r) => r.config));
  }
});

function run(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', timeout: TIMEOUT });
  return { status: r.status, stderr: r.stderr };
}

/** The markdown table without its timing columns (ms/step, s/epoch), which no two runs share. */
function withoutTimings(table: string): string {
  return table
    .split('\n')
    .map((l) => (l.startsWith('|') ? l.split('|').slice(0, -3).join('|') : l))
    .join('\n');
}

it.skipIf(!existsSync(ML100K))('hw0 as a sweep writes the same table as --experiments hw0', () => {
  // The first 3,000 ratings of MovieLens 100K, one epoch, a small model.
  const data = join(dir, 'u.data');
  writeFileSync(data, readFileSync(ML100K, 'utf8').split('\n').slice(0, 3000).join('\n') + '\n');
  const small = ['--data', data, '--epochs', '1', '--batch_size', '64', '--embedding_dim', '8', '--layer_sizes', '24,16', '--seed', '3'];
  const preset = run(['recommender', '--experiments', 'hw0', ...small, '--logdir', join(dir, 'preset')]);
  expect(preset.status, preset.stderr).toBe(0);
  const sweep = run(['sweep', 'sweeps/hw0.yaml', '--parallel', '2', ...small, '--logdir', join(dir, 'sweep')]);
  expect(sweep.status, sweep.stderr).toBe(0);
  const report = run(['sweep', 'sweeps/hw0.yaml', '--report', ...small, '--logdir', join(dir, 'sweep')]);
  expect(report.status, report.stderr).toBe(0);
  const a = readFileSync(join(dir, 'preset', 'report.md'), 'utf8');
  const b = readFileSync(join(dir, 'sweep', 'report.md'), 'utf8');
  expect(b).toMatch(/\| shared 0\.99\/0\.01 +\|/);
  expect(withoutTimings(b)).toBe(withoutTimings(a));
  expect(readFileSync(join(dir, 'sweep', 'report.svg'), 'utf8')).toMatch(/^<svg/);
});
