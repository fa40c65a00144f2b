// CS330 homework 1's few-shot Omniglot classifier as an experiment: its options, tags, metrics,
// run name, trainer, the hw1 grid and the page's "episode" view.
import type { OmniglotSet } from '../../data/omniglot-set.ts';
import { splitOmniglotCharacters } from '../../data/omniglot-split.ts';
import type { Experiment, MetricSpec } from '../../experiments/types.ts';
import { checkConfig, checkData, FEWSHOT_DEFAULTS, FEWSHOT_OPTIONS, type FewshotConfig } from './config.ts';
import { EPISODE } from './inspect.ts';
import { FEWSHOT_PREDICTOR } from './predict.ts';
import { checkFewshotLimits } from './limits.ts';
import { count } from '../../experiments/estimate.ts';
import { finalCount, finalMean, HW1 } from './report.ts';
import { FewshotTrainer, omniglotOrigin } from './trainer.ts';
import { fewshotPytorch } from './pytorch.ts';

const f = (x: number | null | undefined, digits: number): string => (typeof x === 'number' ? x.toFixed(digits) : '–');

/** Cross-entropy starts at ln N (about 3 for N = 20); beyond this the logits have run away: the run has diverged. */
const CROSS_ENTROPY_EXPLODES = 1e4;

const FEWSHOT_METRICS: readonly MetricSpec[] = [
  { key: 'trainLoss', tag: 'Loss/train', better: 'lower', test: false, bar: 'loss', explodes: CROSS_ENTROPY_EXPLODES },
  { key: 'testLoss', tag: 'Loss/test', better: 'lower', test: true, explodes: CROSS_ENTROPY_EXPLODES },
  { key: 'testAccuracy', tag: 'Accuracy/test', better: 'higher', test: true, bar: 'test acc' },
];

export const FEWSHOT: Experiment<FewshotConfig, OmniglotSet, FewshotTrainer> = {
  name: 'fewshot',
  title: 'few-shot Omniglot with a memory-augmented LSTM (CS330 homework 1)',
  about:
    "Trains CS330 homework 1's memory-augmented network on N-way K-shot Omniglot episodes:\nLSTM(784 + N → H) then LSTM(H → N), the query positions' cross-entropy, Adam; evaluates on\nfresh meta-test episodes every --eval_every steps.",
  examples: [
    { args: '--num_classes 2 --num_shot 1 --steps 2000', does: '2-way 1-shot on the Omniglot set embedded in shadertrain' },
    { args: '--num_classes 5 --num_shot 1 --checkpoint fs.safetensors', does: "the course's 5-way 1-shot, saving a checkpoint at each evaluation" },
    { args: '--experiments hw1 --steps 5000', does: "the homework's grid of four (N, K), with a table and a chart" },
    { args: '--data ~/omniglot --filter area', does: 'the official Omniglot folders or zips, antialiased' },
  ],
  dataset: 'omniglot',
  defaults: FEWSHOT_DEFAULTS,
  options: FEWSHOT_OPTIONS,
  unit: 'step',
  length: (c) => c.steps,
  evalEvery: (c) => c.evalEvery,
  lengthFlag: 'steps',
  evaluateFirst: true,
  metrics: FEWSHOT_METRICS,
  // Guessing among N classes: accuracy 1/N, cross-entropy ln N.
  metricsFor: (c) => FEWSHOT_METRICS.map((m) => ({ ...m, chance: m.key === 'testAccuracy' ? 1 / c.numClasses : Math.log(c.numClasses) })),
  mainMetric: () => 'testAccuracy',
  runName: (c) => `N${c.numClasses}_K${c.numShot}_H${c.hidden}_seed${c.seed}`,
  checkConfig,
  checkData: (c, set) => checkData(c, set, splitOmniglotCharacters(set.characters, c.splitSeed)),
  checkLimits: checkFewshotLimits,
  create: (gpu, set, config) => FewshotTrainer.create(gpu, set, config),
  origin: (set) => omniglotOrigin(set)(),
  summary: ({ values: v }) => `${typeof v.trainLoss === 'number' ? `train loss ${f(v.trainLoss, 4)}, ` : ''}test loss ${f(v.testLoss, 4)}, test accuracy ${f(v.testAccuracy, 3)}`,
  done: (r) => {
    const n = finalCount(r.evaluations);
    const accuracy = finalMean(r.evaluations, 'testAccuracy');
    const chance = 1 / r.config.numClasses;
    // The course's runs leave chance only after a few thousand steps; say so rather than let a short run look broken.
    const short = r.config.steps < 5000 && accuracy < chance * 1.25 ? `; near chance, as runs this short often are (the course trains ${count(25000, 'step')})` : '';
    return (
      `done: test accuracy ${accuracy.toFixed(3)} and loss ${finalMean(r.evaluations, 'testLoss').toFixed(4)} ` +
      `(${n === 1 ? 'one evaluation' : `mean of the last ${n} evaluations`}; chance ${chance.toFixed(3)})${short}; ${r.msPerStep.toFixed(1)} ms/step, ${r.seconds.toFixed(0)} s in all`
    );
  },
  json: (r) => ({
    steps: r.config.steps,
    eval_every: r.config.evalEvery,
    num_classes: r.config.numClasses,
    num_shot: r.config.numShot,
    start_step: r.start,
    final_test_accuracy: finalMean(r.evaluations, 'testAccuracy'),
    final_test_loss: finalMean(r.evaluations, 'testLoss'),
    evals: r.evaluations.map((e) => ({
      step: e.at,
      train_loss: e.values.trainLoss ?? null,
      train_accuracy: e.values.trainAccuracy ?? null,
      test_loss: e.values.testLoss,
      test_accuracy: e.values.testAccuracy,
      ms_per_step: e.steps > 0 ? e.trainMs / e.steps : null,
    })),
  }),
  presets: [HW1],
  inspect: [EPISODE],
  predictor: FEWSHOT_PREDICTOR,
  pytorch: fewshotPytorch,
};
