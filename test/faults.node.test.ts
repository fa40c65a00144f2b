// Faults a user meets, through the built CLI: a rerun that would replace a checkpoint, two runs
// on one checkpoint or logdir, a killed run's stale lock, bad output paths, damaged checkpoints,
// another experiment's checkpoint, a write failing mid-run, two writers of one metrics.jsonl, a
// kill -9 followed by --resume, and Ctrl-C. Each ends in one sentence or in the same bytes as a run that
// was never disturbed. Tiny few-shot models: the point is the plumbing.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_TIMEOUT, fewshotCli, ownLines, TINY } from './support/cli-fewshot.ts';
import { cutJsonl, JsonlWriter } from '../src/log/jsonl-node.ts';
import { readCheckpoint } from '../src/graph/checkpoint.ts';
import { resumeCommand } from '../cli/interrupt.ts';

const TIMEOUT = CLI_TIMEOUT;
const cli = fewshotCli;
let dir = '';
let n = 0;
const fresh = (what: string): string => join(dir, `${what}-${n++}`);

/** Any command of the built CLI. */
function spawnCli(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', timeout: CLI_TIMEOUT });
  return { status: r.status, stderr: r.stderr };
}

async function waitFor(test: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((res) => child.on('close', (code, signal) => res({ code, signal, stderr })));
}

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
  dir = mkdtempSync(join(tmpdir(), 'shadertrain-faults-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('output paths, checked before any GPU work', () => {
  const file = (): string => {
    const f = fresh('file');
    writeFileSync(f, 'x');
    return f;
  };
  const cases: [string, () => string[], RegExp][] = [
    ['a checkpoint that is a directory', () => ['--checkpoint', dir], /^shadertrain: --checkpoint \S+ is a directory; give a file name inside it/],
    ['a checkpoint under a file', () => ['--checkpoint', join(file(), 'x.st')], /^shadertrain: --checkpoint \S+: \S+ is a file, not a directory; choose another path$/],
    ['a logdir under /proc', () => ['--logdir', '/proc/self/shadertrain-logs'], /^shadertrain: --logdir \/proc\/self\/shadertrain-logs is under \/proc, a kernel file system; choose a path on a disk$/],
    ['a checkpoint under /sys', () => ['--checkpoint', '/sys/x.safetensors'], /^shadertrain: --checkpoint \/sys\/x.safetensors is under \/sys, a kernel file system; choose a path on a disk$/],
    ['a logdir that is a file', () => ['--logdir', file()], /^shadertrain: --logdir \S+ is a file, not a directory; choose another path$/],
    ['--resume of a directory', () => ['--resume', dir], /^shadertrain: --resume \S+ is a directory; give the checkpoint file/],
    ['--resume of nothing', () => ['--resume', join(dir, 'none.safetensors')], /^shadertrain: --resume \S+: no such file$/],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const given = args();
      const r = cli([...TINY, '--steps', '5', ...(given.includes('--logdir') ? [] : ['--logdir', fresh('logs')]), ...given]);
      expect(r.status, r.stderr).toBe(1);
      expect(ownLines(r.stderr)).toHaveLength(1);
      expect(ownLines(r.stderr)[0]).toMatch(message);
      expect(r.stderr).not.toMatch(/adapter:/); // refused before the GPU was opened
    });
  }
});

