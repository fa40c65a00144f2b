// `shadertrain recommender`: CS330 homework 0's multi-task recommender on MovieLens, with the
// original's flags, TensorBoard + JSONL logs, checkpoints, and the four standard runs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readFileBytes, writeFileAtomic } from '../src/data/files-node.ts';
import { resolveMovieLens, type MovieLensData } from '../src/data/movielens-node.ts';
import { adapterLine } from '../src/gpu/adapter-report.ts';
import { Gpu } from '../src/gpu/context.ts';
import { RunLog } from '../src/log/run-log-node.ts';
import { checkConfig, RECOMMENDER_DEFAULTS, type RecommenderConfig } from '../src/models/recommender/config.ts';
import { RecommenderTrainer, type EpochMetrics } from '../src/models/recommender/trainer.ts';
import { UserError } from './errors.ts';
import { intFlag, numberFlag, parseFlags, RUN_FLAGS, stringFlag, type Values } from './flags.ts';
import { GPU_HELP, gpuOptions } from './gpu-options.ts';
import { Progress, type ProgressFields } from './progress.ts';
import { HW0_RUNS, runExperiments } from './recommender-experiments.ts';

const HELP = `usage: shadertrain recommender [options]
Trains CS330 homework 0's multi-task recommender on MovieLens: matrix factorization ranked by
MRR plus rating regression scored by MSE, on shared or separate embeddings, with weighted losses.

  --factorization_weight W  weight of the factorization (ranking) loss (default ${RECOMMENDER_DEFAULTS.factorizationWeight})
  --regression_weight W     weight of the rating regression loss (default ${RECOMMENDER_DEFAULTS.regressionWeight})
  --no_shared_embeddings    separate user and item tables for each head
  --clip_predicted_rating   predict sigmoid · 5 instead of a raw rating
  --epochs N                (default ${RECOMMENDER_DEFAULTS.epochs})
  --batch_size N            (default ${RECOMMENDER_DEFAULTS.batchSize})
  --lr X                    Adam learning rate (default ${RECOMMENDER_DEFAULTS.lr})
  --embedding_dim N         (default ${RECOMMENDER_DEFAULTS.embeddingDim})
  --layer_sizes A,B,...     regression MLP widths; the first is 3 × embedding_dim (default ${RECOMMENDER_DEFAULTS.layerSizes.join(',')})
  --test_fraction X         held-out share of the ratings (default ${RECOMMENDER_DEFAULTS.testFraction})
  --seed N                  split, initialisation, shuffles and negatives (default ${RECOMMENDER_DEFAULTS.seed})
  --sparse_adam             row-sparse Adam on the embedding tables (large catalogues); the
                            reference uses dense Adam
  --data PATH               a folder with u.data (ml-100k), ratings.dat (ml-1m) or ratings.csv,
                            one of those files, or a MovieLens zip; without it MovieLens 100K is
                            downloaded once into the cache folder and its checksum verified
  --logdir DIR              TensorBoard event file and metrics.jsonl (default runs/recommender/...)
  --checkpoint FILE         save a checkpoint (safetensors) after every epoch
  --resume FILE             continue from a checkpoint of the same settings
  --json                    print a machine-readable summary on stdout
  --experiments hw0         the four standard runs (shared 0.99/0.01, shared 0.5/0.5,
                            separate 0.5/0.5, separate 0.99/0.01), a markdown table and an SVG chart
  Kebab-case spellings (--factorization-weight ...) work too.

${GPU_HELP}`;

const SPEC = {
  factorization_weight: { type: 'string' },
  regression_weight: { type: 'string' },
  no_shared_embeddings: { type: 'boolean' },
  clip_predicted_rating: { type: 'boolean' },
  epochs: { type: 'string' },
  batch_size: { type: 'string' },
  lr: { type: 'string' },
  embedding_dim: { type: 'string' },
  layer_sizes: { type: 'string' },
  test_fraction: { type: 'string' },
  seed: { type: 'string' },
  sparse_adam: { type: 'boolean' },
  ...RUN_FLAGS,
} as const;

