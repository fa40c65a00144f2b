// The recommender's configuration: CS330 homework 0's flags and defaults, and the checks that
// name the flag a bad value came from.
import { checkOptions, ConfigError, type OptionSpec } from '../../experiments/options.ts';

export interface RecommenderConfig {
  factorizationWeight: number;
  regressionWeight: number;
  /** One user table and one item table for both heads (the course's default), or a pair per head. */
  sharedEmbeddings: boolean;
  /** sigmoid · 5 on the predicted rating. */
  clipPredictedRating: boolean;
  epochs: number;
  batchSize: number;
  lr: number;
  embeddingDim: number;
  /** The regression MLP: input width (3 · embeddingDim) then hidden widths; a Linear to 1 follows. */
  layerSizes: number[];
  testFraction: number;
  seed: number;
  /** Row-sparse (lazy) Adam on the embedding tables instead of PyTorch's dense Adam. */
  sparseAdam: boolean;
}

export const RECOMMENDER_DEFAULTS: RecommenderConfig = {
  factorizationWeight: 0.5,
  regressionWeight: 0.5,
  sharedEmbeddings: true,
  clipPredictedRating: false,
  epochs: 200,
  batchSize: 256,
  lr: 1e-3,
  embeddingDim: 32,
  layerSizes: [96, 64],
  testFraction: 0.05,
  seed: 0,
  sparseAdam: false,
};

export const RECOMMENDER_OPTIONS: readonly OptionSpec<keyof RecommenderConfig>[] = [
  { key: 'factorizationWeight', flag: 'factorization_weight', type: 'number', min: 0, arg: 'W', help: 'weight of the factorization (ranking) loss', label: 'Factorization weight' },
  { key: 'regressionWeight', flag: 'regression_weight', type: 'number', min: 0, arg: 'W', help: 'weight of the rating regression loss', label: 'Regression weight' },
  {
    key: 'sharedEmbeddings',
    flag: 'no_shared_embeddings',
    type: 'bool',
    negated: true,
    help: 'separate user and item tables for each head',
    label: 'Shared embeddings',
    hint: 'a user and an item table per head',
  },
  { key: 'clipPredictedRating', flag: 'clip_predicted_rating', type: 'bool', help: 'predict sigmoid · 5 instead of a raw rating', label: 'Clip predicted rating', hint: 'sigmoid × 5' },
  { key: 'epochs', flag: 'epochs', type: 'int', min: 1, help: 'passes over the training ratings', label: 'Epochs' },
  { key: 'batchSize', flag: 'batch_size', type: 'int', min: 1, help: 'ratings per step', label: 'Batch size' },
  { key: 'lr', flag: 'lr', type: 'number', above: 0, help: 'Adam learning rate', label: 'Learning rate' },
  { key: 'embeddingDim', flag: 'embedding_dim', type: 'int', min: 1, help: 'width of the user and item embeddings', label: 'Embedding size', more: true },
  {
    key: 'layerSizes',
    flag: 'layer_sizes',
    type: 'list',
    help: 'regression MLP widths; the first is 3 × embedding_dim',
    label: 'MLP layer sizes',
    more: true,
    hint: 'the first is 3 × embedding size',
  },
  { key: 'testFraction', flag: 'test_fraction', type: 'number', above: 0, below: 1, help: 'held-out share of the ratings', label: 'Test fraction', more: true },
  { key: 'seed', flag: 'seed', type: 'int', min: 0, max: 2 ** 32 - 1, help: 'split, initialisation, shuffles and negatives', label: 'Seed' },
  {
    key: 'sparseAdam',
    flag: 'sparse_adam',
    type: 'bool',
    help: 'row-sparse Adam on the embedding tables (large catalogues); the\nreference uses dense Adam',
    label: 'Row-sparse Adam on the tables',
    more: true,
  },
];

/** Every problem with a configuration, as one sentence naming the option. */
export function checkConfig(c: RecommenderConfig): void {
  checkOptions(RECOMMENDER_OPTIONS, c);
  if (c.factorizationWeight === 0 && c.regressionWeight === 0) throw new ConfigError('--factorization_weight and --regression_weight are both 0: nothing would be trained');
  if (c.layerSizes[0] !== 3 * c.embeddingDim) {
    throw new ConfigError(`--layer_sizes must start with 3 × --embedding_dim = ${3 * c.embeddingDim} (the MLP reads [u, q, u·q]), not ${c.layerSizes[0]}`);
  }
}
