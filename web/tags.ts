// The scalar tags the page charts and exports: the names the CLI logs to TensorBoard
// (cli/recommender.ts, cli/fewshot.ts), so runs read the same in both.
import type { Experiment } from './protocol.ts';

export const RECOMMENDER_TAGS = {
  factorizationLoss: 'training/Factorization Loss',
  trainMse: 'training/MSE',
  jointLoss: 'training/Joint Loss',
  mrr: 'eval/Mean Reciprocal Rank',
  testMse: 'eval/MSE',
} as const;

export const FEWSHOT_TAGS = {
  trainLoss: 'Loss/train',
  testLoss: 'Loss/test',
  testAccuracy: 'Accuracy/test',
} as const;

/** The charts of each experiment, in the order shown, with the x axis they are logged against. */
export const CHARTS: Record<Experiment, { x: string; tags: readonly string[] }> = {
  recommender: { x: 'epoch', tags: Object.values(RECOMMENDER_TAGS) },
  fewshot: { x: 'step', tags: Object.values(FEWSHOT_TAGS) },
};