function configFrom(v: Values): RecommenderConfig {
  const d = RECOMMENDER_DEFAULTS;
  const weight = (name: string, dflt: number): number => numberFlag(name, v[name], dflt, (n) => n >= 0, 'a number >= 0');
  const layers = stringFlag(v.layer_sizes);
  const layerSizes = layers === undefined ? d.layerSizes : layers.split(',').map((s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : NaN));
  if (layerSizes.some((n) => !(n >= 1))) throw new UserError(`--layer_sizes must be a comma-separated list of positive integers, not "${layers}"`);
  const c: RecommenderConfig = {
    factorizationWeight: weight('factorization_weight', d.factorizationWeight),
    regressionWeight: weight('regression_weight', d.regressionWeight),
    sharedEmbeddings: !v.no_shared_embeddings,
    clipPredictedRating: !!v.clip_predicted_rating,
    epochs: intFlag('epochs', v.epochs, d.epochs, 1),
    batchSize: intFlag('batch_size', v.batch_size, d.batchSize, 1),
    lr: numberFlag('lr', v.lr, d.lr, (n) => n > 0, 'a number > 0'),
    embeddingDim: intFlag('embedding_dim', v.embedding_dim, d.embeddingDim, 1),
    layerSizes,
    testFraction: numberFlag('test_fraction', v.test_fraction, d.testFraction, (n) => n > 0 && n < 1, 'a number between 0 and 1'),
    seed: intFlag('seed', v.seed, d.seed, 0, 2 ** 32 - 1),
    sparseAdam: !!v.sparse_adam,
  };
  checkConfig(c);
  return c;
}

