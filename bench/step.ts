// `npm run bench -- step`: one training step of an MLP and of an LSTM model, recorded once
// and replayed as one command buffer, against op-by-op mode (one submit per op) on the
// same compiled graph. Wall time per step over many steps, the queue drained at the end.
import type { Gpu } from '../src/gpu/context.ts';
import { gradients } from '../src/graph/autodiff.ts';
import { CompiledStep } from '../src/graph/compile.ts';
import { Graph } from '../src/graph/graph.ts';
import { mseLoss } from '../src/graph/ops/loss.ts';
import { lstm } from '../src/graph/ops/lstm.ts';
import { dense } from '../src/graph/ops/matmul.ts';
import { AdamOptimizer } from '../src/optim/adam.ts';
import { Rng } from '../src/random.ts';
import type { BenchResult } from './harness.ts';

interface Model {
  name: string;
  g: Graph;
  opt: AdamOptimizer;
  feed: Record<string, Float32Array>;
}

function uniform(rng: Rng, n: number, s: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.uniform() * 2 - 1) * s;
  return a;
}

function mlp(): Model {
  const rng = new Rng(1);
  const [B, I, H, O] = [256, 96, 64, 1];
  const g = new Graph();
  const x = g.input('x', [B, I], 'f32');
  const y = g.input('y', [B, O], 'f32');
  const h = dense(g, x, g.param('W1', [I, H], uniform(rng, I * H, 0.1)), g.param('b1', [H], uniform(rng, H, 0.1)), 'relu');
  const params = g.params;
  const out = dense(g, h, g.param('W2', [H, O], uniform(rng, H * O, 0.1)), g.param('b2', [O], uniform(rng, O, 0.1)));
  const loss = mseLoss(g, out, y);
  const opt = new AdamOptimizer({ lr: 1e-3 }).attach(g, gradients(g, [loss], [...params, ...g.params.slice(2)]));
  return { name: `MLP ${I}-${H}-${O}, batch ${B}`, g, opt, feed: { x: uniform(rng, B * I, 1), y: uniform(rng, B * O, 1) } };
}

function lstmModel(): Model {
  const rng = new Rng(2);
  const [T, B, I, H] = [6, 32, 40, 32];
  const g = new Graph();
  const x = g.input('x', [T * B, I], 'f32');
  const y = g.input('y', [T * B * H], 'f32');
  const wih = g.param('W_ih', [I, 4 * H], uniform(rng, I * 4 * H, 0.1));
  const whh = g.param('W_hh', [H, 4 * H], uniform(rng, H * 4 * H, 0.1));
  const b = g.param('b', [4 * H], new Float32Array(4 * H));
  const loss = mseLoss(g, lstm(g, x, wih, whh, b, { steps: T, batch: B, hidden: H }), y);
  const opt = new AdamOptimizer({ lr: 1e-3 }).attach(g, gradients(g, [loss], [wih, whh, b]));
  return { name: `LSTM T=${T} B=${B} in=${I} H=${H}`, g, opt, feed: { x: uniform(rng, T * B * I, 1), y: uniform(rng, T * B * H, 0.5) } };
}

async function timeSteps(gpu: Gpu, step: CompiledStep, m: Model, eager: boolean, steps: number): Promise<number> {
  const once = async (): Promise<void> => {
    step.feed(m.feed);
    m.opt.prepare(step);
    if (eager) await step.runEager();
    else step.run();
  };
  for (let i = 0; i < 3; i++) await once();
  await gpu.idle();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await once();
  await gpu.idle();
  return (performance.now() - t0) / steps;
}

export async function stepResults(gpu: Gpu, reps: number, log: (l: string) => void): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  for (const make of [mlp, lstmModel]) {
    const m = make();
    const step = await CompiledStep.create(gpu, m.g);
    try {
      log(`  ${m.name}: ${step.dispatchCount} dispatches in ${m.g.nodes.length} ops; values ${step.memory.peakBytes} B planned of ${step.memory.totalBytes} B`);
      const opByOp = await timeSteps(gpu, step, m, true, reps);
      const compiled = await timeSteps(gpu, step, m, false, reps);
      rows.push({ case: `train step ${m.name}`, impl: 'op-by-op (one submit per op)', median_ms: opByOp, ok: true, speedup: 1 });
      rows.push({ case: `train step ${m.name}`, impl: 'compiled (one command buffer)', median_ms: compiled, ok: true, speedup: opByOp / compiled });
    } finally {
      step.destroy();
    }
  }
  return rows;
}
