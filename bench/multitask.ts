// `npm run bench -- multitask`: one MMoE training step on census-income (batch 1024, income and
// marital) in shadertrain and in TensorFlow.js's WebGPU backend on the same adapter, in one run;
// an epoch with evaluation (AUC over the whole validation and test splits) in shadertrain; and
// PyTorch on this machine's CPU, measured by bench/torch/multitask_step.py where Debian's
// python3-torch is installed (a dev-only tool). The data is the census split shadertrain embeds.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { buildTabular } from '../src/data/tabular/build.ts';
import { readTabularFiles } from '../src/data/tabular/files-node.ts';
import type { Gpu } from '../src/gpu/context.ts';
import { median } from '../src/gpu/timing.ts';
import { MULTITASK_DEFAULTS, type MultitaskConfig } from '../src/models/multitask/config.ts';
import { MultitaskTrainer } from '../src/models/multitask/trainer.ts';
import { settle } from '#gpu-platform';
import type { BenchResult } from './harness.ts';
import { createTfjsMmoe } from './tfjs/multitask.ts';

/** The targets: at least 20x TF.js per step; an epoch with evaluation near PyTorch CPU's 0.8 s. */
const TARGET = { stepRatio: 20 };
const EPOCHS_TIMED = 2;
const CONFIG: MultitaskConfig = { ...MULTITASK_DEFAULTS, model: 'mmoe', dataset: 'census-income' };
const PYTHON = '/usr/bin/python3';

/** PyTorch's step and epoch on the CPU, or why it could not run. */
function pytorch(log: (l: string) => void): { msPerStep: number; epochSeconds: number; threads: number } | string {
  if (!existsSync(PYTHON)) return `no ${PYTHON}`;
  const r = spawnSync(PYTHON, ['bench/torch/multitask_step.py', '--json'], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return (r.stderr || r.stdout || 'failed').trim().split('\n').pop() ?? 'failed';
  const j = JSON.parse(r.stdout.trim().split('\n').pop() as string) as { ms_per_step_mean: number; seconds_total: number; threads: number; torch: string };
  log(`  PyTorch ${j.torch} CPU (${j.threads} threads): ${j.ms_per_step_mean.toFixed(2)} ms/step, ${j.seconds_total.toFixed(2)} s for 78 steps (no evaluation)`);
  return { msPerStep: j.ms_per_step_mean, epochSeconds: j.seconds_total, threads: j.threads };
}

export async function multitaskResults(gpu: Gpu, reps: number, log: (l: string) => void): Promise<BenchResult[]> {
  const data = buildTabular(CONFIG, readTabularFiles('census-income', undefined));
  log(`  data: ${data.source}, ${data.train.count} training rows, ${data.categorical.length} categorical and ${data.continuous.length} continuous columns`);

  const trainer = await MultitaskTrainer.create(gpu, data, CONFIG);
  let ours: { msPerStep: number; epochSeconds: number; evalMs: number; steps: number; dispatches: number };
  const feed = trainer.compiled.batch();
  try {
    await trainer.train(1);
    await trainer.evaluate();
    const runs: { epoch: number; train: number; evalMs: number }[] = [];
    for (let i = 0; i < EPOCHS_TIMED; i++) {
      const t0 = performance.now();
      const tr = await trainer.train(1);
      const ev = await trainer.evaluate();
      runs.push({ epoch: (performance.now() - t0) / 1000, train: tr.ms, evalMs: ev.ms });
    }
    ours = {
      msPerStep: median(runs.map((r) => r.train)) / trainer.stepsPerEpoch,
      epochSeconds: median(runs.map((r) => r.epoch)),
      evalMs: median(runs.map((r) => r.evalMs)),
      steps: trainer.stepsPerEpoch,
      dispatches: trainer.compiled.step.dispatchCount,
    };
    log(`  shadertrain: ${ours.steps} steps per epoch, ${ours.dispatches} dispatches per step, ${ours.msPerStep.toFixed(2)} ms/step; epoch with evaluation ${ours.epochSeconds.toFixed(2)} s (evaluation ${ours.evalMs.toFixed(0)} ms); medians of ${EPOCHS_TIMED} epochs`);
  } finally {
    trainer.destroy();
  }

  // TF.js on the same batch shape, its rows taken from the census table; slow, so few steps.
  const tfSteps = Math.max(1, Math.min(reps, 3));
  let tfMs: number | null = null;
  let tfError: string | undefined;
  try {
    const T = data.tasks.length;
    const rows = { categorical: feed.categorical as Uint32Array, continuous: feed.continuous as Float32Array, labels: new Float32Array(CONFIG.batchSize * T) };
    for (let t = 0; t < T; t++) {
      const y = feed[`label.${data.tasks[t].name}`] as Float32Array;
      for (let i = 0; i < CONFIG.batchSize; i++) rows.labels[i * T + t] = y[i];
    }
    const vocab = data.categorical.map((c) => c.vocab.length);
    const tfm = await createTfjsMmoe({ vocab, continuous: data.continuous.length, experts: CONFIG.experts, expertUnits: CONFIG.expertUnits, towerUnits: CONFIG.towerUnits, tasks: T, batch: CONFIG.batchSize, lr: CONFIG.lr }, rows);
    try {
      log(`  TF.js: ${tfm.backendInfo}`);
      await tfm.step();
      const t0 = performance.now();
      for (let i = 0; i < tfSteps; i++) await settle(tfm.step());
      tfMs = (performance.now() - t0) / tfSteps;
      log(`  TF.js WebGPU: ${tfMs.toFixed(0)} ms/step over ${tfSteps} steps`);
    } finally {
      tfm.dispose();
    }
  } catch (err) {
    tfError = (err as Error).message;
    log(`  TF.js WebGPU could not run: ${tfError}`);
  }
  const torch = pytorch(log);

  const step = 'MMoE train step on census (batch 1024, 2 tasks, Adam)';
  const epoch = 'MMoE census epoch with evaluation';
  const rows: BenchResult[] = [];
  rows.push({ case: step, impl: 'TF.js WebGPU', median_ms: tfMs ?? NaN, ok: tfMs !== null, speedup: tfMs === null ? null : 1, ...(tfError ? { error: tfError } : {}) });
  const ratio = tfMs === null ? null : tfMs / ours.msPerStep;
  const stepOk = ratio === null || ratio >= TARGET.stepRatio;
  rows.push({ case: step, impl: 'shadertrain', median_ms: ours.msPerStep, ok: stepOk, speedup: ratio, ...(stepOk ? {} : { error: `below the ${TARGET.stepRatio}x target` }) });
  if (typeof torch === 'string') {
    log(`  PyTorch CPU could not run: ${torch}`);
    rows.push({ case: step, impl: 'PyTorch CPU', median_ms: NaN, ok: false, speedup: null, error: torch });
  } else {
    rows.push({ case: step, impl: `PyTorch CPU (${torch.threads} threads, measured)`, median_ms: torch.msPerStep, ok: true, speedup: tfMs === null ? null : tfMs / torch.msPerStep });
    rows.push({ case: epoch, impl: 'PyTorch CPU, 78 steps without evaluation (measured)', median_ms: torch.epochSeconds * 1000, ok: true, speedup: 1 });
  }
  rows.push({ case: epoch, impl: 'shadertrain (measured, with evaluation)', median_ms: ours.epochSeconds * 1000, ok: true, speedup: typeof torch === 'string' ? null : torch.epochSeconds / ours.epochSeconds });
  return rows;
}
