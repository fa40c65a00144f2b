// `shadertrain fewshot`: CS330 homework 1's few-shot Omniglot classifier (two LSTMs, the second
// one's states the logits) with the original's flags, TensorBoard + JSONL logs, checkpoints, and
// the homework's (N, K) grid.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readFileBytes, writeFileAtomic } from '../src/data/files-node.ts';
import { loadOmniglot } from '../src/data/omniglot-node.ts';
import type { OmniglotSet, ResizeFilter } from '../src/data/omniglot-set.ts';
import { splitOmniglotCharacters } from '../src/data/omniglot-split.ts';
import { adapterLine } from '../src/gpu/adapter-report.ts';
import { Gpu } from '../src/gpu/context.ts';
import { RunLog } from '../src/log/run-log-node.ts';
import { checkFewshotConfig, checkFewshotData, FEWSHOT_DEFAULTS, FEWSHOT_EVAL_EVERY, FEWSHOT_STEPS, HW1_GRID, type FewshotConfig } from '../src/models/fewshot/config.ts';
import { experimentsMarkdown, experimentsSvg, finalMean, FINAL_WINDOW, type FewshotRunSummary } from '../src/models/fewshot/report.ts';
import { FewshotTrainer, type FewshotEval } from '../src/models/fewshot/train.ts';
import { UserError } from './errors.ts';
import { intFlag, numberFlag, parseFlags, RUN_FLAGS, stringFlag, type Values } from './flags.ts';
import { GPU_HELP, gpuOptions } from './gpu-options.ts';
import { Progress } from './progress.ts';

const D = FEWSHOT_DEFAULTS;

const HELP = `usage: shadertrain fewshot [options]
Trains CS330 homework 1's memory-augmented network on N-way K-shot Omniglot episodes:
LSTM(784 + N → H) then LSTM(H → N), the query positions' cross-entropy, Adam; evaluates on
fresh meta-test episodes every --eval_every steps.

  --num_classes N          classes per episode (default ${D.numClasses})
  --num_shot K             labelled drawings per class; K + 1 <= 20 (default ${D.numShot})
  --meta_batch_size B      episodes per training step (default ${D.metaBatch})
  --hidden_size H          the first LSTM's width (default ${D.hidden})
  --learning_rate X        Adam's learning rate (default ${D.learningRate})
  --steps S                training steps (default ${FEWSHOT_STEPS}, the course's)
  --eval_every E           steps between evaluations (default ${FEWSHOT_EVAL_EVERY})
  --eval_batch_size B      meta-test episodes per evaluation (default ${D.evalBatch})
  --seed N                 initialisation and episodes (default ${D.seed})
  --data PATH              Omniglot images: a folder with images_background/ and
                           images_evaluation/ (or their zips, or the .npz arrays), or one zip
                           or npz; default: the 28×28 set embedded in shadertrain
  --filter F               how 105×105 becomes 28×28: nearest (the course's, binary), area or
                           lanczos (antialiased; needs --data) (default nearest)
  --input I                the first layer's input: auto (an embedding bag over the ink of a
                           binary set, else a dense matmul), bags or dense (default auto)
  --logdir DIR             TensorBoard event file and metrics.jsonl (default runs/fewshot/...)
  --checkpoint FILE        save a checkpoint (safetensors) at every evaluation and at the end
  --resume FILE            continue exactly from a checkpoint of the same N, K, H and batch
  --json                   print a machine-readable summary on stdout
  --experiments hw1        the homework's grid (N, K) = ${HW1_GRID.map(([n, k]) => `(${n},${k})`).join(', ')}, then a
                           markdown table and an SVG chart of test accuracy in the logdir
  Kebab-case spellings (--num-classes ...) work too.

${GPU_HELP}`;

const SPEC = {
  num_classes: { type: 'string' },
  num_shot: { type: 'string' },
  meta_batch_size: { type: 'string' },
  hidden_size: { type: 'string' },
  learning_rate: { type: 'string' },
  steps: { type: 'string' },
  eval_every: { type: 'string' },
  eval_batch_size: { type: 'string' },
  seed: { type: 'string' },
  filter: { type: 'string' },
  input: { type: 'string' },
  ...RUN_FLAGS,
} as const;

function configFrom(v: Values): FewshotConfig {
  const input = stringFlag(v.input) ?? D.input;
  if (input !== 'auto' && input !== 'bags' && input !== 'dense') throw new UserError(`--input must be auto, bags or dense, not "${input}"`);
  const c: FewshotConfig = {
    numClasses: intFlag('num_classes', v.num_classes, D.numClasses, 2),
    numShot: intFlag('num_shot', v.num_shot, D.numShot, 1),
    metaBatch: intFlag('meta_batch_size', v.meta_batch_size, D.metaBatch, 1),
    hidden: intFlag('hidden_size', v.hidden_size, D.hidden, 1),
    learningRate: numberFlag('learning_rate', v.learning_rate, D.learningRate, (n) => n > 0, 'a number > 0'),
    seed: intFlag('seed', v.seed, D.seed, 0, 2 ** 32 - 1),
    evalBatch: intFlag('eval_batch_size', v.eval_batch_size, D.evalBatch, 1),
    input,
    splitSeed: D.splitSeed,
  };
  checkFewshotConfig(c);
  return c;
}

