// The few-shot run's configuration: CS330 homework 1's flags and defaults, and the checks that
// name the flag a bad value came from (before anything is written).
import type { OmniglotSet } from '../../data/omniglot-set.ts';
import type { CharacterSplit } from '../../data/omniglot-split.ts';
import { checkOptions, ConfigError, type OptionSpec } from '../../experiments/options.ts';
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
  /** Training steps in all, and between evaluations. */
  steps: number;
  evalEvery: number;
  seed: number;
  /** Meta-test episodes per evaluation. */
  evalBatch: number;
  /** 'auto': the embedding bag for a binary set, the dense matmul otherwise. */
  input: 'auto' | InputPath;
  /** Seed of the character split (the course's is fixed; not an option). */
  splitSeed: number;
}

/** The course's settings: 25,000 training steps, evaluated every 100. */
export const FEWSHOT_DEFAULTS: FewshotConfig = {
  numClasses: 5,
  numShot: 1,
  metaBatch: 128,
  hidden: 128,
  learningRate: 1e-3,
  steps: 25_000,
  evalEvery: 100,
  seed: 0,
  evalBatch: 128,
  input: 'auto',
  splitSeed: 1,
};

export const FEWSHOT_OPTIONS: readonly OptionSpec<keyof FewshotConfig>[] = [
  { key: 'numClasses', flag: 'num_classes', type: 'int', min: 2, help: 'classes per episode', label: 'Classes per episode (N)' },
  { key: 'numShot', flag: 'num_shot', type: 'int', min: 1, arg: 'K', help: 'labelled drawings per class; K + 1 <= 20', label: 'Examples per class (K)' },
  { key: 'metaBatch', flag: 'meta_batch_size', aliases: ['batch_size'], type: 'int', min: 1, arg: 'B', help: 'episodes per training step', label: 'Episodes per step', more: true },
  { key: 'hidden', flag: 'hidden_size', type: 'int', min: 1, arg: 'H', help: "the first LSTM's width", label: 'Hidden size' },
  { key: 'learningRate', flag: 'lr', aliases: ['learning_rate'], type: 'number', above: 0, help: "Adam's learning rate", label: 'Learning rate', more: true },
  { key: 'steps', flag: 'steps', type: 'int', min: 1, arg: 'S', help: 'training steps', label: 'Training steps' },
  { key: 'evalEvery', flag: 'eval_every', type: 'int', min: 1, arg: 'E', help: 'steps between evaluations', label: 'Evaluate every (steps)' },
  { key: 'evalBatch', flag: 'eval_batch_size', type: 'int', min: 1, arg: 'B', help: 'meta-test episodes per evaluation', label: 'Episodes per evaluation', more: true },
  { key: 'seed', flag: 'seed', type: 'int', min: 0, max: 2 ** 32 - 1, help: 'initialisation and episodes', label: 'Seed' },
  {
    key: 'input',
    flag: 'input',
    type: 'choice',
    choices: ['auto', 'bags', 'dense'],
    arg: 'I',
    help: "the first layer's input: auto (an embedding bag over the ink of a\nbinary set, else a dense matmul), bags or dense",
    label: 'First layer input',
    more: true,
  },
];

/** The homework's grid of (N, K). */
export const HW1_GRID: readonly (readonly [number, number])[] = [
  [2, 1],
  [2, 2],
  [3, 1],
  [4, 1],
];

/** The values on their own, one sentence naming the flag. */
export function checkConfig(c: FewshotConfig): void {
  checkOptions(FEWSHOT_OPTIONS, c);
}

/** The values against the data: enough characters for N classes, enough drawings for K+1 each. */
export function checkData(c: FewshotConfig, set: OmniglotSet, split: CharacterSplit): void {
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
