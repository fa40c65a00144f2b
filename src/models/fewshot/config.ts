// The few-shot run's configuration: CS330 homework 1's flags and defaults, and the checks that
// name the flag a bad value came from (before anything is written).
import type { OmniglotSet } from '../../data/omniglot-set.ts';
import type { CharacterSplit } from '../../data/omniglot-split.ts';
import type { InputPath } from './model.ts';

export interface FewshotConfig {
  /** N: classes per episode. */
  numClasses: number;
  /** K: labelled drawings per class. */
  numShot: number;
  /** Episodes per training step. */
  metaBatch: number;
  /** The first LSTM's width. */
  hidden: number;
  learningRate: number;
  seed: number;
  /** Meta-test episodes per evaluation. */
  evalBatch: number;
  /** 'auto': the embedding bag for a binary set, the dense matmul otherwise. */
  input: 'auto' | InputPath;
  /** Seed of the character split (the course's is fixed). */
  splitSeed: number;
}

export const FEWSHOT_DEFAULTS: FewshotConfig = {
  numClasses: 5,
  numShot: 1,
  metaBatch: 128,
  hidden: 128,
  learningRate: 1e-3,
  seed: 0,
  evalBatch: 128,
  input: 'auto',
  splitSeed: 1,
};

/** The course's 25,000 training steps, evaluated every 100. */
export const FEWSHOT_STEPS = 25_000;
export const FEWSHOT_EVAL_EVERY = 100;

/** The homework's grid of (N, K). */
export const HW1_GRID: readonly (readonly [number, number])[] = [
  [2, 1],
  [2, 2],
  [3, 1],
  [4, 1],
];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The values on their own, one sentence naming the flag. */
export function checkFewshotConfig(c: FewshotConfig): void {
  const fail = (flag: string, what: string, v: unknown): never => {
    throw new ConfigError(`--${flag} must be ${what}, not ${JSON.stringify(v)}`);
  };
  const int = (flag: string, v: number, min: number): void => {
    if (!(Number.isSafeInteger(v) && v >= min)) fail(flag, `an integer >= ${min}`, v);
  };
  int('num_classes', c.numClasses, 2);
  int('num_shot', c.numShot, 1);
  int('meta_batch_size', c.metaBatch, 1);
  int('hidden_size', c.hidden, 1);
  int('eval_batch_size', c.evalBatch, 1);
  if (!(Number.isFinite(c.learningRate) && c.learningRate > 0)) fail('learning_rate', 'a number > 0', c.learningRate);
  if (!(Number.isInteger(c.seed) && c.seed >= 0 && c.seed < 2 ** 32)) fail('seed', 'an integer in [0, 2^32)', c.seed);
  if (!['auto', 'bags', 'dense'].includes(c.input)) fail('input', 'auto, bags or dense', c.input);
}

/** The values against the data: enough characters for N classes, enough drawings for K+1 each. */
export function checkFewshotData(c: FewshotConfig, set: OmniglotSet, split: CharacterSplit): void {
  const K1 = c.numShot + 1;
  if (K1 > set.drawings) {
    throw new ConfigError(
      `--num_shot ${c.numShot} needs ${K1} distinct drawings per character (K support + 1 query), but the Omniglot set has ${set.drawings}; use --num_shot ${set.drawings - 1} or less`,
    );
  }
  const fewest = Math.min(split.train.length, split.test.length);
  if (c.numClasses > fewest) {
    const which = split.train.length < split.test.length ? 'meta-train' : 'meta-test';
    throw new ConfigError(
      `--num_classes ${c.numClasses} is more than the ${fewest} characters of the ${which} split (an episode draws N distinct characters); use --num_classes ${fewest} or less`,
    );
  }
  if (c.input === 'bags' && !set.binary) throw new ConfigError(`--input bags needs a binary set, but the ${set.filter} filter makes grey levels; use --input dense or auto`);
}
