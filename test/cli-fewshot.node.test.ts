// `shadertrain fewshot` as a user runs it (the built CLI, the embedded Omniglot set): bad input
// is one sentence and a non-zero exit with nothing written; a short run logs the course's tags;
// a run resumed from its checkpoint ends bit for bit where an uninterrupted one does; the hw1
// grid writes its table and chart. Tiny models: the point is the plumbing, not the accuracy.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../src/graph/checkpoint.ts';
import { fewshotCli, ownLines, TINY } from './support/cli-fewshot.ts';
import { decodeEvent, decodeTextTensor, readRecords } from './support/tensorboard-read.ts';

const cli = fewshotCli;
let dir = '';

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
  dir = mkdtempSync(join(tmpdir(), 'shadertrain-fewshot-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('shadertrain fewshot: bad input', () => {
  const cases: [string, string[], RegExp][] = [
    ['N above the characters of a split', ['--num_classes', '500'], /^shadertrain: --num_classes 500 is more than the 423 characters of the meta-test split .*use --num_classes 423 or less$/],
    ['K + 1 above the 20 drawings', ['--num_shot', '20'], /^shadertrain: --num_shot 20 needs 21 distinct drawings per character .*the Omniglot set has 20; use --num_shot 19 or less$/],
    ['a data path that does not exist', ['--data', '/nonexistent/omniglot'], /^shadertrain: The Omniglot data path \/nonexistent\/omniglot does not exist\.$/],
    ['a bad flag value', ['--meta_batch_size', '0'], /^shadertrain: --meta_batch_size must be an integer from 1 up, not "0"$/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: one sentence, exit 1, no logdir or checkpoint`, () => {
      const logdir = join(dir, 'bad', 'logs');
      const ckpt = join(dir, 'bad', 'model.safetensors');
      const r = cli([...args, '--steps', '3', '--logdir', logdir, '--checkpoint', ckpt]);
      expect(r.status).toBe(1);
      const lines = ownLines(r.stderr);
      expect(lines.length, r.stderr).toBe(1);
      expect(lines[0]).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.(?:js|ts|mjs):\d+:\d+/);
      expect(existsSync(join(dir, 'bad'))).toBe(false);
    });
  }
});

describe('shadertrain fewshot: training', () => {
  it('logs Loss/train, Loss/test and Accuracy/test; a resumed run ends bit for bit like a straight one', () => {
    const straight = cli([...TINY, '--steps', '10', '--json', '--logdir', join(dir, 'a'), '--checkpoint', join(dir, 'a.safetensors')]);
    expect(straight.status, straight.stderr).toBe(0);
    const out = JSON.parse(straight.stdout) as { input: string; ms_per_step: number; evals: { step: number; test_loss: number; test_accuracy: number; train_loss: number | null }[] };
    expect(out.input).toBe('bags');
    expect(out.evals.map((e) => e.step)).toEqual([0, 5, 10]);
    expect(Math.abs(out.evals[0].test_loss - Math.log(2))).toBeLessThan(0.05); // near ln N at the start
    expect(out.evals[0].train_loss).toBeNull();
    expect(out.ms_per_step).toBeGreaterThan(0);
    const lines = readFileSync(join(dir, 'a', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; tag: string; value: number });
    expect(lines.filter((l) => l.step === 10).map((l) => l.tag).sort()).toEqual(['Accuracy/test', 'Loss/test', 'Loss/train']);
    expect(lines.find((l) => l.step === 10 && l.tag === 'Accuracy/test')?.value).toBe(out.evals[2].test_accuracy);
    expect(readdirSync(join(dir, 'a')).some((f) => f.startsWith('events.out.tfevents.'))).toBe(true);
    // run.json: the run describes itself.
    const record = JSON.parse(readFileSync(join(dir, 'a', 'run.json'), 'utf8')) as Record<string, unknown> & { command: string[]; config: Record<string, unknown>; final: { step: number; metrics: Record<string, number> }; adapter: { vendor: string } };
    expect(record.experiment).toBe('fewshot');
    expect(record.command.slice(0, 2)).toEqual(['shadertrain', 'fewshot']);
    expect(record.command).toContain('--steps');
    expect(record.config.numClasses).toBe(2);
    expect(record.final.step).toBe(10);
    expect(record.final.metrics['Accuracy/test']).toBe(out.evals[2].test_accuracy);
    expect(typeof record.version).toBe('string');
    expect(typeof record.adapter.vendor).toBe('string');
    expect(Date.parse(record.ended as string)).toBeGreaterThanOrEqual(Date.parse(record.started as string));
    // The data's fingerprint, as the checkpoint records it.
    const ckptData = readCheckpoint(readFileSync(join(dir, 'a.safetensors')), 'a').data;
    expect((record.data as { fingerprint: { sha256: string } }).fingerprint.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(record.data).toMatchObject({ name: 'omniglot', fingerprint: ckptData?.fingerprint });
    // TensorBoard's TEXT tab: the config as a markdown table of flags and values, in the event file.
    const configText = (logdir: string): string[] =>
      readdirSync(logdir)
        .filter((f) => f.startsWith('events.out.tfevents.'))
        .flatMap((f) => readRecords(readFileSync(join(logdir, f))).map(decodeEvent))
        .flatMap((e) => e.values.filter((v) => v.tag === 'config/text_summary'))
        .map((v) => {
          expect(new TextDecoder().decode(v.metadata)).toContain('text');
          const t = decodeTextTensor(v.tensor as Uint8Array);
          expect(t.dtype).toBe(7); // DT_STRING
          return t.text;
        });
    const [table] = configText(join(dir, 'a'));
    expect(table).toMatch(/^\| flag +\| value +\|\n\| -+ \| -+ \|\n/);
    for (const row of [/^\| --num_classes +\| 2 +\|$/m, /^\| --steps +\| 10 +\|$/m, /^\| --lr +\| 0\.001 +\|$/m, /^\| --input +\| auto +\|$/m]) expect(table).toMatch(row);

    const half = cli([...TINY, '--steps', '5', '--logdir', join(dir, 'b'), '--checkpoint', join(dir, 'b.safetensors')]);
    expect(half.status, half.stderr).toBe(0);
    const resumed = cli([...TINY, '--steps', '10', '--json', '--logdir', join(dir, 'b'), '--checkpoint', join(dir, 'b10.safetensors'), '--resume', join(dir, 'b.safetensors')]);
    expect(resumed.status, resumed.stderr).toBe(0);
    const after = JSON.parse(resumed.stdout) as typeof out & { start_step: number };
    expect(after.start_step).toBe(5);
    expect(after.evals.map((e) => e.step)).toEqual([10]);
    expect(after.evals[0].test_loss).toBe(out.evals[2].test_loss);
    expect(readFileSync(join(dir, 'b10.safetensors')).equals(readFileSync(join(dir, 'a.safetensors')))).toBe(true);
    // Each event file says what its run was given: the first run's and the resumed run's.
    expect(configText(join(dir, 'b')).map((t) => /--steps +\| (\d+)/.exec(t)?.[1]).sort()).toEqual(['10', '5']);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const done = cli([...TINY, '--steps', '10', '--logdir', join(dir, 'c'), '--resume', join(dir, 'a.safetensors')]);
    expect(done.status).toBe(1);
    expect(ownLines(done.stderr)).toEqual(['shadertrain: the checkpoint has already trained 10 steps; ask for more with --steps']);
    expect(existsSync(join(dir, 'c'))).toBe(false);
  });

  it('--experiments hw1 runs the grid and writes a markdown table and an SVG chart', () => {
    const logdir = join(dir, 'hw1');
    const r = cli(['--experiments', 'hw1', '--hidden_size', '4', '--meta_batch_size', '2', '--eval_batch_size', '4', '--steps', '2', '--eval_every', '1', '--logdir', logdir, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { runs: { num_classes: number; num_shot: number; evals: unknown[] }[]; table: string; chart: string };
    expect(out.runs.map((x) => [x.num_classes, x.num_shot])).toEqual([
      [2, 1],
      [2, 2],
      [3, 1],
      [4, 1],
    ]);
    expect(out.runs.every((x) => x.evals.length === 3)).toBe(true);
    const md = readFileSync(join(logdir, 'report.md'), 'utf8');
    expect(md).toMatch(/\| N=4, K=1 +\| +0\.250 \|/);
    expect(readFileSync(join(logdir, 'report.svg'), 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*Accuracy\/test[\s\S]*N=2, K=2[\s\S]*<\/svg>\s*$/);
    expect(readdirSync(logdir).sort()).toEqual(['N2_K1', 'N2_K2', 'N3_K1', 'N4_K1', 'report.md', 'report.svg']);
  });
});