describe('checkpoints: never replaced by accident, never shared, never trusted when damaged', () => {
  it('a fresh run refuses an existing checkpoint unless told --resume or --overwrite', () => {
    const ckpt = `${fresh('ck')}.safetensors`;
    expect(cli([...TINY, '--steps', '5', '--logdir', fresh('logs'), '--checkpoint', ckpt]).status).toBe(0);
    const before = readFileSync(ckpt);
    const r = cli([...TINY, '--steps', '5', '--logdir', fresh('logs'), '--checkpoint', ckpt]);
    expect(r.status).toBe(1);
    expect(ownLines(r.stderr)).toEqual([`shadertrain: --checkpoint ${ckpt} already exists; continue it with --resume ${ckpt}, or replace it with --overwrite`]);
    expect(readFileSync(ckpt).equals(before)).toBe(true);
    expect(cli([...TINY, '--steps', '10', '--logdir', fresh('logs'), '--checkpoint', ckpt, '--overwrite', '--seed', '3']).status).toBe(0);
    expect(readFileSync(ckpt).equals(before)).toBe(false);
  }, TIMEOUT);

  it('a second run on a checkpoint in use gets a sentence; a killed run’s lock is taken over', async () => {
    const ckpt = `${fresh('ck')}.safetensors`;
    const logdir = fresh('logs');
    const first = spawn(process.execPath, ['dist/cli.js', 'fewshot', ...TINY, '--steps', '100000', '--logdir', logdir, '--checkpoint', ckpt], { stdio: ['ignore', 'ignore', 'pipe'] });
    const done = exited(first);
    await waitFor(() => existsSync(`${ckpt}.lock`) && existsSync(`${logdir}.lock`));
    const second = cli([...TINY, '--steps', '5', '--logdir', fresh('logs'), '--checkpoint', ckpt, '--overwrite']);
    expect(second.status).toBe(1);
    expect(ownLines(second.stderr)).toEqual([`shadertrain: --checkpoint ${ckpt} is in use by another run (pid ${first.pid}); wait for it to finish or choose another path`]);
    const sameLogs = cli([...TINY, '--steps', '5', '--logdir', logdir]);
    expect(sameLogs.status).toBe(1);
    expect(ownLines(sameLogs.stderr)).toEqual([`shadertrain: --logdir ${logdir} is in use by another run (pid ${first.pid}); wait for it to finish or choose another path`]);
    first.kill('SIGKILL');
    await done;
    expect(existsSync(`${ckpt}.lock`)).toBe(true); // left behind by the kill
    const third = cli([...TINY, '--steps', '5', '--logdir', fresh('logs'), '--checkpoint', ckpt, '--overwrite']);
    expect(third.status, third.stderr).toBe(0);
    expect(existsSync(`${ckpt}.lock`)).toBe(false);
  }, TIMEOUT);

  it('flipped data bytes and a truncated file are refused, naming the file', () => {
    const ckpt = `${fresh('ck')}.safetensors`;
    expect(cli([...TINY, '--steps', '5', '--logdir', fresh('logs'), '--checkpoint', ckpt]).status).toBe(0);
    const bytes = readFileSync(ckpt);
    const flipped = `${fresh('flipped')}.safetensors`;
    const damaged = Buffer.from(bytes);
    damaged[damaged.length - 3] ^= 0x40; // inside the last tensor's data
    writeFileSync(flipped, damaged);
    const r = cli([...TINY, '--steps', '10', '--logdir', fresh('logs'), '--resume', flipped]);
    expect(r.status).toBe(1);
    expect(ownLines(r.stderr)).toHaveLength(1);
    expect(ownLines(r.stderr)[0]).toMatch(new RegExp(`^shadertrain: ${flipped} is damaged: tensor "[^"]+" does not match its checksum; use another checkpoint, or train afresh$`));
    const cut = `${fresh('cut')}.safetensors`;
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    const t = cli([...TINY, '--steps', '10', '--logdir', fresh('logs'), '--resume', cut]);
    expect(t.status).toBe(1);
    expect(ownLines(t.stderr)).toHaveLength(1);
    expect(ownLines(t.stderr)[0]).toContain(cut);
  }, TIMEOUT);
});

