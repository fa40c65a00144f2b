// Every experiment, by name: the CLI's commands, the page's choices and the worker's runs come
// from this list. A new experiment is its folder under src/models/ and one line here.
import { FEWSHOT } from '../models/fewshot/experiment.ts';
import { MULTITASK } from '../models/multitask/experiment.ts';
import { RECOMMENDER } from '../models/recommender/experiment.ts';
import { ConfigError } from './options.ts';
import type { AnyExperiment } from './types.ts';

export const EXPERIMENTS: readonly AnyExperiment[] = [RECOMMENDER, FEWSHOT, MULTITASK];

export function experiment(name: string): AnyExperiment {
  const e = EXPERIMENTS.find((x) => x.name === name);
  if (!e) throw new ConfigError(`there is no experiment "${name}"; the experiments are ${EXPERIMENTS.map((x) => x.name).join(', ')}`);
  return e;
}
