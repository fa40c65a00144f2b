// One run's epochs agree in all six outputs: the console's lasting lines, metrics.jsonl, the
// TensorBoard event file and --json (from the CLI), and the page's charts, CSV and JSON (its
// functions, fed by the same trainLoop the page's worker runs, on the same data and seed — so the
// values match the CLI's bit for bit too). Epochs count from 1: epoch 1 is the evaluation after
// the first epoch.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATASETS } from '../cli/datasets.ts';
import { trainLoop } from '../src/experiments/loop.ts';
import { experiment } from '../src/experiments/registry.ts';
import type { Evaluation } from '../src/experiments/types.ts';
import { Rng } from '../src/random.ts';
import { addEvaluation, newRun, runCsv, runJson } from '../web/ui/runs.ts';
import { useGpu } from './support/gpu.ts';
import { decodeEvent, readRecords } from './support/tensorboard-read.ts';

const g = useGpu();
let dir = '';

/** Made-up ratings in the u.data layout (never MovieLens itself). */
function ratings(n: number): string {
  const rng = new Rng(5);
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < n) {
    const u = 1 + rng.int(30);
    const i = 1 + rng.int(40);
    if (seen.has(`${u},${i}`)) continue;
    seen.add(`${u},${i}`);
    out.push(`${u}\t${i}\t${1 + ((u + 2 * i) % 5)}\t${880000000 + out.length}`);
  }
  return out.join('\n') + '\n';
}

beforeAll(() => {
  execFileSync(process.execPath, ['scripts/build.mjs', 'cli']);
  dir = mkdtempSync(join(tmpdir(), 'shadertrain-epochs-'));
});

describe('epochs', () => {
  it('count from 1 in the console, metrics.jsonl, TensorBoard, --json and the page', async () => {
    const data = join(dir, 'u.data');
    writeFileSync(data, ratings(400));
    const flags = { batch_size: '64', embedding_dim: '8', layer_sizes: '24,16', test_fraction: '0.1', seed: '3', epochs: '3' };
    const logdir = join(dir, 'run');
    const args = Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v]);
    const r = spawnSync(process.execPath, ['dist/cli.js', 'recommender', '--data', data, ...args, '--logdir', logdir, '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const expected = [1, 2, 3];

    // --json is quiet on the console; the same run without it prints a lasting line per epoch.
    const loud = spawnSync(process.execPath, ['dist/cli.js', 'recommender', '--data', data, ...args, '--logdir', join(dir, 'loud')], { encoding: 'utf8', timeout: 120_000 });
    expect(loud.status, loud.stderr).toBe(0);
    expect([...loud.stderr.matchAll(/^epoch (\d+)\/3 /gm)].map((m) => Number(m[1]))).toEqual(expected);

    const json = JSON.parse(r.stdout) as { epochs: { epoch: number; testMse: number }[] };
    expect(json.epochs.map((e) => e.epoch)).toEqual(expected);

    const jsonl = readFileSync(join(logdir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tag: string; step: number; value: number });
    const mse = jsonl.filter((l) => l.tag === 'eval/MSE');
    expect(mse.map((l) => l.step)).toEqual(expected);
    expect([...new Set(jsonl.map((l) => l.step))]).toEqual(expected);

    const eventFile = readdirSync(logdir).find((f) => f.startsWith('events.out.tfevents.')) as string;
    const events = readRecords(readFileSync(join(logdir, eventFile))).map(decodeEvent).filter((e) => e.values.length > 0 && e.values[0].simpleValue !== undefined);
    expect([...new Set(events.map((e) => Number(e.step)))]).toEqual(expected);

    // The page: the worker's trainLoop on the same data and config, into the page's record of a run.
    const ex = experiment('recommender');
    const cfgFlags = Object.fromEntries(ex.options.map((o) => [o.flag, o]));
    const config: Record<string, unknown> = { ...ex.defaults };
    for (const [k, v] of Object.entries(flags)) {
      const o = cfgFlags[k];
      config[o.key] = o.type === 'list' ? v.split(',').map(Number) : Number(v);
    }
    const loaded = await DATASETS.movielens.load(data, {}, () => {}, config);
    const trainer = await ex.create(g.gpu, loaded.data, config);
    const evaluations: Evaluation[] = [];
    try {
      await trainLoop(ex, trainer, config, { resumed: false, onEvaluation: (e) => void evaluations.push(e) });
    } finally {
      trainer.destroy();
    }
    const run = newRun(1, { experiment: 'recommender', config }, 'train', 'u.data', null, 'test');
    for (const e of evaluations) addEvaluation(run, e);
    // Charts plot the series' x.
    for (const s of run.series.values()) expect(s.x).toEqual(expected);
    const csv = runCsv(run).trim().split('\n').map((l) => l.split(','));
    expect(csv[0][0]).toBe('epoch');
    expect(csv.slice(1).map((row) => Number(row[0]))).toEqual(expected);
    const mseColumn = csv[0].indexOf('eval/MSE');
    // The same values as the CLI's run (metrics.jsonl keeps them as doubles).
    expect(csv.slice(1).map((row) => Number(row[mseColumn]))).toEqual(mse.map((l) => l.value));
    const page = JSON.parse(runJson(run)) as { epochs: { epoch: number; testMse: number }[] };
    expect(page.epochs.map((e) => e.epoch)).toEqual(expected);
    expect(page.epochs.map((e) => e.testMse)).toEqual(json.epochs.map((e) => e.testMse));
  }, 240_000);
});