describe('a checkpoint of another experiment or other data, and a write that fails mid-run', () => {
  /** A small CSV for a multi-task run; `shift` changes its values (other data, same columns). */
  const csvFile = (shift: number): string => {
    const csv = `${fresh('rows')}.csv`;
    const rows = Array.from({ length: 200 }, (_, i) => `${((i + shift) % 17) / 2},${['red', 'green', 'blue'][i % 3]},${(i * 7) % 5 > 2 ? 1 : 0}`);
    writeFileSync(csv, `size,color,clicked\n${rows.join('\n')}\n`);
    return csv;
  };
  const multitask = (csv: string, epochs: number, more: string[]): string[] => ['multitask', '--dataset', 'csv', '--data', csv, '--labels', 'clicked', '--model', 'shared-bottom', '--epochs', String(epochs), '--batch_size', '64', '--logdir', fresh('logs'), ...more];
  let mtCsv = '';
  let mtCkpt = '';
  beforeAll(() => {
    mtCsv = csvFile(0);
    mtCkpt = `${fresh('mt')}.safetensors`;
    const mt = spawnCli(multitask(mtCsv, 1, ['--checkpoint', mtCkpt]));
    if (mt.status !== 0) throw new Error(`training exited ${mt.status}: ${mt.stderr}`);
  }, TIMEOUT);

  it('--resume of a multitask checkpoint in fewshot names both experiments, before any GPU work', () => {
    const r = cli([...TINY, '--steps', '10', '--logdir', fresh('logs'), '--resume', mtCkpt]);
    expect(r.status).toBe(1);
    expect(ownLines(r.stderr)).toEqual([`shadertrain: --resume ${mtCkpt} is a multitask checkpoint, not fewshot; continue it with shadertrain multitask --resume ${mtCkpt}`]);
    expect(r.stderr).not.toMatch(/adapter:/);
  }, TIMEOUT);

  it('--resume on other data names both data sets before any GPU work, and goes on with --force', () => {
    const other = csvFile(5);
    const r = spawnCli(multitask(other, 2, ['--resume', mtCkpt]));
    expect(r.status).toBe(1);
    expect(ownLines(r.stderr)).toHaveLength(1);
    expect(ownLines(r.stderr)[0]).toMatch(new RegExp(`^shadertrain: --resume ${mtCkpt} was trained on csv from \\S*rows-\\d+\\.csv \\(sha256 [0-9a-f]{12}\\), not on this --data, csv from \\S*rows-\\d+\\.csv \\(sha256 [0-9a-f]{12}\\); give the same --data, or --force to continue on this data$`));
    expect(r.stderr).not.toMatch(/adapter:/);
    const same = spawnCli(multitask(mtCsv, 2, ['--resume', mtCkpt, '--checkpoint', `${fresh('mt2')}.safetensors`]));
    expect(same.status, same.stderr).toBe(0);
    const forced = spawnCli(multitask(other, 2, ['--resume', mtCkpt, '--force']));
    expect(forced.status, forced.stderr).toBe(0);
  }, TIMEOUT);

  it('--resume with other settings names each difference before any GPU work, and goes on with --force; a longer run is no difference', () => {
    const r = spawnCli(multitask(mtCsv, 2, ['--resume', mtCkpt, '--seed', '7', '--lr', '0.01']));
    expect(r.status).toBe(1);
    expect(ownLines(r.stderr)).toEqual([`shadertrain: --resume ${mtCkpt} was trained with --lr 0.001 and --seed 0, not --lr 0.01 and --seed 7; give the same flags, or --force to continue with these`]);
    expect(r.stderr).not.toMatch(/adapter:/);
    // A multi-task model cannot go on with another split (--seed): --force still meets the trainer's refusal.
    const forced = spawnCli(multitask(mtCsv, 2, ['--resume', mtCkpt, '--seed', '7', '--force']));
    expect(ownLines(forced.stderr)).toEqual([`shadertrain: ${mtCkpt} was trained with other settings (seed: 0); resume with the same flags`]);
    // The few-shot seed, whose generator the checkpoint restores, is a setting like any other; --force goes on.
    const ckpt = `${fresh('fs')}.safetensors`;
    expect(cli([...TINY, '--steps', '5', '--logdir', fresh('logs'), '--checkpoint', ckpt]).status).toBe(0);
    const seed = cli([...TINY, '--steps', '10', '--logdir', fresh('logs'), '--resume', ckpt, '--seed', '3']);
    expect(seed.status).toBe(1);
    expect(ownLines(seed.stderr)).toEqual([`shadertrain: --resume ${ckpt} was trained with --seed 0, not --seed 3; give the same flag, or --force to continue with these`]);
    const goOn = cli([...TINY, '--steps', '10', '--logdir', fresh('logs'), '--resume', ckpt, '--seed', '3', '--force']);
    expect(goOn.status, goOn.stderr).toBe(0);
  }, TIMEOUT);

  it('a checkpoint write that fails mid-run is one sentence naming --checkpoint and the file', async () => {
    // The checkpoint's folder is replaced by a file once the first checkpoint is written: a real
    // write error (ENOTDIR), standing in for a full disk, which this machine cannot make safely.
    const folder = fresh('ckdir');
    const ckpt = join(folder, 'run.safetensors');
    const child = spawn(process.execPath, ['dist/cli.js', 'fewshot', ...TINY, '--steps', '100000', '--logdir', fresh('logs'), '--checkpoint', ckpt], { stdio: ['ignore', 'ignore', 'pipe'] });
    const done = exited(child);
    // Both of the first evaluation's files: the checkpoint, then the best one beside it. The next
    // evaluation writes the checkpoint first, so that is the write that fails.
    await waitFor(() => (existsSync(ckpt) && existsSync(join(folder, 'run.best.safetensors'))) || child.exitCode !== null);
    renameSync(folder, `${folder}.moved`);
    writeFileSync(folder, 'in the way');
    const r = await done;
    expect(r.code, r.stderr).toBe(1);
    expect(ownLines(r.stderr)).toHaveLength(1);
    expect(ownLines(r.stderr)[0]).toMatch(new RegExp(`^shadertrain: --checkpoint ${ckpt}: writing to it failed \\(E[A-Z]+: [^)]+\\); every checkpoint written before is whole \\(writes are atomic\\); free space or choose another path$`));
    expect(existsSync(join(`${folder}.moved`, 'run.safetensors'))).toBe(true);
  }, TIMEOUT);
});

