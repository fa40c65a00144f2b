// `shadertrain demo` (what `npm start` runs): a real experiment on data that ships with
// shadertrain, offline, in about a minute on a software adapter: few-shot 2-way 1-shot Omniglot
// with the memory-augmented LSTM, then where the logs went and what to run next.
import { experiment } from '../src/experiments/registry.ts';
import { GPU_HELP } from './gpu-options.ts';
import { examplesHelp } from './help.ts';
import { runExperiment } from './run-experiment.ts';

/** Measured on SwiftShader (2 cores): test accuracy passes 0.8 (chance 0.5) within these steps. */
export const DEMO_ARGS = ['--num_classes', '2', '--num_shot', '1', '--meta_batch_size', '32', '--learning_rate', '0.003', '--steps', '1500', '--eval_every', '100', '--eval_batch_size', '256'];

const HELP = `usage: shadertrain demo [fewshot options]
Trains few-shot Omniglot, 2-way 1-shot, on the set embedded in shadertrain: the memory-augmented
LSTM of CS330 homework 1, about a minute on a CPU adapter. Test accuracy starts at chance (0.5)
and passes 0.8. It is \`shadertrain fewshot ${DEMO_ARGS.join(' ')}\`;
any fewshot option given here replaces the demo's (shadertrain fewshot --help lists them).

${GPU_HELP}${examplesHelp('demo', [
  { args: '', does: 'the demo, logs under runs/fewshot/' },
  { args: '--steps 3000 --logdir runs/demo', does: 'longer, logs in runs/demo' },
])}`;

const NEXT = `next:
  tensorboard --logdir runs                              the curves (or metrics.jsonl in the log folder)
  npx shadertrain fewshot --num_classes 5 --steps 5000   the course's harder 5-way task
  npx shadertrain recommender --experiments hw0          CS330 homework 0 on MovieLens (downloaded once)
  npx shadertrain --help                                 every command; COMMAND --help for its options`;

export async function demo(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  const code = await runExperiment(experiment('fewshot'), [...DEMO_ARGS, ...args]);
  if (code === 0 && !args.includes('--json')) console.error(NEXT);
  return code;
}
