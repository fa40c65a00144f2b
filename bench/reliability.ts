// `npm run bench -- reliability`: what a run pays to survive faults, side by side in one run.
// - The in-memory snapshot the CLI and the page take at every evaluation to survive a lost
//   device (src/experiments/device-loss.ts), against the training between two evaluations, for
//   each experiment at its defaults and on its default data (MovieLens 100K from ../shared/data,
//   the embedded Omniglot and census-income sets).
// - The divergence watch (src/experiments/watch.ts): recommender epochs trained with it and
//   without, alternately.
import { existsSync } from 'node:fs';
import { DATASETS } from '../cli/datasets.ts';
import { EXPERIMENTS } from '../src/experiments/registry.ts';
import type { Trainer } from '../src/experiments/types.ts';
import type { Gpu } from '../src/gpu/context.ts';
import { median } from '../src/gpu/timing.ts';
import { WATCH_EVERY } from '../src/experiments/watch.ts';
import type { BenchResult } from './harness.ts';

function movieLens(): string | undefined {
  const env = process.env.SHADERTRAIN_ML100K;
  if (env) return env;
  return ['../shared/data/ml-100k', '../../shared/data/ml-100k'].find((p) => existsSync(p));
}

export async function reliabilityResults(gpu: Gpu, reps: number, log: (l: string) => void): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const ex of EXPERIMENTS) {
    const ds = DATASETS[ex.dataset];
    const config = ex.defaults;
    const loaded = await ds.load(ex.dataset === 'movielens' ? movieLens() : undefined, ds.defaults, () => {}, config);
    const trainer = await ex.create(gpu, loaded.data, config);
    try {
      const every = ex.evalEvery(config);
      // The first interval compiles the pipelines; the second is timed, with the evaluation that ends it.
      await trainer.train(every);
      await trainer.evaluate();
      const t0 = performance.now();
      await trainer.train(every);
      await trainer.evaluate();
      const interval = performance.now() - t0;
      await trainer.checkpoint();
      const snaps: number[] = [];
      for (let i = 0; i < Math.max(3, reps); i++) {
        const s0 = performance.now();
        await trainer.checkpoint();
        snaps.push(performance.now() - s0);
      }
      const snap = median(snaps);
      const bytes = (await trainer.checkpoint()).length;
      const what = `${ex.name} (${loaded.summary.split(';')[0]}), ${every} ${ex.unit}${every === 1 ? '' : 's'} between evaluations`;
      log(`  ${what}: ${(interval / 1000).toFixed(2)} s of training and evaluation; a snapshot (${(bytes / 1e6).toFixed(2)} MB) ${snap.toFixed(1)} ms, ${((100 * snap) / interval).toFixed(1)}% of it`);
      out.push({ case: `${ex.name}: one evaluation interval`, impl: 'training and evaluation', median_ms: interval, ok: true, speedup: 1 });
      out.push({ case: `${ex.name}: one evaluation interval`, impl: 'snapshot (checkpoint bytes)', median_ms: snap, ok: true, speedup: interval / snap });
      if (ex.unit === 'epoch' && ex.dataset === 'movielens') out.push(...(await watchCost(trainer, Math.max(3, Math.min(reps, 8)), log)));
    } finally {
      trainer.destroy();
    }
  }
  return out;
}

/** Epochs trained without the divergence watch and with it, alternately (a shared machine's load moves both alike). */
async function watchCost(trainer: Trainer, times: number, log: (l: string) => void): Promise<BenchResult[]> {
  const watch = { every: WATCH_EVERY, diverged: () => false };
  const plain: number[] = [];
  const watched: number[] = [];
  for (let i = 0; i < times; i++) {
    for (const [w, into] of [[undefined, plain], [watch, watched]] as const) {
      const t0 = performance.now();
      await trainer.train(1, undefined, undefined, w);
      into.push(performance.now() - t0);
    }
  }
  const [a, b] = [median(plain), median(watched)];
  log(`  recommender epoch: ${a.toFixed(0)} ms without the divergence watch, ${b.toFixed(0)} ms with it (a look every ${WATCH_EVERY} steps); medians of ${times}`);
  const c = 'recommender epoch (ML-100K, defaults)';
  return [
    { case: c, impl: 'without the divergence watch', median_ms: a, ok: true, speedup: 1 },
    { case: c, impl: `with it (a look every ${WATCH_EVERY} steps)`, median_ms: b, ok: true, speedup: a / b },
  ];
}
