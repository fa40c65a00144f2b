// CS330 homework 0's multi-task recommender as an experiment: its options, tags, metrics, run
// name, trainer, the hw0 comparison and the page's "top items" view.
import type { Experiment } from '../../experiments/types.ts';
import { checkConfig, RECOMMENDER_DEFAULTS, RECOMMENDER_OPTIONS, type RecommenderConfig } from './config.ts';
import { TOP_ITEMS } from './inspect.ts';
import { checkRecommenderData, checkRecommenderLimits } from './limits.ts';
import { RECOMMENDER_PREDICTOR } from './predict.ts';
import { epochMetrics, HW0 } from './report.ts';
import type { RecommenderData } from './split.ts';
import { RecommenderTrainer } from './trainer.ts';
import { recommenderPytorch } from './pytorch.ts';

const f = (x: number | null | undefined, digits: number): string => (typeof x === 'number' ? x.toFixed(digits) : '–');

/** Far beyond any working model's losses (see the metrics), yet well inside 32-bit floats. */
const LOSS_EXPLODES = 1e4;

export const RECOMMENDER: Experiment<RecommenderConfig, RecommenderData, RecommenderTrainer> = {
  name: 'recommender',
  title: 'the multi-task recommender on MovieLens (CS330 homework 0)',
  about:
    "Trains CS330 homework 0's multi-task recommender on MovieLens: matrix factorization ranked by\nMRR plus rating regression scored by MSE, on shared or separate embeddings, with weighted losses.",
  examples: [
    { args: '--factorization_weight 0.99 --regression_weight 0.01 --epochs 200', does: 'one run on MovieLens 100K (downloaded once, checksum verified)' },
    { args: '--no_shared_embeddings --epochs 20 --logdir runs/separate', does: 'separate user/item tables per task, logs in runs/separate' },
    { args: '--experiments hw0', does: 'the four standard runs, a markdown table and an SVG chart' },
    { args: '--data ml-1m.zip --json', does: 'MovieLens 1M from its zip, a machine-readable summary on stdout' },
    { args: '--data ml-100k --epochs 20 --checkpoint rec.safetensors', does: 'a checkpoint to predict from: shadertrain predict --checkpoint rec.safetensors --data ml-100k --user 1' },
  ],
  dataset: 'movielens',
  defaults: RECOMMENDER_DEFAULTS,
  options: RECOMMENDER_OPTIONS,
  unit: 'epoch',
  length: (c) => c.epochs,
  evalEvery: () => 1,
  lengthFlag: 'epochs',
  evaluateFirst: false,
  metrics: [
    // Ratings are 1–5: predicting a constant 3 scores an MSE near 1.5, the worst constant 16; the
    // ranking loss starts at ln 2. Either beyond LOSS_EXPLODES is a run that has diverged.
    { key: 'factorizationLoss', tag: 'training/Factorization Loss', better: 'lower', test: false, explodes: LOSS_EXPLODES, weights: ['factorizationWeight'] },
    { key: 'trainMse', tag: 'training/MSE', better: 'lower', test: false, explodes: LOSS_EXPLODES, weights: ['regressionWeight'] },
    { key: 'jointLoss', tag: 'training/Joint Loss', better: 'lower', test: false, bar: 'loss', weights: ['factorizationWeight', 'regressionWeight'] },
    { key: 'mrr', tag: 'eval/Mean Reciprocal Rank', better: 'higher', test: true, bar: 'test MRR' },
    { key: 'testMse', tag: 'eval/MSE', better: 'lower', test: true, bar: 'test MSE', explodes: LOSS_EXPLODES },
  ],
  // Held-out rating MSE: it turns (the 0.5/0.5 run's is lowest near epoch 12, then climbs to 2.5) while MRR keeps improving.
  mainMetric: () => 'testMse',
  runName: (c) => `${c.sharedEmbeddings ? 'shared' : 'separate'}_fw${c.factorizationWeight}_rw${c.regressionWeight}_seed${c.seed}`,
  checkConfig,
  checkData: checkRecommenderData,
  checkLimits: checkRecommenderLimits,
  create: (gpu, data, config) => RecommenderTrainer.create(gpu, data.rows, config, data.origin),
  origin: async (data) => data.origin,
  summary: ({ values: v }) =>
    `joint loss ${f(v.jointLoss, 4)} (factorization ${f(v.factorizationLoss, 4)}, MSE ${f(v.trainMse, 3)}); test MRR ${f(v.mrr, 4)}, test MSE ${f(v.testMse, 3)}`,
  done: (r) => {
    const last = r.evaluations[r.evaluations.length - 1].values;
    return `done: test MRR ${f(last.mrr, 4)}, test MSE ${f(last.testMse, 4)}; ${r.msPerStep.toFixed(2)} ms/step, ${(r.seconds / r.evaluations.length).toFixed(2)} s/epoch with evaluation`;
  },
  json: (r) => ({ seconds_per_epoch: r.seconds / r.evaluations.length, epochs: r.evaluations.map(epochMetrics) }),
  presets: [HW0],
  inspect: [TOP_ITEMS],
  predictor: RECOMMENDER_PREDICTOR,
  paramNames: { mlp: 'the rating MLP' },
  pytorch: recommenderPytorch,
};
