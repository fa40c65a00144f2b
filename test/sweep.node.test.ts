// `shadertrain sweep` as a user runs it: the numbered list, a typo refused before anything runs,
// --index I running exactly configuration I, the cluster files, and a 12-configuration MMoE
// sweep run two at a time, stopped, and finished by a rerun that redoes nothing finished.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const TIMEOUT = 240_000;
const dir = mkdtempSync(join(tmpdir(), 'shadertrain-sweep-'));

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', 'sweep', ...args], { encoding: 'utf8', timeout: TIMEOUT });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function specFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

// 12 configurations: 2 models × 3 correlations × 2 seeds, on a few hundred rows.
const MMOE = `
experiment: multitask
fixed:
  dataset: mmoe-synthetic
  rows: 400
  epochs: 3
  batch_size: 64
axes:
  - grid:
      model: [shared-bottom, mmoe]
      rho: [0, 0.5, 1]
  - seeds: 2
`;

interface Result {
  index: number;
  settings: Record<string, unknown>;
  result: { config: Record<string, unknown>; evaluations: { at: number }[] };
}

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
});

describe('shadertrain sweep', () => {
  it('lists the configurations in a stable numbered order', () => {
    const spec = specFile('list.yaml', MMOE);
    const r = cli([spec, '--list', '--logdir', join(dir, 'list-runs')]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(12);
    expect(lines[0]).toBe(' 0  model=shared-bottom rho=0 seed=0');
    expect(lines[11]).toBe('11  model=mmoe rho=1 seed=1');
    expect(cli([spec, '--list', '--logdir', join(dir, 'list-runs')]).stdout).toBe(r.stdout);
    expect(existsSync(join(dir, 'list-runs'))).toBe(false);
  });

  it('refuses a typo in one sentence naming the file and the key, and starts nothing', () => {
    const spec = specFile('typo.yaml', MMOE.replace('model: [shared-bottom, mmoe]', 'model: [shared-bottom, mmoee]'));
    const logdir = join(dir, 'typo-runs');
    const r = cli([spec, '--logdir', logdir]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(new RegExp(`^shadertrain: ${spec}: axes\\[0\\]\\.grid\\.model\\[1\\] must be [^\\n]*, not "mmoee"$`));
    // A value the option takes but the whole config does not: the experiment's own checks, per configuration.
    const range = cli([specFile('range.yaml', MMOE.replace('rho: [0, 0.5, 1]', 'rho: [0, 0.5, 2]')), '--logdir', logdir]);
    expect(range.status).toBe(1);
    expect(range.stderr.trim()).toBe(`shadertrain: ${join(dir, 'range.yaml')}: configuration 4 (model=shared-bottom rho=2 seed=0): --rho must be from -1 to 1, not 2`);
    expect(existsSync(logdir)).toBe(false);
    const flag = cli([specFile('flag.yaml', MMOE), '--logdir', logdir, '--epochz', '2']);
    expect(flag.status).toBe(1);
    expect(flag.stderr).toMatch(/Unknown option '--epochz'/);
    const swept = cli([specFile('swept.yaml', MMOE), '--logdir', logdir, '--rho', '0.3']);
    expect(swept.stderr.trim()).toBe(`shadertrain: --rho cannot be given to the sweep: ${join(dir, 'swept.yaml')}'s axes set it`);
    expect(existsSync(logdir)).toBe(false);
  });

  it('--index I runs exactly configuration I', () => {
    const spec = specFile('index.yaml', MMOE.replace('epochs: 3', 'epochs: 1'));
    const logdir = join(dir, 'index-runs');
    const r = cli([spec, '--index', '7', '--logdir', logdir]);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(logdir).sort()).toEqual(['07-model=mmoe_rho=0_seed=1', 'events.out.tfevents.0000000000.shadertrain-sweep']);
    // TensorBoard's HParams view: the run's hyperparameters and status, the sweep's experiment
    // (the encodings are tested byte by byte in hparams.test.ts).
    const run = join(logdir, '07-model=mmoe_rho=0_seed=1');
    const events = Buffer.concat(readdirSync(run).filter((f) => f.startsWith('events.out.tfevents.')).map((f) => readFileSync(join(run, f))));
    for (const s of ['_hparams_/session_start_info', '_hparams_/session_end_info', 'hparams', 'model', 'mmoe', 'rho']) expect(events.includes(s), s).toBe(true);
    const experiment = readFileSync(join(logdir, 'events.out.tfevents.0000000000.shadertrain-sweep'));
    for (const s of ['_hparams_/experiment', 'model', 'shared-bottom', 'rho', 'seed', 'test/y1 MSE', 'val/y2 MSE']) expect(experiment.includes(s), s).toBe(true);
    const f = JSON.parse(readFileSync(join(logdir, '07-model=mmoe_rho=0_seed=1', 'result.json'), 'utf8')) as Result;
    expect(f.index).toBe(7);
    expect(f.settings).toEqual({ dataset: 'mmoe-synthetic', rows: 400, epochs: 1, batch_size: 64, model: 'mmoe', rho: 0, seed: 1 });
    expect(f.result.config).toMatchObject({ dataset: 'mmoe-synthetic', rows: 400, epochs: 1, batchSize: 64, model: 'mmoe', rho: 0, seed: 1 });
    const again = cli([spec, '--index', '7', '--logdir', logdir]);
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(/configuration 7 \(model=mmoe rho=0 seed=1\) has finished/);
    // Stopped after its final checkpoint but before its result.json: the result is recovered from
    // the run's record of evaluations, and nothing trains again.
    const resultPath = join(run, 'result.json');
    rmSync(resultPath);
    const recovered = cli([spec, '--index', '7', '--logdir', logdir]);
    expect(recovered.status, recovered.stderr).toBe(0);
    expect(recovered.stderr).toMatch(/configuration 7 \(model=mmoe rho=0 seed=1\) had finished training when it was stopped; its result is recovered from .*evaluations\.jsonl/);
    expect(recovered.stderr).not.toMatch(/epoch/);
    const back = JSON.parse(readFileSync(resultPath, 'utf8')) as Result;
    expect(back.settings).toEqual(f.settings);
    expect(back.result.evaluations).toEqual(f.result.evaluations);
    expect(cli([spec, '--index', '12', '--logdir', logdir]).stderr).toMatch(/--index must be an integer from 0 to 11 \(.* has 12 configurations\), not "12"/);
  });

  it('emits a Kubernetes Job and a Slurm script covering every index', () => {
    const spec = specFile('emit.yaml', MMOE);
    const k8s = cli([spec, '--emit', 'k8s', '--image', 'shadertrain:test', '--parallelism', '3', '--logdir', 'runs/mmoe']);
    expect(k8s.status, k8s.stderr).toBe(0);
    const job = parse(k8s.stdout) as { spec: { completions: number; parallelism: number; template: { spec: { containers: { command: string[]; volumeMounts: { mountPath: string }[] }[] } } } };
    expect(job.spec.completions).toBe(12);
    expect(job.spec.parallelism).toBe(3);
    const [container] = job.spec.template.spec.containers;
    expect(container.command).toEqual(['shadertrain', 'sweep', spec, '--index', '$(JOB_COMPLETION_INDEX)', '--logdir', '/work/runs/mmoe']);
    // The runs go to the volume.
    expect(container.volumeMounts[0].mountPath).toBe('/work/runs/mmoe');
    expect(cli([spec, '--emit', 'k8s']).stderr).toMatch(/--emit k8s needs --image/);
    const slurm = cli([spec, '--emit', 'slurm', '--logdir', 'runs/mmoe']);
    expect(slurm.stdout).toMatch(/^#SBATCH --array=0-11%12$/m);
    expect(slurm.stdout).toMatch(/--index "\$SLURM_ARRAY_TASK_ID" --logdir runs\/mmoe$/m);
  });

  // Two dozen processes on SwiftShader: minutes on a loaded machine, so a wide limit.
  it('runs 12 MMoE configurations two at a time, is stopped, and finishes on a rerun without redoing finished runs', { timeout: 900_000 }, async () => {
    const spec = specFile('mmoe.yaml', MMOE);
    const logdir = join(dir, 'mmoe-runs');
    const results = (): string[] => (existsSync(logdir) ? readdirSync(logdir).filter((d) => existsSync(join(logdir, d, 'result.json'))) : []);
    const begun = (): string[] => (existsSync(logdir) ? readdirSync(logdir).filter((d) => existsSync(join(logdir, d, 'checkpoint.safetensors')) && !existsSync(join(logdir, d, 'result.json'))) : []);
    const first = spawn(process.execPath, ['dist/cli.js', 'sweep', spec, '--parallel', '2', '--logdir', logdir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let firstErr = '';
    first.stderr.on('data', (b: Buffer) => (firstErr += b.toString()));
    const exited = new Promise<number | null>((resolve) => first.on('exit', (code) => resolve(code)));
    // Stop it once a configuration has finished and another is part-way (its checkpoint written).
    for (let i = 0; !(results().length >= 1 && begun().length >= 1); i++) {
      if (first.exitCode !== null) throw new Error(`the sweep ended before it could be stopped:\n${firstErr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    first.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(firstErr).toMatch(/sweep: stopped by SIGTERM/);
    const done = results();
    const interrupted = begun();
    expect(done.length).toBeGreaterThanOrEqual(1);
    expect(done.length).toBeLessThan(12);
    // The part-way run seen before the stop is either still part-way or, under load, finished as the stop arrived.
    expect(done.length + interrupted.length).toBeGreaterThanOrEqual(2);
    const stamps = new Map(done.map((d) => [d, statSync(join(logdir, d, 'result.json')).mtimeMs]));

    const second = cli([spec, '--parallel', '2', '--logdir', logdir]);
    expect(second.status, second.stderr).toBe(0);
    // No run to resume when the part-way one finished as the stop arrived.
    const resuming = interrupted.length > 0 ? ` \\(\\d+ resume from their checkpoints\\)` : '';
    expect(second.stderr).toMatch(new RegExp(`sweep: 12 configurations, ${done.length} finished before \\(skipped\\), ${12 - done.length} to run${resuming}, 2 at a time`));
    expect(second.stderr).toMatch(/sweep: all 12 configurations have finished/);
    expect(results()).toHaveLength(12);
    // Finished runs were not redone; an interrupted one continued from its checkpoint.
    for (const [d, t] of stamps) expect(statSync(join(logdir, d, 'result.json')).mtimeMs, d).toBe(t);
    const ats = (d: string): number[] => (JSON.parse(readFileSync(join(logdir, d, 'result.json'), 'utf8')) as Result).result.evaluations.map((e) => e.at);
    const whole = ats(done[0]);
    expect(whole.slice(-3)).toEqual([1, 2, 3]);
    for (const d of interrupted) {
      // Resumed from its checkpoint (or, stopped after its final one, its result recovered).
      const log = readFileSync(join(logdir, `${d}.log`), 'utf8');
      expect(log, d).toMatch(/resuming from .*checkpoint\.safetensors|had finished training when it was stopped/);
      const f = JSON.parse(readFileSync(join(logdir, d, 'result.json'), 'utf8')) as Result & { result: { start: number } };
      if (/resuming from/.test(log)) expect(f.result.start, d).toBeGreaterThanOrEqual(1);
      // Its result has the whole run's evaluations: the earlier process's and the resumed one's.
      expect(ats(d), d).toEqual(whole);
    }
    const listed = cli([spec, '--list', '--logdir', logdir]).stdout.trim().split('\n');
    expect(listed.every((l) => l.endsWith('[finished]'))).toBe(true);

    // The report: a row per configuration, mean ± sd over its two seeds, and a chart.
    const report = cli([spec, '--report', '--logdir', logdir]);
    expect(report.status, report.stderr).toBe(0);
    const table = readFileSync(join(logdir, 'report.md'), 'utf8');
    const rows = table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| model') && !l.startsWith('| --'));
    expect(rows.map((r) => r.split('|').slice(1, 4).map((x) => x.trim()))).toEqual([
      ['shared-bottom', '0', '2'],
      ['shared-bottom', '0.5', '2'],
      ['shared-bottom', '1', '2'],
      ['mmoe', '0', '2'],
      ['mmoe', '0.5', '2'],
      ['mmoe', '1', '2'],
    ]);
    expect(table).toMatch(/\| model +\| rho +\| seeds +\| val\/y1 MSE \(mean ± sd\) \|/);
    expect(rows.every((r) => /\d\.\d{4} ± \d\.\d{4}/.test(r))).toBe(true);
    expect(readFileSync(join(logdir, 'report.svg'), 'utf8')).toMatch(/^<svg/);
  });
});
