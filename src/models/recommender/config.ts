// The recommender's configuration: CS330 homework 0's flags and defaults.

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

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Every problem with a configuration, as one sentence naming the option. */
export function checkConfig(c: RecommenderConfig): void {
  const fail = (flag: string, what: string, v: unknown): never => {
    throw new ConfigError(`--${flag} must be ${what}, not ${JSON.stringify(v)}`);
  };
  for (const [flag, v] of [
    ['factorization_weight', c.factorizationWeight],
    ['regression_weight', c.regressionWeight],
  ] as const) {
    if (!(Number.isFinite(v) && v >= 0)) fail(flag, 'a number >= 0', v);
  }
  if (c.factorizationWeight === 0 && c.regressionWeight === 0) throw new ConfigError('--factorization_weight and --regression_weight are both 0: nothing would be trained');
  if (!(Number.isInteger(c.epochs) && c.epochs >= 1)) fail('epochs', 'an integer >= 1', c.epochs);
  if (!(Number.isInteger(c.batchSize) && c.batchSize >= 1)) fail('batch_size', 'an integer >= 1', c.batchSize);
  if (!(Number.isFinite(c.lr) && c.lr > 0)) fail('lr', 'a number > 0', c.lr);
  if (!(Number.isInteger(c.embeddingDim) && c.embeddingDim >= 1)) fail('embedding_dim', 'an integer >= 1', c.embeddingDim);
  if (!(c.testFraction > 0 && c.testFraction < 1)) fail('test_fraction', 'a number between 0 and 1', c.testFraction);
  if (!(Number.isInteger(c.seed) && c.seed >= 0 && c.seed < 2 ** 32)) fail('seed', 'an integer in [0, 2^32)', c.seed);
  if (c.layerSizes.length < 1 || c.layerSizes.some((n) => !(Number.isInteger(n) && n >= 1))) fail('layer_sizes', 'a comma-separated list of positive integers', c.layerSizes.join(','));
  if (c.layerSizes[0] !== 3 * c.embeddingDim) {
    throw new ConfigError(`--layer_sizes must start with 3 × --embedding_dim = ${3 * c.embeddingDim} (the MLP reads [u, q, u·q]), not ${c.layerSizes[0]}`);
  }
}
