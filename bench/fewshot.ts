// `npm run bench -- fewshot`: one training step of CS330 homework 1's network (N=5, K=1,
// 128 episodes, H=128) in shadertrain (compiled step, the first layer as an embedding bag, and
// as a dense matmul) and in TF.js's WebGPU backend on the same adapter, in one run: wall time
// per step and the ratio to TF.js. PyTorch on this machine's CPU is quoted, not run (no Python
// here): the figures measured when the task was set. Then where shadertrain's step goes, per
// kernel, from GPU timestamps around each dispatch.
//
// Comparing two versions: each shadertrain row prints the matmul variants the autotuner picked.
// Two runs compare the same kernels only when those picks agree: a version whose matmul WGSL
// differs tunes again (its cache key holds a digest of the source) and, under load, may pick
// others. Give each version its own SHADERTRAIN_CACHE holding the same picks, and alternate runs.
import { loadOmniglot } from '../src/data/omniglot-node.ts';
import type { OmniglotSet } from '../src/data/omniglot-set.ts';
import type { Gpu } from '../src/gpu/context.ts';
import { GpuTimer } from '../src/gpu/timing.ts';
import { encodeDispatch } from '../src/kernels/kernel.ts';
import { FEWSHOT_DEFAULTS } from '../src/models/fewshot/config.ts';
import type { InputPath } from '../src/models/fewshot/model.ts';
import { syntheticOmniglot } from '../src/models/fewshot/synthetic.ts';
import { FewshotTrainer } from '../src/models/fewshot/trainer.ts';
import type { BenchResult } from './harness.ts';
import { createTfjsFewshot } from './tfjs/fewshot.ts';

/** PyTorch 2 (CPU, 2 threads) per training step on this machine, measured when the task was set. */
const PYTORCH_CPU_MS: Record<number, number> = { 5: 23, 2: 11 };
/** shadertrain must beat TF.js by this much. */
const TARGET = 20;
/** TF.js takes seconds per step on a software adapter: fewer timed steps. */
const TFJS_REPS = 3;

interface Shape {
  numClasses: number;
  numShot: number;
  batch: number;
  hidden: number;
}

const caseName = (s: Shape): string => `few-shot train step N=${s.numClasses} K=${s.numShot} B=${s.batch} H=${s.hidden}`;

async function omniglot(log: (l: string) => void): Promise<OmniglotSet> {
  try {
    return await loadOmniglot({});
  } catch (err) {
    log(`  (the embedded Omniglot set did not load: ${(err as Error).message}; timing on a synthetic set with 9% ink)`);
    return syntheticOmniglot({ characters: 1623 });
  }
}

async function shadertrain(gpu: Gpu, set: OmniglotSet, s: Shape, input: InputPath, reps: number, log: (l: string) => void, breakdown: boolean): Promise<number> {
  const trainer = await FewshotTrainer.create(gpu, set, { ...FEWSHOT_DEFAULTS, numClasses: s.numClasses, numShot: s.numShot, metaBatch: s.batch, hidden: s.hidden, input });
  try {
    const { step, optimizer, sample } = trainer.compiled;
    const episodes = sample(); // one fixed batch, as TF.js's
    const once = (): void => {
      step.feed({ episodes });
      optimizer.prepare(step);
      step.run();
    };
    for (let i = 0; i < 3; i++) once();
    await gpu.idle();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) once();
    await gpu.idle();
    const ms = (performance.now() - t0) / reps;
    log(`  shadertrain ${input}: ${ms.toFixed(1)} ms/step; ${trainer.stats.dispatches} dispatches per step; matmul variants: ${matmulPicks(step)}`);
    if (breakdown) await kernelBreakdown(gpu, trainer, log);
    return ms;
  } finally {
    trainer.destroy();
  }
}

/** How many of the step's dispatches use each matmul variant, e.g. "sg4 ×21, sg4w ×13, reg4x4v ×9". */
function matmulPicks(step: FewshotTrainer['compiled']['step']): string {
  const counts = new Map<string, number>();
  for (const p of step.program) {
    for (const d of p.dispatches) {
      const v = /^matmul\.(\w+)/.exec(d.label)?.[1];
      if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
    }
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([v, n]) => `${v} ×${n}`).join(', ');
}