function filterFrom(v: Values): ResizeFilter {
  const f = stringFlag(v.filter) ?? 'nearest';
  if (f !== 'nearest' && f !== 'area' && f !== 'lanczos') throw new UserError(`--filter must be nearest, area or lanczos, not "${f}"`);
  return f;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export const runName = (c: FewshotConfig): string => `N${c.numClasses}_K${c.numShot}_seed${c.seed}`;

export const TAGS = { trainLoss: 'Loss/train', testLoss: 'Loss/test', testAccuracy: 'Accuracy/test' } as const;

interface RunOptions {
  steps: number;
  evalEvery: number;
  logdir: string;
  checkpoint?: string;
  resume?: { bytes: Uint8Array; path: string };
  quiet: boolean;
  label?: string;
}

interface RunResult extends FewshotRunSummary {
  config: FewshotConfig;
  input: string;
  logdir: string;
  startStep: number;
  dispatches: number;
}

/** Trains one configuration. Everything is checked and compiled before the first file is written. */
async function trainRun(gpu: Gpu, set: OmniglotSet, config: FewshotConfig, o: RunOptions): Promise<RunResult> {
  const trainer = await FewshotTrainer.create(gpu, set, config);
  const log = new RunLog(o.logdir);
  let progress: Progress | undefined;
  let ok = false;
  try {
    if (o.resume) trainer.restore(o.resume.bytes, o.resume.path);
    const startStep = trainer.step;
    if (startStep >= o.steps) throw new UserError(`the checkpoint has already trained ${startStep} steps; ask for more with --steps`);
    const rounds = Math.ceil((o.steps - startStep) / o.evalEvery);
    const label = `${o.label ? `${o.label} ` : ''}eval${startStep ? ` (from step ${startStep})` : ''}`;
    const evals: FewshotEval[] = [];
    let trainMs = 0;
    let lastStep = startStep;
    const bar = new Progress({ epochs: rounds, stepsPerEpoch: Math.min(o.evalEvery, o.steps - startStep), silent: o.quiet, label });
    progress = bar;
    const t0 = performance.now();
    await trainer.run(o.steps, {
      evalEvery: o.evalEvery,
      onStep: () => bar.step(),
      onEval: async (e) => {
        evals.push(e);
        if (e.msPerStep !== null) trainMs += e.msPerStep * (e.step - lastStep);
        lastStep = e.step;
        log.scalars(e.step, { ...(e.trainLoss !== null ? { [TAGS.trainLoss]: e.trainLoss } : {}), [TAGS.testLoss]: e.testLoss, [TAGS.testAccuracy]: e.testAccuracy });
        log.flush();
        if (o.checkpoint) await writeFileAtomic(o.checkpoint, await trainer.checkpoint());
        const line = `step ${e.step}: ${e.trainLoss !== null ? `train loss ${e.trainLoss.toFixed(4)} | ` : ''}test loss ${e.testLoss.toFixed(4)} accuracy ${e.testAccuracy.toFixed(3)}${e.msPerStep !== null ? ` | ${e.msPerStep.toFixed(1)} ms/step` : ''}`;
        if (e.step === startStep) {
          bar.log(line); // the evaluation before any training
        } else {
          bar.step({ 'test acc': e.testAccuracy }, 0);
          bar.endEpoch(line);
        }
      },
    });
    ok = true;
    const steps = lastStep - startStep;
    return {
      config,
      input: trainer.path,
      logdir: o.logdir,
      numClasses: config.numClasses,
      numShot: config.numShot,
      evals,
      startStep,
      msPerStep: steps > 0 ? trainMs / steps : NaN,
      seconds: (performance.now() - t0) / 1000,
      dispatches: trainer.stats.dispatches,
    };
  } finally {
    progress?.stop();
    if (ok || log.files.length > 0) log.close(); // evaluations already logged are real results
    else log.abort();
    trainer.destroy();
  }
}

function runJson(r: RunResult): Record<string, unknown> {
  return {
    num_classes: r.numClasses,
    num_shot: r.numShot,
    input: r.input,
    logdir: r.logdir,
    start_step: r.startStep,
    ms_per_step: r.msPerStep,
    seconds: r.seconds,
    dispatches_per_step: r.dispatches,
    final_test_accuracy: finalMean(r.evals, 'testAccuracy'),
    final_test_loss: finalMean(r.evals, 'testLoss'),
    evals: r.evals.map((e) => ({ step: e.step, train_loss: e.trainLoss, train_accuracy: e.trainAccuracy, test_loss: e.testLoss, test_accuracy: e.testAccuracy, ms_per_step: e.msPerStep })),
  };
}

export async function fewshot(args: string[]): Promise<number> {
  const v = parseFlags(args, SPEC);
  if (v.help) {
    console.log(HELP);
    return 0;
  }
  const experiments = stringFlag(v.experiments);
  if (experiments !== undefined && experiments !== 'hw1') throw new UserError(`--experiments must be hw1, not "${experiments}"`);
  if (experiments) {
    for (const f of ['num_classes', 'num_shot', 'resume', 'checkpoint'] as const) {
      if (v[f] !== undefined) throw new UserError(`--${f} cannot be combined with --experiments hw1, which sets N and K for each run`);
    }
  }
  const config = configFrom(v);
  const filter = filterFrom(v);
  const steps = intFlag('steps', v.steps, FEWSHOT_STEPS, 1);
  const evalEvery = intFlag('eval_every', v.eval_every, FEWSHOT_EVAL_EVERY, 1);
  const resumePath = stringFlag(v.resume);
  let resume: RunOptions['resume'];
  if (resumePath !== undefined) {
    if (!existsSync(resumePath)) throw new UserError(`--resume ${resumePath}: no such file`);
    resume = { bytes: await readFileBytes(resumePath), path: resumePath };
  }
  const quiet = !!v.json;
  const say = (line: string): void => console.error(line);
  const set = await loadOmniglot({ data: stringFlag(v.data), filter, log: say });
  // Every run's N and K against the data, before the GPU is opened and anything is written.
  const split = splitOmniglotCharacters(set.characters, config.splitSeed);
  const configs = experiments ? HW1_GRID.map(([numClasses, numShot]) => ({ ...config, numClasses, numShot })) : [config];
  for (const c of configs) checkFewshotData(c, set, split);
  const gpu = await Gpu.create(gpuOptions(v as Parameters<typeof gpuOptions>[0]));
  try {
    const adapter = adapterLine(gpu.report);
    say(`adapter: ${adapter}`);
    say(`data: ${set.characters} characters × ${set.drawings} drawings, ${set.side}×${set.side} ${set.filter}${set.binary ? ' (binary)' : ''}`);
    if (experiments) {
      const logdir = stringFlag(v.logdir) ?? join('runs', `fewshot-hw1-${stamp()}`);
      const runs: RunResult[] = [];
      for (const [i, c] of configs.entries()) {
        const label = `[${i + 1}/${configs.length} N=${c.numClasses} K=${c.numShot}]`;
        runs.push(await trainRun(gpu, set, c, { steps, evalEvery, logdir: join(logdir, `N${c.numClasses}_K${c.numShot}`), quiet, label }));
        say(`${label} final test accuracy ${finalMean(runs[i].evals, 'testAccuracy').toFixed(3)} (mean of the last ${FINAL_WINDOW} evaluations)`);
      }
      const table = join(logdir, 'results.md');
      const chart = join(logdir, 'accuracy.svg');
      await writeFileAtomic(table, experimentsMarkdown(config, steps, runs, adapter));
      await writeFileAtomic(chart, experimentsSvg(runs, `CS330 hw1 on Omniglot: ${steps} steps, seed ${config.seed}`));
      if (v.json) console.log(JSON.stringify({ adapter: gpu.report, steps, eval_every: evalEvery, table, chart, runs: runs.map(runJson) }, null, 2));
      else say(`wrote ${table} and ${chart}`);
      return 0;
    }
    const logdir = stringFlag(v.logdir) ?? join('runs', 'fewshot', `${stamp()}-${runName(config)}`);
    say(`training N=${config.numClasses} K=${config.numShot} for ${steps} steps; logs in ${logdir}`);
    const r = await trainRun(gpu, set, config, { steps, evalEvery, logdir, checkpoint: stringFlag(v.checkpoint), resume, quiet });
    if (v.json) {
      console.log(JSON.stringify({ adapter: gpu.report, config, steps, eval_every: evalEvery, checkpoint: stringFlag(v.checkpoint) ?? null, ...runJson(r) }, null, 2));
    } else {
      say(
        `done: test accuracy ${finalMean(r.evals, 'testAccuracy').toFixed(3)} and loss ${finalMean(r.evals, 'testLoss').toFixed(4)} (mean of the last ${FINAL_WINDOW} evaluations; chance ${(1 / config.numClasses).toFixed(3)}); ` +
          `${r.msPerStep.toFixed(1)} ms/step, ${r.seconds.toFixed(0)} s in all`,
      );
    }
    return 0;
  } finally {
    gpu.destroy();
  }
}