export function runName(c: RecommenderConfig): string {
  return `${c.sharedEmbeddings ? 'shared' : 'separate'}_fw${c.factorizationWeight}_rw${c.regressionWeight}_seed${c.seed}`;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export const TAGS: Record<'factorizationLoss' | 'trainMse' | 'jointLoss' | 'mrr' | 'testMse', string> = {
  factorizationLoss: 'training/Factorization Loss',
  trainMse: 'training/MSE',
  jointLoss: 'training/Joint Loss',
  mrr: 'eval/Mean Reciprocal Rank',
  testMse: 'eval/MSE',
};

export interface RunOptions {
  logdir: string;
  checkpoint?: string;
  resume?: Uint8Array;
  resumePath?: string;
  /** Progress and per-epoch lines go to stderr unless quiet. */
  quiet: boolean;
  label?: string;
}

export interface RunResult {
  config: RecommenderConfig;
  logdir: string;
  epochs: EpochMetrics[];
  msPerStep: number;
  secondsPerEpoch: number;
}

/** Trains one configuration for its epochs, logging every epoch. The GPU work is all set up before the first file is written. */
export async function trainRun(gpu: Gpu, data: MovieLensData, config: RecommenderConfig, o: RunOptions): Promise<RunResult> {
  const trainer = await RecommenderTrainer.create(gpu, data.ratings, config);
  const log = new RunLog(o.logdir);
  let progress: Progress | undefined;
  let ok = false;
  try {
    if (o.resume) trainer.restore(o.resume, o.resumePath ?? 'checkpoint');
    if (trainer.epoch >= config.epochs) throw new UserError(`the checkpoint has already trained ${trainer.epoch} epochs; ask for more with --epochs`);
    const label = `${o.label ? `${o.label} ` : ''}epoch${trainer.epoch ? ` (from ${trainer.epoch})` : ''}`;
    progress = new Progress({ epochs: config.epochs - trainer.epoch, stepsPerEpoch: trainer.stepsPerEpoch, silent: o.quiet, label });
    const epochs: EpochMetrics[] = [];
    let trainMs = 0;
    let steps = 0;
    const t0 = performance.now();
    for (let e = trainer.epoch; e < config.epochs; e++) {
      const bar = progress;
      // Losses are summed on the GPU and read once an epoch: the bar shows the last epoch's.
      const last = epochs[epochs.length - 1];
      const fields: ProgressFields = last ? { loss: last.jointLoss, 'test MRR': last.mrr, 'test MSE': last.testMse } : {};
      const m = await trainer.epochWithEval(() => bar.step(fields));
      epochs.push(m);
      trainMs += m.trainMs;
      steps += trainer.stepsPerEpoch;
      log.scalars(m.epoch, Object.fromEntries(Object.entries(TAGS).map(([k, tag]) => [tag, m[k as keyof typeof TAGS]])));
      log.flush();
      if (o.checkpoint) await writeFileAtomic(o.checkpoint, await trainer.checkpoint());
      progress.endEpoch(
        `loss ${m.jointLoss.toFixed(4)} (factorization ${m.factorizationLoss.toFixed(4)}, mse ${m.trainMse.toFixed(3)}) | test MRR ${m.mrr.toFixed(4)} MSE ${m.testMse.toFixed(3)}`,
      );
    }
    ok = true;
    const seconds = (performance.now() - t0) / 1000;
    return { config, logdir: o.logdir, epochs, msPerStep: trainMs / steps, secondsPerEpoch: seconds / epochs.length };
  } finally {
    progress?.stop();
    if (ok) log.close();
    else if (log.files.length === 0) log.abort();
    else log.close(); // epochs already logged stay: they are real results
    trainer.destroy();
  }
}

export async function recommender(args: string[]): Promise<number> {
  const v = parseFlags(args, SPEC);
  if (v.help) {
    console.log(HELP);
    return 0;
  }
  const experiments = stringFlag(v.experiments);
  if (experiments !== undefined && experiments !== 'hw0') throw new UserError(`--experiments must be hw0, not "${experiments}"`);
  if (experiments) {
    for (const f of ['factorization_weight', 'regression_weight', 'no_shared_embeddings', 'resume', 'checkpoint'] as const) {
      if (v[f] !== undefined) throw new UserError(`--${f} cannot be combined with --experiments hw0, which sets it for each run`);
    }
  }
  const config = configFrom(v);
  const resumePath = stringFlag(v.resume);
  let resume: Uint8Array | undefined;
  if (resumePath !== undefined) {
    if (!existsSync(resumePath)) throw new UserError(`--resume ${resumePath}: no such file`);
    resume = await readFileBytes(resumePath);
  }
  const quiet = !!v.json;
  const say = (line: string): void => console.error(line);
  const data = await resolveMovieLens({ data: stringFlag(v.data), log: say });
  const gpu = await Gpu.create(gpuOptions(v as Parameters<typeof gpuOptions>[0]));
  try {
    say(`adapter: ${adapterLine(gpu.report)}`);
    say(`data: ${data.ratings.count} ratings from ${data.source}`);
    if (experiments) {
      const logdir = stringFlag(v.logdir) ?? join('runs', `hw0-${stamp()}`);
      const report = await runExperiments(config, HW0_RUNS, logdir, (c, dir, label) => trainRun(gpu, data, c, { logdir: dir, quiet, label }));
      if (v.json) console.log(JSON.stringify({ adapter: gpu.report, data: data.source, ...report }, null, 2));
      else say(`wrote ${report.table} and ${report.chart}`);
      return 0;
    }
    const logdir = stringFlag(v.logdir) ?? join('runs', 'recommender', `${stamp()}-${runName(config)}`);
    say(`training ${runName(config)} for ${config.epochs} epochs; logs in ${logdir}`);
    const r = await trainRun(gpu, data, config, { logdir, checkpoint: stringFlag(v.checkpoint), resume, resumePath, quiet });
    const last = r.epochs[r.epochs.length - 1];
    if (v.json) {
      console.log(JSON.stringify({ adapter: gpu.report, data: data.source, config, logdir, ms_per_step: r.msPerStep, seconds_per_epoch: r.secondsPerEpoch, epochs: r.epochs }, null, 2));
    } else {
      say(`done: test MRR ${last.mrr.toFixed(4)}, test MSE ${last.testMse.toFixed(4)}; ${r.msPerStep.toFixed(2)} ms/step, ${r.secondsPerEpoch.toFixed(2)} s/epoch with evaluation`);
    }
    return 0;
  } finally {
    gpu.destroy();
  }
}