describe('stopping and continuing', () => {
  it('kill -9 at random moments, each followed by --resume: the same checkpoint bytes, each step logged once, none lost', async () => {
    const straightLogs = fresh('logs');
    const straight = `${fresh('straight')}.safetensors`;
    expect(cli([...TINY, '--steps', '40', '--logdir', straightLogs, '--checkpoint', straight]).status).toBe(0);
    const ckpt = `${fresh('ck')}.safetensors`;
    const logdir = fresh('logs');
    const args = [...TINY, '--steps', '40', '--logdir', logdir, '--checkpoint', ckpt];
    // Moments anywhere in a run once it trains: inside a step, a log write or a checkpoint write.
    const delays: number[] = [];
    let finished = false;
    for (let kill = 0; kill < 4 && !finished; kill++) {
      const resumed = existsSync(ckpt);
      const child = spawn(process.execPath, ['dist/cli.js', 'fewshot', ...args, ...(resumed ? ['--resume', ckpt] : [])], { stdio: ['ignore', 'ignore', 'pipe'] });
      const done = exited(child);
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      await waitFor(() => (resumed ? stderr.includes('training ') : existsSync(ckpt)) || child.exitCode !== null);
      const delay = Math.floor(Math.random() * 400);
      delays.push(delay);
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      const r = await done;
      finished = r.code === 0;
    }
    const why = `killed after ${delays.join(', ')} ms`;
    if (!finished) {
      const r = cli([...args, '--resume', ckpt]);
      // A kill after the last checkpoint but before the exit leaves nothing to train.
      if (r.status !== 0) expect(ownLines(r.stderr), `${why}: ${r.stderr}`).toEqual(['shadertrain: the checkpoint has already trained 40 steps; ask for more with --steps']);
    }
    expect(readFileSync(ckpt).equals(readFileSync(straight)), why).toBe(true);
    const keys = (d: string): string[] => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; tag: string }).map((l) => `${l.step} ${l.tag}`);
    const got = keys(logdir);
    expect(new Set(got).size, why).toBe(got.length);
    expect([...got].sort(), why).toEqual([...keys(straightLogs)].sort());
  }, TIMEOUT);

  /** A logdir's metrics.jsonl as "step tag" keys, in order. */
  const metricKeys = (d: string): string[] => readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; tag: string }).map((l) => `${l.step} ${l.tag}`);
  const runJson = (d: string): { interrupted_at: number | null } => JSON.parse(readFileSync(join(d, 'run.json'), 'utf8')) as { interrupted_at: number | null };

  it('Ctrl-C stops a few-shot run at the next step, between evaluations, with its checkpoint there; the printed command finishes the same bytes', async () => {
    // The next evaluation is a million steps away: the old rule (stop after it) would never stop.
    const tiny = TINY.slice(0, TINY.indexOf('--eval_every'));
    const far = ['--eval_every', '1000000'];
    const ckpt = `${fresh('ck')}.safetensors`;
    const logdir = fresh('logs');
    const args = [...tiny, ...far, '--steps', '1000000', '--logdir', logdir, '--checkpoint', ckpt];
    const child = spawn(process.execPath, ['dist/cli.js', 'fewshot', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const done = exited(child);
    // The step-0 evaluation's files, the best one written last: training starts next.
    await waitFor(() => existsSync(ckpt.replace(/\.safetensors$/, '.best.safetensors')) || child.exitCode !== null);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('\nstopping at the next step, where its checkpoint is written; press Ctrl-C again to stop at once\n');
    const m = /\nstopped at step (\d+) of 1000000; checkpoint: (\S+); continue with:\n {2}(.*)\n/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const at = Number(m![1]);
    expect(m![2]).toBe(ckpt);
    expect(m![3]).toBe(resumeCommand('fewshot', args, ckpt));
    expect(readCheckpoint(readFileSync(ckpt), ckpt).step).toBe(at);
    expect(runJson(logdir).interrupted_at).toBe(at);
    expect(metricKeys(logdir)).toEqual(['0 Loss/test', '0 Accuracy/test']); // no evaluation where it stopped
    // The printed command, told to end 20 steps on (--steps may change on a resume), ends in the bytes of a run never stopped.
    const end = String(at + 20);
    const again = m![3].split(' ').slice(2);
    again[again.indexOf('--steps') + 1] = end;
    const resumed = cli(again);
    expect(resumed.status, resumed.stderr).toBe(0);
    const straight = `${fresh('straight')}.safetensors`;
    const straightLogs = fresh('logs');
    expect(cli([...tiny, ...far, '--steps', end, '--logdir', straightLogs, '--checkpoint', straight]).status).toBe(0);
    expect(readFileSync(ckpt).equals(readFileSync(straight))).toBe(true);
    // Each evaluation's lines once: step 0's from the stopped run, the last from the resumed one.
    expect(metricKeys(logdir)).toEqual(metricKeys(straightLogs));
    expect(runJson(logdir).interrupted_at).toBeNull();
  }, TIMEOUT);

  it('Ctrl-C without --checkpoint stops at the next step and says nothing was saved', async () => {
    const logdir = fresh('logs');
    const args = [...TINY.slice(0, TINY.indexOf('--eval_every')), '--eval_every', '1000000', '--steps', '1000000', '--logdir', logdir];
    const child = spawn(process.execPath, ['dist/cli.js', 'fewshot', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const done = exited(child);
    await waitFor(() => existsSync(join(logdir, 'best.safetensors')) || child.exitCode !== null);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('\nstopping at the next step; press Ctrl-C again to stop at once\n');
    const m = /\nstopped at step (\d+) of 1000000; nothing was saved \(no --checkpoint\)\n/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(runJson(logdir).interrupted_at).toBe(Number(m![1]));
  }, TIMEOUT);

  it('Ctrl-C stops an epoch-counted run after the evaluation of the epoch it is in, and says which', async () => {
    const ckpt = `${fresh('ck')}.safetensors`;
    const logdir = fresh('logs');
    const args = ['--dataset', 'mmoe-synthetic', '--rows', '2000', '--epochs', '1000', '--logdir', logdir, '--checkpoint', ckpt];
    const child = spawn(process.execPath, ['dist/cli.js', 'multitask', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const done = exited(child);
    await waitFor(() => existsSync(ckpt) || child.exitCode !== null);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code, r.stderr).toBe(130);
    const said = /\nstopping after epoch (\d+)'s evaluation and its checkpoint; press Ctrl-C again to stop at once\n/.exec(r.stderr);
    expect(said, r.stderr).not.toBeNull();
    const m = /\nstopped at epoch (\d+) of 1000; checkpoint: (\S+); continue with:\n {2}(.*)\n/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(m![1]).toBe(said![1]);
    const at = Number(m![1]);
    expect(m![3]).toBe(resumeCommand('multitask', args, ckpt));
    expect(runJson(logdir).interrupted_at).toBe(at);
    expect(Math.max(...metricKeys(logdir).map((k) => Number(k.split(' ')[0])))).toBe(at); // its evaluation logged, and its checkpoint the last
  }, TIMEOUT);
});

describe('a GPU device lost mid-run (SHADERTRAIN_FAULT_LOSE_DEVICE destroys it after those steps)', () => {
  const lose = (at: string, args: string[]): { status: number | null; stderr: string } => {
    const r = spawnSync(process.execPath, ['dist/cli.js', 'fewshot', ...args], { encoding: 'utf8', timeout: CLI_TIMEOUT, env: { ...process.env, SHADERTRAIN_FAULT_LOSE_DEVICE: at } });
    return { status: r.status, stderr: r.stderr };
  };
  /** metrics.jsonl without its wall times and run id. */
  const logged = (d: string): string[] =>
    readFileSync(join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; tag: string; value: number }).map((l) => `${l.step} ${l.tag} ${l.value}`);
  let straight = '';
  let straightLogs = '';
  beforeAll(() => {
    straight = `${fresh('straight')}.safetensors`;
    straightLogs = fresh('logs');
    expect(cli([...TINY, '--steps', '20', '--logdir', straightLogs, '--checkpoint', straight]).status).toBe(0);
  });

  it('is survived: each loss said once, the same checkpoint bytes and log lines as an undisturbed run', () => {
    const ckpt = `${fresh('ck')}.safetensors`;
    const logdir = fresh('logs');
    // Mid-round, and again soon after going on.
    const r = lose('8,12', [...TINY, '--steps', '20', '--logdir', logdir, '--checkpoint', ckpt]);
    expect(r.status, r.stderr).toBe(0);
    const said = r.stderr.split('\n').filter((l) => l.includes('device was lost'));
    expect(said, r.stderr).toHaveLength(2);
    for (const l of said) expect(l).toMatch(/^the GPU device was lost by step \d+ \(destroyed: device was destroyed\); went on from step 5 on a new device, which changes no result$/);
    expect(ownLines(r.stderr)).toEqual([]);
    expect(readFileSync(ckpt).equals(readFileSync(straight))).toBe(true);
    expect(logged(logdir)).toEqual(logged(straightLogs));
  }, TIMEOUT);

  it('past three losses the run gives up in one sentence, and the command it prints finishes the same bytes', () => {
    const ckpt = `${fresh('ck')}.safetensors`;
    const args = [...TINY, '--steps', '20', '--logdir', fresh('logs'), '--checkpoint', ckpt];
    // A loss in each of four tries at the second round (steps are counted again after each).
    const r = lose('8,13,18,23', args);
    expect(r.status, r.stderr).toBe(1);
    expect(ownLines(r.stderr), r.stderr).toEqual([
      `shadertrain: the GPU device was lost 4 times in this run, the last by step 10 (destroyed: device was destroyed); lower the batch size or update the GPU driver; checkpoint: ${ckpt}; continue with:`,
    ]);
    const m = /continue with:\n {2}shadertrain fewshot (.*)\n/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const again = cli(m![1].split(' '));
    expect(again.status, again.stderr).toBe(0);
    expect(readFileSync(ckpt).equals(readFileSync(straight))).toBe(true);
  }, TIMEOUT);
});

describe('metrics.jsonl shared and cut', () => {
  it('two writers appending to one file keep every line whole (O_APPEND, one write per line)', () => {
    const d = fresh('shared');
    const a = new JsonlWriter(d, { run: 'a' });
    const b = new JsonlWriter(d, { run: 'b' });
    // The first writer creates the file, the second appends to it: the case that lost lines when
    // only the second wrote in append mode.
    for (let step = 0; step < 50; step++) {
      a.scalars(step, { loss: step, 'test/accuracy': 0.5 });
      b.scalar('loss', step, step);
    }
    a.close();
    b.close();
    const lines = readFileSync(join(d, 'metrics.jsonl'), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    const parsed = lines.map((l) => JSON.parse(l) as { run: string; step: number });
    expect(parsed.filter((l) => l.run === 'a')).toHaveLength(100);
    expect(parsed.filter((l) => l.run === 'b')).toHaveLength(50);
  });


  it('after a stop, is cut back to the checkpoint’s step, with a cut last line dropped', () => {
    const d = fresh('jsonl');
    mkdirSync(d);
    const p = join(d, 'metrics.jsonl');
    const line = (step: number): string => `${JSON.stringify({ step, tag: 'loss', value: 1, wall_time: 1 })}\n`;
    writeFileSync(p, [0, 1, 2, 3, 4].map(line).join('') + '{"step":5,"tag":"lo');
    expect(cutJsonl(p, 2)).toBe(3);
    expect(readFileSync(p, 'utf8')).toBe([0, 1, 2].map(line).join(''));
    expect(cutJsonl(p, 2)).toBe(0);
  });
});