/** GPU time per (op, kernel) from timestamps around each dispatch alone, less an empty pass's time. */
async function kernelBreakdown(gpu: Gpu, trainer: FewshotTrainer, log: (l: string) => void): Promise<void> {
  if (!gpu.report.timestamps) {
    log('  (no timestamp queries on this adapter: no per-kernel breakdown)');
    return;
  }
  const timer = new GpuTimer(gpu);
  try {
    const { step } = trainer.compiled;
    const empty = (await timer.stats(() => undefined, 9, 2)).median_ms;
    const whole = await timer.stats((pass) => step.program.forEach((p) => p.dispatches.forEach((d) => encodeDispatch(pass, d))), 3, 1);
    const rows = new Map<string, { ms: number; count: number }>();
    for (const p of step.program) {
      for (const d of p.dispatches) {
        const ms = Math.max(0, (await timer.stats((pass) => encodeDispatch(pass, d), 2, 0)).min_ms - empty);
        const key = `${p.node.op.name} / ${d.label.replace(/\[t=\d+\]/, '')}`;
        const r = rows.get(key) ?? { ms: 0, count: 0 };
        r.ms += ms;
        r.count++;
        rows.set(key, r);
      }
    }
    const total = [...rows.values()].reduce((a, r) => a + r.ms, 0);
    log(`  where one step goes (GPU timestamps, each dispatch alone, less ${empty.toFixed(2)} ms of an empty pass; the step as one pass: ${whole.median_ms.toFixed(1)} ms):`);
    for (const [k, r] of [...rows].sort((a, b) => b[1].ms - a[1].ms)) {
      if (r.ms < 0.005 * total) continue;
      log(`    ${r.ms.toFixed(1).padStart(7)} ms ${((100 * r.ms) / total).toFixed(0).padStart(3)}%  ${String(r.count).padStart(3)}×  ${k}`);
    }
  } finally {
    timer.destroy();
  }
}

async function tfjs(s: Shape, reps: number, log: (l: string) => void): Promise<number> {
  const model = await createTfjsFewshot({ numClasses: s.numClasses, numShot: s.numShot, batch: s.batch, hidden: s.hidden });
  try {
    await model.step(); // compiles TF.js's shaders
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await model.step();
    const ms = (performance.now() - t0) / reps;
    log(`  TF.js: ${ms.toFixed(0)} ms/step over ${reps} steps (${model.backendInfo})`);
    return ms;
  } finally {
    model.dispose();
  }
}

export async function fewshotResults(gpu: Gpu, reps: number, log: (l: string) => void): Promise<BenchResult[]> {
  const set = await omniglot(log);
  const rows: BenchResult[] = [];
  const main: Shape = { numClasses: 5, numShot: 1, batch: 128, hidden: 128 };
  const c = caseName(main);
  log(`${c}:`);
  const ours = await shadertrain(gpu, set, main, 'bags', reps, log, true);
  const dense = await shadertrain(gpu, set, main, 'dense', Math.min(reps, 5), log, false);
  const tf = await tfjs(main, Math.min(reps, TFJS_REPS), log);
  const ratio = tf / ours;
  const fast = ratio >= TARGET;
  log(`  shadertrain (embedding bag) is ${ratio.toFixed(1)}× faster than TF.js on this adapter (target ${TARGET}×)${fast ? '' : ': BELOW TARGET'}`);
  rows.push({ case: c, impl: 'TF.js webgpu (tfjs-core ops, tf.train.adam)', median_ms: tf, ok: true, speedup: 1 });
  rows.push({ case: c, impl: 'shadertrain, embedding bag', median_ms: ours, ok: fast, speedup: ratio, ...(fast ? {} : { error: `${ratio.toFixed(1)}× is below the ${TARGET}× target` }) });
  rows.push({ case: c, impl: 'shadertrain, dense input', median_ms: dense, ok: true, speedup: tf / dense });
  log(`  PyTorch CPU (2 threads, quoted): ${PYTORCH_CPU_MS[5]} ms/step; shadertrain takes ${(ours / PYTORCH_CPU_MS[5]).toFixed(1)}× as long`);
  const small: Shape = { ...main, numClasses: 2 };
  log(`${caseName(small)}:`);
  const ours2 = await shadertrain(gpu, set, small, 'bags', reps, log, false);
  log(`  PyTorch CPU (2 threads, quoted): ${PYTORCH_CPU_MS[2]} ms/step; shadertrain takes ${(ours2 / PYTORCH_CPU_MS[2]).toFixed(1)}× as long`);
  rows.push({ case: caseName(small), impl: 'shadertrain, embedding bag', median_ms: ours2, ok: true, speedup: null });
  return rows;
}
